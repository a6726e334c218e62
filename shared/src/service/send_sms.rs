//! Text a fresh code to an unregistered number, at most once per resend interval.
//!
//! The code is recorded first (one atomic write that also checks the number
//! is unregistered and the interval has passed), then sent. If the provider
//! fails, the record is deleted again: the user may retry at once, and a
//! code nobody received cannot be used.

use serde::Serialize;

use crate::domain::{Mobile, SmsCode};
use crate::error::ApiError;
use crate::state::State;
use crate::store::{BeginSmsError, PendingCode};

#[derive(Debug, Serialize)]
pub struct SmsSent {
    pub message: &'static str,
    /// Seconds the code stays valid.
    pub expires_in: i64,
    /// Seconds before another code may be requested.
    pub resend_after: i64,
}

fn random_send_id() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    hex::encode(bytes)
}

pub async fn send_sms(state: &State, mobile: &Mobile) -> Result<SmsSent, ApiError> {
    let policy = state.settings.code;
    let now = state.clock.now();
    let code = SmsCode::generate(policy.length);
    let pending = PendingCode {
        send_id: random_send_id(),
        code_hash: state.codes.hash(mobile, &code),
        code_expires_at: now + policy.ttl_seconds,
        resend_at: now + policy.resend_interval_seconds,
    };
    state.store.begin_sms(mobile, &pending, now).await.map_err(|e| match e {
        BeginSmsError::Registered => ApiError::MobileRegistered,
        BeginSmsError::TooFrequent { resend_at } => {
            ApiError::SmsTooFrequent { retry_after: (resend_at - now).max(1) as u64 }
        }
        BeginSmsError::Store(e) => ApiError::ServiceUnavailable(e),
    })?;

    let sent =
        tokio::time::timeout(state.settings.sms_timeout, state.sms.send_code(mobile, &code, policy.ttl_minutes()))
            .await
            .unwrap_or(Err(crate::sms::SmsError::Timeout(state.settings.sms_timeout)));
    if let Err(failure) = sent {
        if let Err(e) = state.store.release_sms(mobile, &pending.send_id).await {
            // The code stays unusable to anyone who did not receive it; only
            // the interval stays in force until it ends.
            tracing::error!(mobile = %mobile.masked(), error = %e, "could not release the interval after a failed send");
        }
        return Err(ApiError::SmsSendFailed(failure));
    }
    Ok(SmsSent {
        message: "短信发送成功",
        expires_in: policy.ttl_seconds,
        resend_after: policy.resend_interval_seconds,
    })
}
