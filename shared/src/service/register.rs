//! Create a user from a mobile, a password and the code texted to that mobile.
//!
//! Exactly once: consuming the code and creating the user are one
//! transaction, so of many concurrent attempts one succeeds and the rest
//! find either the code consumed or the mobile taken.

use std::net::IpAddr;

use crate::auth::{HashError, PasswordHasher, TokenError, TokenSigner};
use crate::clock::Clock;
use crate::domain::{Mobile, Password, Purpose, SmsCode, User, UserId};
use crate::service::code_check::{CodeCheck, CodeError};
use crate::service::Session;
use crate::store::{CreateUserError, StoreError, UserStore};

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
    #[error("the code was refused")]
    Code(#[from] CodeError),
    #[error("could not hash the password")]
    Hashing(#[from] HashError),
    #[error("could not issue a token")]
    Token(#[from] TokenError),
    #[error("could not read or write the account")]
    Store(#[from] StoreError),
}

pub struct Register<'a> {
    pub users: &'a dyn UserStore,
    pub codes: CodeCheck<'a>,
    pub password_hasher: &'a PasswordHasher,
    pub token_signer: &'a TokenSigner,
    pub clock: &'a dyn Clock,
}

impl Register<'_> {
    pub async fn run(&self, input: Registration) -> Result<Session, RegisterError> {
        let now = self.clock.now();
        self.codes.gate(input.client_ip, now).await?;
        // A registered number never burns attempts.
        if self.users.find_user(&input.mobile).await?.is_some() {
            return Err(RegisterError::MobileRegistered);
        }
        let matched = self.codes.verify(&input.mobile, &input.sms_code, Purpose::Register, now).await?;
        // Hash only once the code is known good: argon2 is the expensive step.
        let user = User {
            id: UserId::new_random(),
            mobile: input.mobile,
            password_hash: self.password_hasher.hash(&input.password).await?,
            created_at: now,
            token_version: 0,
        };
        self.codes.store.create_user(&user, matched.claim()).await.map_err(|e| match e {
            CreateUserError::Registered => RegisterError::MobileRegistered,
            CreateUserError::CodeGone => RegisterError::Code(CodeError::Invalid),
            CreateUserError::Store(e) => RegisterError::Store(e),
        })?;
        tracing::info!(user_id = %user.id.0, "user registered");
        Ok(Session::issue(self.token_signer, &user, now)?)
    }
}
