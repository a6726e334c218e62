//! Log in with a username (the mobile) and password.
//!
//! An unknown user, a malformed username and a wrong password give the same
//! answer after the same argon2 work, so neither the reply nor its timing
//! tells whether a number is registered.

use crate::domain::Mobile;
use crate::error::ApiError;
use crate::service::Session;
use crate::state::State;

pub async fn login(state: &State, username: &str, password: &str) -> Result<Session, ApiError> {
    let user = match Mobile::parse(username) {
        Ok(mobile) => state.store.find_user(&mobile).await?,
        Err(_) => None,
    };
    let stored_hash = user.as_ref().map(|u| u.password_hash.as_str());
    if !state.passwords.verify(password, stored_hash).await? {
        return Err(ApiError::InvalidCredentials);
    }
    let user = user.ok_or(ApiError::InvalidCredentials)?;
    Session::issue(state, &user)
}
