//! Log in with a username (the mobile) and password.
//!
//! An unknown user, a malformed username and a wrong password give the same
//! answer after the same argon2 work, so neither the reply nor its timing
//! tells whether a number is registered.

use crate::domain::Mobile;
use crate::error::ApiError;
use crate::service::Session;
use crate::state::State;

/// `mobile` is `None` when the username given is not a mobile number.
pub async fn login(state: &State, mobile: Option<&Mobile>, password: &str) -> Result<Session, ApiError> {
    let user = match mobile {
        Some(mobile) => state.store.find_user(mobile).await?,
        None => None,
    };
    let stored_hash = user.as_ref().map(|u| u.password_hash.as_str());
    if !state.passwords.verify(password, stored_hash).await? {
        return Err(ApiError::InvalidCredentials);
    }
    let user = user.ok_or(ApiError::InvalidCredentials)?;
    Session::issue(state, &user)
}
