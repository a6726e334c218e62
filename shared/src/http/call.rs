//! A matched request parsed into a typed call: each variant holds the
//! domain values its use case takes, so nothing downstream sees raw input.
//! The mobile, once parsed, is recorded (masked) on the request's span.

use lambda_http::Body;
use secrecy::SecretString;

use super::body::{Fields, RequestError};
use super::routes::{Endpoint, Matched};
use crate::domain::{InvalidInput, Mobile, Password, SmsCode};
use crate::service::{Credentials, Registration};
use crate::config::Settings;

#[derive(Debug)]
pub(crate) enum Call {
    CheckMobile(Mobile),
    SendSms(Mobile),
    Register(Registration),
    Login(Credentials),
}

/// Why a request was refused before any use case ran.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error(transparent)]
    Request(#[from] RequestError),
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    #[error("the two passwords differ")]
    PasswordMismatch,
}

fn mobile(raw: &str) -> Result<Mobile, InvalidInput> {
    let mobile = Mobile::parse(raw)?;
    tracing::Span::current().record("mobile", mobile.masked());
    Ok(mobile)
}

impl Call {
    /// Validation order: missing or mistyped fields first (in the order the
    /// use case lists them), then each value in that order.
    pub fn parse(matched: Matched, body: &Body, settings: &Settings) -> Result<Self, ParseError> {
        let fields = Fields::read(matched.input, body)?;
        Ok(match matched.route.endpoint {
            Endpoint::CheckMobile => Self::CheckMobile(mobile(fields.required_str("mobile")?)?),
            Endpoint::SendSms => Self::SendSms(mobile(fields.required_str("mobile")?)?),
            Endpoint::Register => {
                let (raw_mobile, password, sms_code) =
                    (fields.required_str("mobile")?, fields.required_str("password")?, fields.required_str("sms_code")?);
                let password2 = fields.optional_str("password2")?;
                let mobile = mobile(raw_mobile)?;
                let password = Password::parse(password, settings.password)?;
                if password2.is_some_and(|p2| p2 != password.expose()) {
                    return Err(ParseError::PasswordMismatch);
                }
                let sms_code = SmsCode::parse(sms_code, settings.code.length)?;
                Self::Register(Registration { mobile, password, sms_code })
            }
            Endpoint::Login => {
                let username = match fields.optional_str("username")? {
                    Some(username) => username,
                    None => fields.optional_str("mobile")?.ok_or(RequestError::Missing("username"))?,
                };
                let password = SecretString::from(fields.required_str("password")?);
                // A username that is no mobile cannot exist: the use case
                // answers it like any unknown user, after the same work.
                Self::Login(Credentials { mobile: mobile(username).ok(), password })
            }
        })
    }
}
