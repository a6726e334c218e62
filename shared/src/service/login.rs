//! Log in with a username (the mobile) and password.
//!
//! An unknown user, a malformed username and a wrong password give the same
//! answer after the same argon2 work, so neither the reply nor its timing
//! tells whether a number is registered.

//!
//! Each try counts first against the client address and then against the
//! username's failure window; a right password gives the failure back.
//! Once the window holds `LOGIN_MAX_FAILURES`, every try for that username
//! is refused, the right password too, until the window ends; an unknown
//! username locks the same way, and a locked one is refused before any
//! hashing, so neither the answer nor its timing tells them apart.

use std::net::IpAddr;

use secrecy::{ExposeSecret, SecretString};

use crate::auth::{HashError, PasswordHasher, TokenError, TokenSigner};
use crate::clock::Clock;
use crate::domain::Mobile;
use crate::service::limits::{self, Limiter, Taken};
use crate::service::Session;
use crate::store::{LimitStore, StoreError, UserStore};

/// What the user typed. `mobile` is `None` when the username is not a mobile
/// number: such a user cannot exist, and is answered like any unknown one.
#[derive(Debug)]
pub struct Credentials {
    /// The normalised mobile when it is one, else the username as typed.
    pub username: String,
    pub mobile: Option<Mobile>,
    pub password: SecretString,
    pub client_ip: Option<IpAddr>,
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("unknown user or wrong password")]
    InvalidCredentials,
    #[error("too many failed logins for this username")]
    Locked { retry_after: u64 },
    #[error("too many attempts from this address")]
    TooManyAttempts { retry_after: u64 },
    #[error("could not verify the password")]
    Hashing(#[from] HashError),
    #[error("could not issue a token")]
    Token(#[from] TokenError),
    #[error("could not read the user")]
    Store(#[from] StoreError),
}

pub struct Login<'a> {
    pub users: &'a dyn UserStore,
    pub counters: &'a dyn LimitStore,
    pub limiter: Limiter<'a>,
    pub password_hasher: &'a PasswordHasher,
    pub token_signer: &'a TokenSigner,
    pub clock: &'a dyn Clock,
}

impl Login<'_> {
    pub async fn run(&self, credentials: &Credentials) -> Result<Session, LoginError> {
        let now = self.clock.now();
        let per_ip = self.limiter.auth_per_ip(credentials.client_ip, now);
        if let Taken::Refused { retry_after } = limits::take(self.counters, per_ip.as_ref(), now).await? {
            return Err(LoginError::TooManyAttempts { retry_after });
        }
        let lock = self.limiter.login_failures(&credentials.username, now);
        let failures = match limits::take(self.counters, lock.as_ref(), now).await? {
            Taken::Refused { retry_after } => return Err(LoginError::Locked { retry_after }),
            taken => taken,
        };
        let user = match &credentials.mobile {
            Some(mobile) => self.users.find_user(mobile).await?,
            None => None,
        };
        let stored_hash = user.as_ref().map(|u| u.password_hash.as_str());
        let verified = self.password_hasher.verify(credentials.password.expose_secret(), stored_hash).await?;
        let Some(user) = user.filter(|_| verified) else {
            // The failure that fills the window already says so.
            return match (failures, &lock) {
                (Taken::Counted(n), Some(lock)) if n >= lock.limit => {
                    Err(LoginError::Locked { retry_after: limits::retry_after(lock, now) })
                }
                _ => Err(LoginError::InvalidCredentials),
            };
        };
        limits::give_back(self.counters, lock.as_ref()).await?;
        Ok(Session::issue(self.token_signer, &user, now)?)
    }
}
