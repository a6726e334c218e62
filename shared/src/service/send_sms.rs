//! Text a fresh code to an unregistered number, at most once per resend interval.
//!
//! The code is recorded first (one atomic write that also checks the number
//! is unregistered and the interval has passed), then sent. If the provider
//! fails, the record is deleted again: the user may retry at once, and a
//! code nobody received cannot be used.

use std::time::Duration;

use crate::auth::CodeHasher;
use crate::clock::Clock;
use crate::domain::{CodePolicy, Mobile, SmsCode};
use crate::sms::{SmsError, SmsSender};
use crate::store::{BeginSmsError, CodeStore, PendingCode, StoreError};

/// A code is on its way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmsSent {
    /// Seconds the code stays valid.
    pub expires_in: i64,
    /// Seconds before another code may be requested.
    pub resend_after: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum SendSmsError {
    #[error("mobile already registered")]
    MobileRegistered,
    #[error("a code was sent less than the resend interval ago")]
    TooFrequent { retry_after: u64 },
    #[error("the SMS provider failed")]
    Provider(#[source] SmsError),
    #[error("could not record the code")]
    Store(#[from] StoreError),
}

pub struct SendSms<'a> {
    pub codes: &'a dyn CodeStore,
    pub sender: &'a dyn SmsSender,
    pub code_hasher: &'a CodeHasher,
    pub clock: &'a dyn Clock,
    pub policy: CodePolicy,
    /// The provider's whole answer must arrive within this.
    pub provider_timeout: Duration,
}

fn random_send_id() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    hex::encode(bytes)
}

impl SendSms<'_> {
    pub async fn run(&self, mobile: &Mobile) -> Result<SmsSent, SendSmsError> {
        let policy = self.policy;
        let now = self.clock.now();
        let code = SmsCode::generate(policy.length);
        let pending = PendingCode {
            send_id: random_send_id(),
            code_hash: self.code_hasher.hash(mobile, &code),
            code_expires_at: now + policy.ttl_seconds,
            resend_at: now + policy.resend_interval_seconds,
        };
        self.codes.begin_sms(mobile, &pending, now).await.map_err(|e| match e {
            BeginSmsError::Registered => SendSmsError::MobileRegistered,
            BeginSmsError::TooFrequent { resend_at } => {
                SendSmsError::TooFrequent { retry_after: (resend_at - now).max(1) as u64 }
            }
            BeginSmsError::Store(e) => SendSmsError::Store(e),
        })?;

        let timeout = self.provider_timeout;
        let sent = tokio::time::timeout(timeout, self.sender.send_code(mobile, &code, policy.ttl_minutes()))
            .await
            .unwrap_or(Err(SmsError::Timeout(timeout)));
        if let Err(failure) = sent {
            if let Err(e) = self.codes.release_sms(mobile, &pending.send_id).await {
                // The code stays unusable to anyone who did not receive it; only
                // the interval stays in force until it ends.
                tracing::error!(error = %crate::telemetry::error_chain(&e), "could not release the interval after a failed send");
            }
            return Err(SendSmsError::Provider(failure));
        }
        Ok(SmsSent { expires_in: policy.ttl_seconds, resend_after: policy.resend_interval_seconds })
    }
}
