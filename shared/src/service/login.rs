//! Log in with a username (the mobile) and password.
//!
//! An unknown user, a malformed username and a wrong password give the same
//! answer after the same argon2 work, so neither the reply nor its timing
//! tells whether a number is registered.

use secrecy::{ExposeSecret, SecretString};

use crate::auth::{HashError, PasswordHasher, TokenError, TokenSigner};
use crate::clock::Clock;
use crate::domain::Mobile;
use crate::service::Session;
use crate::store::{StoreError, UserStore};

/// What the user typed. `mobile` is `None` when the username is not a mobile
/// number: such a user cannot exist, and is answered like any unknown one.
#[derive(Debug)]
pub struct Credentials {
    pub mobile: Option<Mobile>,
    pub password: SecretString,
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("unknown user or wrong password")]
    InvalidCredentials,
    #[error("could not verify the password")]
    Hashing(#[from] HashError),
    #[error("could not issue a token")]
    Token(#[from] TokenError),
    #[error("could not read the user")]
    Store(#[from] StoreError),
}

pub struct Login<'a> {
    pub users: &'a dyn UserStore,
    pub password_hasher: &'a PasswordHasher,
    pub token_signer: &'a TokenSigner,
    pub clock: &'a dyn Clock,
}

impl Login<'_> {
    pub async fn run(&self, credentials: &Credentials) -> Result<Session, LoginError> {
        let user = match &credentials.mobile {
            Some(mobile) => self.users.find_user(mobile).await?,
            None => None,
        };
        let stored_hash = user.as_ref().map(|u| u.password_hash.as_str());
        if !self.password_hasher.verify(credentials.password.expose_secret(), stored_hash).await? {
            return Err(LoginError::InvalidCredentials);
        }
        let user = user.ok_or(LoginError::InvalidCredentials)?;
        Ok(Session::issue(self.token_signer, &user, self.clock.now())?)
    }
}
