//! Who does this token belong to? A token is good while its signature, its
//! expiry and its user's token version all hold.

use secrecy::SecretString;

use crate::auth::{InvalidToken, TokenVerifier};
use crate::clock::Clock;
use crate::domain::{Mobile, User};
use crate::store::{StoreError, UserStore};

#[derive(Debug, thiserror::Error)]
pub enum MeError {
    #[error("the token is refused")]
    InvalidToken(#[from] InvalidToken),
    #[error("could not read the user")]
    Store(#[from] StoreError),
}

pub struct Me<'a> {
    pub users: &'a dyn UserStore,
    pub token_verifier: &'a TokenVerifier,
    pub clock: &'a dyn Clock,
}

impl Me<'_> {
    pub async fn run(&self, token: &SecretString) -> Result<User, MeError> {
        let claims = self.token_verifier.verify(token, self.clock.now())?;
        let mobile = Mobile::parse(&claims.username).map_err(|_| InvalidToken::UnknownUser)?;
        let user = self.users.find_user(&mobile).await?.filter(|u| u.id.0 == claims.sub);
        let user = user.ok_or(InvalidToken::UnknownUser)?;
        if user.token_version != claims.ver {
            return Err(InvalidToken::Superseded.into());
        }
        Ok(user)
    }
}
