//! Checking a code texted to a number, the same way for every use case that
//! takes one (register, log in by code, reset the password).
//!
//! Each try counts first against the client address (the counter every
//! route that checks a code or a password shares), then against the
//! number's daily count of code checks, before the code is compared: so
//! concurrent guesses cannot overshoot either limit. A right code gives its
//! daily count back. A code sent for another purpose does not match.

use std::net::IpAddr;

use crate::auth::CodeHasher;
use crate::domain::{Mobile, Purpose, SmsCode};
use crate::service::limits::{self, Limiter, Taken};
use crate::store::{CodeClaim, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum CodeError {
    #[error("too many attempts from this address")]
    TooManyAttempts { retry_after: u64 },
    #[error("no live code for this purpose matches")]
    Invalid,
    #[error("too many wrong codes: the code is burnt")]
    AttemptsExceeded,
    #[error("too many wrong codes for this number today")]
    FailuresExceeded { retry_after: u64 },
    #[error("could not read or count the code")]
    Store(#[from] StoreError),
}

pub struct CodeCheck<'a> {
    pub store: &'a dyn Store,
    pub code_hasher: &'a CodeHasher,
    pub limiter: Limiter<'a>,
    pub max_attempts: u32,
}

/// A code that matched: the claim under which it may be consumed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    pub send_id: String,
    pub max_attempts: u32,
    pub now: i64,
}

impl Matched {
    pub fn claim(&self) -> CodeClaim<'_> {
        CodeClaim { send_id: &self.send_id, max_attempts: self.max_attempts, now: self.now }
    }
}

impl CodeCheck<'_> {
    /// Counts the try against the client address.
    pub async fn gate(&self, client_ip: Option<IpAddr>, now: i64) -> Result<(), CodeError> {
        let per_ip = self.limiter.auth_per_ip(client_ip, now);
        match limits::take(self.store, per_ip.as_ref(), now).await? {
            Taken::Refused { retry_after } => Err(CodeError::TooManyAttempts { retry_after }),
            _ => Ok(()),
        }
    }

    /// Whether `code` is the live code sent to `mobile` for `purpose`.
    pub async fn verify(
        &self,
        mobile: &Mobile,
        code: &SmsCode,
        purpose: Purpose,
        now: i64,
    ) -> Result<Matched, CodeError> {
        let failures = self.limiter.code_failures(mobile, now);
        if let Taken::Refused { retry_after } = limits::take(self.store, failures.as_ref(), now).await? {
            return Err(CodeError::FailuresExceeded { retry_after });
        }
        let max_attempts = self.max_attempts;
        let stored = self.store.find_code(mobile, now).await?.filter(|c| c.purpose == purpose);
        let stored = stored.ok_or(CodeError::Invalid)?;
        if stored.attempts >= max_attempts {
            return Err(CodeError::AttemptsExceeded);
        }
        let matched = Matched { send_id: stored.send_id, max_attempts, now };
        if !self.code_hasher.matches(mobile, code, &stored.code_hash) {
            // The try that uses up the last attempt already says the code is burnt.
            return match self.store.record_failed_attempt(mobile, matched.claim()).await? {
                Some(attempts) if attempts >= max_attempts => Err(CodeError::AttemptsExceeded),
                _ => Err(CodeError::Invalid),
            };
        }
        limits::give_back(self.store, failures.as_ref()).await?;
        Ok(matched)
    }
}
