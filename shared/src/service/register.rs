//! Create a user from a mobile, a password and the code texted to that mobile.
//!
//! Exactly once: consuming the code and creating the user are one
//! transaction, so of many concurrent attempts one succeeds and the rest
//! find either the code consumed or the mobile taken.

use crate::domain::{Mobile, Password, SmsCode, User, UserId};
use crate::error::ApiError;
use crate::service::Session;
use crate::state::State;
use crate::store::{CodeClaim, CreateUserError};

#[derive(Debug)]
pub struct Registration {
    pub mobile: Mobile,
    pub password: Password,
    pub sms_code: SmsCode,
}

pub async fn register(state: &State, input: Registration) -> Result<Session, ApiError> {
    let max_attempts = state.settings.code.max_attempts;
    let now = state.clock.now();
    if state.store.find_user(&input.mobile).await?.is_some() {
        return Err(ApiError::MobileRegistered);
    }
    let stored = state.store.find_code(&input.mobile, now).await?.ok_or(ApiError::InvalidSmsCode)?;
    if stored.attempts >= max_attempts {
        return Err(ApiError::SmsCodeAttemptsExceeded);
    }
    let claim = CodeClaim { send_id: &stored.send_id, max_attempts, now };
    if !state.codes.matches(&input.mobile, &input.sms_code, &stored.code_hash) {
        // The try that uses up the last attempt already says the code is burnt.
        return match state.store.record_failed_attempt(&input.mobile, claim).await? {
            Some(attempts) if attempts >= max_attempts => Err(ApiError::SmsCodeAttemptsExceeded),
            _ => Err(ApiError::InvalidSmsCode),
        };
    }
    // Hash only once the code is known good: argon2 is the expensive step.
    let user = User {
        id: UserId::new_random(),
        mobile: input.mobile,
        password_hash: state.passwords.hash(&input.password).await?,
        created_at: now,
    };
    state.store.create_user(&user, claim).await.map_err(|e| match e {
        CreateUserError::Registered => ApiError::MobileRegistered,
        CreateUserError::CodeGone => ApiError::InvalidSmsCode,
        CreateUserError::Store(e) => ApiError::ServiceUnavailable(e),
    })?;
    tracing::info!(mobile = %user.mobile.masked(), user_id = %user.id.0, "user registered");
    Session::issue(state, &user)
}
