//! Create a user from a mobile, a password and the code texted to that mobile.
//!
//! Exactly once: consuming the code and creating the user are one
//! transaction, so of many concurrent attempts one succeeds and the rest
//! find either the code consumed or the mobile taken.

use std::net::IpAddr;

use crate::auth::{CodeHasher, HashError, PasswordHasher, TokenError, TokenSigner};
use crate::clock::Clock;
use crate::domain::{Mobile, Password, SmsCode, User, UserId};
use crate::service::limits::{self, Limiter, Taken};
use crate::service::Session;
use crate::store::{CodeClaim, CreateUserError, Store, StoreError};

#[derive(Debug)]
pub struct Registration {
    pub mobile: Mobile,
    pub password: Password,
    pub sms_code: SmsCode,
    pub client_ip: Option<IpAddr>,
}

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("mobile already registered")]
    MobileRegistered,
    #[error("no live code matches")]
    InvalidCode,
    #[error("too many wrong codes: the code is burnt")]
    AttemptsExceeded,
    #[error("too many wrong codes for this number today")]
    CodeFailuresExceeded { retry_after: u64 },
    #[error("too many attempts from this address")]
    TooManyAttempts { retry_after: u64 },
    #[error("could not hash the password")]
    Hashing(#[from] HashError),
    #[error("could not issue a token")]
    Token(#[from] TokenError),
    #[error("could not read or write the account")]
    Store(#[from] StoreError),
}

pub struct Register<'a> {
    /// Users, codes and the transaction that joins them.
    pub store: &'a dyn Store,
    pub code_hasher: &'a CodeHasher,
    pub password_hasher: &'a PasswordHasher,
    pub token_signer: &'a TokenSigner,
    pub clock: &'a dyn Clock,
    pub limiter: Limiter<'a>,
    pub max_attempts: u32,
}

impl Register<'_> {
    pub async fn run(&self, input: Registration) -> Result<Session, RegisterError> {
        let max_attempts = self.max_attempts;
        let now = self.clock.now();
        let per_ip = self.limiter.auth_per_ip(input.client_ip, now);
        if let Taken::Refused { retry_after } = limits::take(self.store, per_ip.as_ref(), now).await? {
            return Err(RegisterError::TooManyAttempts { retry_after });
        }
        if self.store.find_user(&input.mobile).await?.is_some() {
            return Err(RegisterError::MobileRegistered);
        }
        // Every check of a code counts against the number's daily limit
        // before it is made, so concurrent guesses cannot overshoot it; a
        // right code gives its count back.
        let failures = self.limiter.code_failures(&input.mobile, now);
        if let Taken::Refused { retry_after } = limits::take(self.store, failures.as_ref(), now).await? {
            return Err(RegisterError::CodeFailuresExceeded { retry_after });
        }
        let stored = self.store.find_code(&input.mobile, now).await?.ok_or(RegisterError::InvalidCode)?;
        if stored.attempts >= max_attempts {
            return Err(RegisterError::AttemptsExceeded);
        }
        let claim = CodeClaim { send_id: &stored.send_id, max_attempts, now };
        if !self.code_hasher.matches(&input.mobile, &input.sms_code, &stored.code_hash) {
            // The try that uses up the last attempt already says the code is burnt.
            return match self.store.record_failed_attempt(&input.mobile, claim).await? {
                Some(attempts) if attempts >= max_attempts => Err(RegisterError::AttemptsExceeded),
                _ => Err(RegisterError::InvalidCode),
            };
        }
        limits::give_back(self.store, failures.as_ref()).await?;
        // Hash only once the code is known good: argon2 is the expensive step.
        let user = User {
            id: UserId::new_random(),
            mobile: input.mobile,
            password_hash: self.password_hasher.hash(&input.password).await?,
            created_at: now,
        };
        self.store.create_user(&user, claim).await.map_err(|e| match e {
            CreateUserError::Registered => RegisterError::MobileRegistered,
            CreateUserError::CodeGone => RegisterError::InvalidCode,
            CreateUserError::Store(e) => RegisterError::Store(e),
        })?;
        tracing::info!(user_id = %user.id.0, "user registered");
        Ok(Session::issue(self.token_signer, &user, now)?)
    }
}
