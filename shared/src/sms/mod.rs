//! Sending the code: one trait, a backend per provider, chosen by `SMS_BACKEND`.

#[cfg(feature = "cloopen")]
mod cloopen;
mod log;
#[cfg(feature = "sns")]
mod sns;

#[cfg(feature = "cloopen")]
pub use cloopen::CloopenSender;
pub use log::LogSender;
#[cfg(feature = "sns")]
pub use sns::SnsSender;

use crate::domain::{Mobile, Purpose, SmsCode};

#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    /// The provider answered and refused, with its own status code.
    #[error("provider refused the message: {code} {message}")]
    Rejected { code: String, message: String },
    #[error("provider unreachable or answered nonsense")]
    Transport(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("provider did not answer within {0:?}")]
    Timeout(std::time::Duration),
}

#[async_trait::async_trait]
pub trait SmsSender: Send + Sync {
    /// Texts `code`, valid for `ttl_minutes`, to `mobile`; the message names `purpose`.
    async fn send_code(
        &self,
        mobile: &Mobile,
        code: &SmsCode,
        ttl_minutes: i64,
        purpose: Purpose,
    ) -> Result<(), SmsError>;
}

/// The backend of functions that never text: configuration makes sure the
/// send-sms function never runs with it.
pub struct NoSms;

#[async_trait::async_trait]
impl SmsSender for NoSms {
    async fn send_code(&self, _: &Mobile, _: &SmsCode, _: i64, _: Purpose) -> Result<(), SmsError> {
        Err(SmsError::Transport("no SMS backend is configured (SMS_BACKEND=none)".into()))
    }
}

/// The text for backends that send free text (SNS, log); Cloopen fills its
/// own approved template (one per purpose) with the same two values.
pub fn message_text(code: &SmsCode, ttl_minutes: i64, purpose: Purpose) -> String {
    let what = match purpose {
        Purpose::Register => "注册",
        Purpose::Login => "登录",
        Purpose::ResetPassword => "重置密码",
    };
    format!("您的{what}验证码是{}，{ttl_minutes}分钟内有效，请勿泄露给他人。", code.expose())
}
