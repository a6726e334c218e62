//! A matched request parsed into a typed call: each variant holds the
//! domain values its use case takes, so nothing downstream sees raw input.
//! The mobile, once parsed, is recorded (masked) on the request's span.

use std::net::IpAddr;

use lambda_http::Request;
use secrecy::SecretString;

use super::body::{Fields, RequestError};
use super::routes::{Endpoint, Input, Matched};
use crate::auth::InvalidToken;
use crate::captcha::CaptchaAnswer;
use crate::config::{Captcha, Settings};
use crate::domain::{InvalidInput, Mobile, Password, Purpose, SmsCode};
use crate::service::{CodeLogin, Credentials, PasswordReset, Registration, SmsRequest};

#[derive(Debug)]
pub(crate) enum Call {
    CheckMobile(Mobile),
    SendSms(SmsRequest),
    Register(Registration),
    Login(Credentials),
    LoginByCode(CodeLogin),
    ResetPassword(PasswordReset),
    Me(Result<SecretString, InvalidToken>),
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
    /// `GET /user/sms/{mobile}` while `SMS_SEND_BY_GET` is off.
    #[error("sending by GET is off")]
    SendByGetOff,
}

fn mobile(raw: &str) -> Result<Mobile, InvalidInput> {
    let mobile = Mobile::parse(raw)?;
    tracing::Span::current().record("mobile", mobile.masked_field().as_str());
    Ok(mobile)
}

impl Call {
    /// Validation order: missing or mistyped fields first (in the order the
    /// use case lists them), then each value in that order.
    pub fn parse(
        matched: Matched,
        req: &Request,
        settings: &Settings,
        client_ip: Option<IpAddr>,
    ) -> Result<Self, ParseError> {
        // A GET must not spend money: link previewers and `<img>` tags fire it.
        if matched.route.endpoint == Endpoint::SendSms
            && matches!(matched.input, Input::PathMobile(_))
            && !settings.sms_send_by_get
        {
            return Err(ParseError::SendByGetOff);
        }
        let fields = Fields::read(matched.input, req.headers(), req.body())?;
        Ok(match matched.route.endpoint {
            Endpoint::CheckMobile => Self::CheckMobile(mobile(fields.required_str("mobile")?)?),
            Endpoint::SendSms => {
                let raw_mobile = fields.required_str("mobile")?;
                let purpose = fields.optional_str("purpose")?;
                let captcha = captcha(&fields, &settings.captcha)?;
                let mobile = mobile(raw_mobile)?;
                let purpose = purpose.map_or(Ok(Purpose::Register), Purpose::parse)?;
                Self::SendSms(SmsRequest { mobile, purpose, captcha, client_ip })
            }
            Endpoint::Register => {
                let (mobile, password, sms_code) = new_password_and_code(&fields, settings)?;
                Self::Register(Registration { mobile, password, sms_code, client_ip })
            }
            Endpoint::ResetPassword => {
                let (mobile, password, sms_code) = new_password_and_code(&fields, settings)?;
                Self::ResetPassword(PasswordReset { mobile, password, sms_code, client_ip })
            }
            Endpoint::LoginByCode => {
                let (raw_mobile, sms_code) = (fields.required_str("mobile")?, fields.required_str("sms_code")?);
                let mobile = mobile(raw_mobile)?;
                let sms_code = SmsCode::parse(sms_code, settings.code.length)?;
                Self::LoginByCode(CodeLogin { mobile, sms_code, client_ip })
            }
            Endpoint::Me => Self::Me(bearer(req.headers())),
            Endpoint::Login => {
                // Both are read, so that a mistyped one is refused even when the other is there.
                let (username, mobile_field) = (fields.optional_str("username")?, fields.optional_str("mobile")?);
                let username = username.or(mobile_field).ok_or(RequestError::Missing("username"))?;
                let password = SecretString::from(fields.required_str("password")?);
                // A username that is no mobile cannot exist: the use case
                // answers it like any unknown user, after the same work.
                let mobile = mobile(username).ok();
                let username = mobile.as_ref().map_or_else(|| username.trim().to_owned(), |m| m.as_str().to_owned());
                Self::Login(Credentials { username, mobile, password, client_ip })
            }
        })
    }
}

/// Register and reset: a mobile, a password (twice, optionally) and a code.
fn new_password_and_code(fields: &Fields, settings: &Settings) -> Result<(Mobile, Password, SmsCode), ParseError> {
    let (raw_mobile, password, sms_code) =
        (fields.required_str("mobile")?, fields.required_str("password")?, fields.required_str("sms_code")?);
    let password2 = fields.optional_str("password2")?;
    let mobile = mobile(raw_mobile)?;
    let password = Password::parse(password, settings.password)?;
    if password2.is_some_and(|p2| p2 != password.expose()) {
        return Err(ParseError::PasswordMismatch);
    }
    let sms_code = SmsCode::parse(sms_code, settings.code.length)?;
    Ok((mobile, password, sms_code))
}

/// The token of `Authorization: Bearer <token>`; its absence is the use
/// case's refusal (401), not a malformed request.
fn bearer(headers: &http::HeaderMap) -> Result<SecretString, InvalidToken> {
    let value = headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).ok_or(InvalidToken::Missing)?;
    let (scheme, token) = value.trim().split_once(' ').ok_or(InvalidToken::Missing)?;
    match scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() {
        true => Ok(SecretString::from(token.trim())),
        false => Err(InvalidToken::Missing),
    }
}

const GEETEST_FIELDS: [&str; 4] = ["lot_number", "captcha_output", "pass_token", "gen_time"];

/// The captcha answer in the configured provider's fields; `None` when none
/// was sent (the use case decides whether one is required).
fn captcha(fields: &Fields, provider: &Captcha) -> Result<Option<CaptchaAnswer>, RequestError> {
    Ok(match provider {
        // Not checked, but not taken blindly either: a captcha that is sent
        // has one provider's shape.
        Captcha::None => {
            if fields.optional_strings("captcha", ["token"]).is_err() {
                fields.optional_strings("captcha", GEETEST_FIELDS)?;
            }
            None
        }
        Captcha::Geetest { .. } => fields.optional_strings("captcha", GEETEST_FIELDS)?.map(
            |[lot_number, captcha_output, pass_token, gen_time]| CaptchaAnswer::Geetest {
                lot_number,
                captcha_output,
                pass_token,
                gen_time,
            },
        ),
        Captcha::Turnstile { .. } => {
            fields.optional_strings("captcha", ["token"])?.map(|[token]| CaptchaAnswer::Turnstile { token })
        }
    })
}
