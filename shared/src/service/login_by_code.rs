//! Log in with the code texted to a registered number (验证码登录).
//!
//! The code is consumed exactly once: of concurrent logins with one code,
//! one gets the token.

use std::net::IpAddr;

use crate::auth::{TokenError, TokenSigner};
use crate::clock::Clock;
use crate::domain::{Mobile, Purpose, SmsCode};
use crate::service::code_check::{CodeCheck, CodeError};
use crate::service::Session;
use crate::store::{ConsumeCodeError, StoreError, UserStore};

#[derive(Debug)]
pub struct CodeLogin {
    pub mobile: Mobile,
    pub sms_code: SmsCode,
    pub client_ip: Option<IpAddr>,
}

#[derive(Debug, thiserror::Error)]
pub enum LoginByCodeError {
    #[error("no user has this number")]
    MobileNotRegistered,
    #[error("the code was refused")]
    Code(#[from] CodeError),
    #[error("could not issue a token")]
    Token(#[from] TokenError),
    #[error("could not read the user or consume the code")]
    Store(#[from] StoreError),
}

pub struct LoginByCode<'a> {
    pub users: &'a dyn UserStore,
    pub codes: CodeCheck<'a>,
    pub token_signer: &'a TokenSigner,
    pub clock: &'a dyn Clock,
}

impl LoginByCode<'_> {
    pub async fn run(&self, input: &CodeLogin) -> Result<Session, LoginByCodeError> {
        let now = self.clock.now();
        self.codes.gate(input.client_ip, now).await?;
        let user = self.users.find_user(&input.mobile).await?.ok_or(LoginByCodeError::MobileNotRegistered)?;
        let matched = self.codes.verify(&input.mobile, &input.sms_code, Purpose::Login, now).await?;
        self.codes.store.consume_code(&input.mobile, matched.claim()).await.map_err(|e| match e {
            ConsumeCodeError::CodeGone => LoginByCodeError::Code(CodeError::Invalid),
            ConsumeCodeError::NotRegistered => LoginByCodeError::MobileNotRegistered,
            ConsumeCodeError::Store(e) => LoginByCodeError::Store(e),
        })?;
        Ok(Session::issue(self.token_signer, &user, now)?)
    }
}
