//! Set a new password with the code texted to a registered number, and log in.
//!
//! Consuming the code and changing the password are one transaction, so of
//! concurrent resets with one code exactly one changes the password. The
//! user's token version goes up by one: every token issued before the
//! reset stops working (`GET /user/me` refuses it).

use std::net::IpAddr;

use crate::auth::{HashError, PasswordHasher, TokenError, TokenSigner};
use crate::clock::Clock;
use crate::domain::{Mobile, Password, Purpose, SmsCode, User};
use crate::service::code_check::{CodeCheck, CodeError};
use crate::service::Session;
use crate::store::{ConsumeCodeError, StoreError, UserStore};

#[derive(Debug)]
pub struct PasswordReset {
    pub mobile: Mobile,
    pub password: Password,
    pub sms_code: SmsCode,
    pub client_ip: Option<IpAddr>,
}

#[derive(Debug, thiserror::Error)]
pub enum ResetPasswordError {
    #[error("no user has this number")]
    MobileNotRegistered,
    #[error("the code was refused")]
    Code(#[from] CodeError),
    #[error("could not hash the password")]
    Hashing(#[from] HashError),
    #[error("could not issue a token")]
    Token(#[from] TokenError),
    #[error("could not read or write the account")]
    Store(#[from] StoreError),
}

pub struct ResetPassword<'a> {
    pub users: &'a dyn UserStore,
    pub codes: CodeCheck<'a>,
    pub password_hasher: &'a PasswordHasher,
    pub token_signer: &'a TokenSigner,
    pub clock: &'a dyn Clock,
}

impl ResetPassword<'_> {
    pub async fn run(&self, input: PasswordReset) -> Result<Session, ResetPasswordError> {
        let now = self.clock.now();
        self.codes.gate(input.client_ip, now).await?;
        let user = self.users.find_user(&input.mobile).await?.ok_or(ResetPasswordError::MobileNotRegistered)?;
        let matched = self.codes.verify(&input.mobile, &input.sms_code, Purpose::ResetPassword, now).await?;
        let user = User {
            password_hash: self.password_hasher.hash(&input.password).await?,
            token_version: user.token_version + 1,
            ..user
        };
        self.codes.store.reset_password(&user, matched.claim()).await.map_err(|e| match e {
            ConsumeCodeError::CodeGone => ResetPasswordError::Code(CodeError::Invalid),
            ConsumeCodeError::NotRegistered => ResetPasswordError::MobileNotRegistered,
            ConsumeCodeError::Store(e) => ResetPasswordError::Store(e),
        })?;
        tracing::info!(user_id = %user.id.0, "password reset");
        Ok(Session::issue(self.token_signer, &user, now)?)
    }
}
