//! One module per use case. Each is handed only the capabilities it uses
//! (a store trait, a hasher, a signer, a clock), takes parsed domain values,
//! and answers with a plain result or its own refusal enum. None of them
//! knows HTTP: `crate::http` turns results into responses.

mod check_mobile;
pub mod code_check;
pub mod limits;
mod login;
mod login_by_code;
mod me;
mod register;
mod reset_password;
mod send_sms;

pub use check_mobile::{check_mobile, CheckMobileError};
pub use login::{Credentials, Login, LoginError};
pub use login_by_code::{CodeLogin, LoginByCode, LoginByCodeError};
pub use me::{Me, MeError};
pub use register::{Register, RegisterError, Registration};
pub use reset_password::{PasswordReset, ResetPassword, ResetPasswordError};
pub use send_sms::{SendSms, SendSmsError, SmsRequest, SmsSent};

use secrecy::SecretString;

use crate::auth::{TokenError, TokenSigner};
use crate::domain::{User, UserId};

/// What register and login give: the user is logged in.
#[derive(Debug)]
pub struct Session {
    pub user_id: UserId,
    pub username: String,
    pub token: SecretString,
    pub expires_in: i64,
}

impl Session {
    fn issue(signer: &TokenSigner, user: &User, now: i64) -> Result<Self, TokenError> {
        Ok(Self {
            user_id: user.id.clone(),
            username: user.username().to_owned(),
            token: signer.sign(user, now)?,
            expires_in: signer.ttl_seconds(),
        })
    }
}
