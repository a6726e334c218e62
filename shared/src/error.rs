//! The one error type every route answers with, and its one mapping to
//! an HTTP status, a stable `code`, a message for people and the input field at fault.

use crate::domain::InvalidInput;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("invalid request: {detail}")]
    InvalidRequest { detail: String, field: Option<&'static str> },
    #[error("invalid mobile")]
    InvalidMobile,
    #[error("invalid password length")]
    InvalidPassword { min: usize, max: usize },
    #[error("passwords differ")]
    PasswordMismatch,
    #[error("invalid SMS code")]
    InvalidSmsCode,
    #[error("mobile already registered")]
    MobileRegistered,
    #[error("SMS requested again within the resend interval")]
    SmsTooFrequent { retry_after: u64 },
    #[error("too many wrong SMS codes")]
    SmsCodeAttemptsExceeded,
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("SMS provider failed")]
    SmsSendFailed(#[source] crate::sms::SmsError),
    #[error("storage unavailable")]
    ServiceUnavailable(#[source] crate::store::StoreError),
    #[error("internal error: {0}")]
    Internal(String),
    #[error("no such route")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed { allow: &'static str },
    #[error("request body too large")]
    PayloadTooLarge { limit: usize },
}

impl ApiError {
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode as S;
        match self {
            Self::InvalidRequest { .. }
            | Self::InvalidMobile
            | Self::InvalidPassword { .. }
            | Self::PasswordMismatch
            | Self::InvalidSmsCode => S::BAD_REQUEST,
            Self::InvalidCredentials => S::UNAUTHORIZED,
            Self::NotFound => S::NOT_FOUND,
            Self::MethodNotAllowed { .. } => S::METHOD_NOT_ALLOWED,
            Self::MobileRegistered => S::CONFLICT,
            Self::PayloadTooLarge { .. } => S::PAYLOAD_TOO_LARGE,
            Self::SmsTooFrequent { .. } | Self::SmsCodeAttemptsExceeded => S::TOO_MANY_REQUESTS,
            Self::Internal(_) => S::INTERNAL_SERVER_ERROR,
            Self::SmsSendFailed(_) => S::BAD_GATEWAY,
            Self::ServiceUnavailable(_) => S::SERVICE_UNAVAILABLE,
        }
    }

    /// Stable, snake_case: clients branch on this, never on the message.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest { .. } => "invalid_request",
            Self::InvalidMobile => "invalid_mobile",
            Self::InvalidPassword { .. } => "invalid_password",
            Self::PasswordMismatch => "password_mismatch",
            Self::InvalidSmsCode => "invalid_sms_code",
            Self::MobileRegistered => "mobile_registered",
            Self::SmsTooFrequent { .. } => "sms_too_frequent",
            Self::SmsCodeAttemptsExceeded => "sms_code_attempts_exceeded",
            Self::InvalidCredentials => "invalid_credentials",
            Self::SmsSendFailed(_) => "sms_send_failed",
            Self::ServiceUnavailable(_) => "service_unavailable",
            Self::Internal(_) => "internal_error",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::PayloadTooLarge { .. } => "payload_too_large",
        }
    }

    /// For people; never carries internal detail of a 5xx.
    pub fn message(&self) -> String {
        match self {
            Self::InvalidRequest { detail, .. } => format!("请求格式有误：{detail}"),
            Self::InvalidMobile => "手机号码格式有误".into(),
            Self::InvalidPassword { min, max } => format!("密码长度必须在{min}到{max}个字符之间"),
            Self::PasswordMismatch => "两次输入的密码不一致".into(),
            Self::InvalidSmsCode => "验证码错误或已过期".into(),
            Self::MobileRegistered => "手机号已经被注册过".into(),
            Self::SmsTooFrequent { retry_after } => {
                format!("短信发送过于频繁，请{retry_after}秒后再试")
            }
            Self::SmsCodeAttemptsExceeded => "验证码错误次数过多，请重新获取验证码".into(),
            Self::InvalidCredentials => "用户名或密码错误".into(),
            Self::SmsSendFailed(_) => "短信发送失败，请稍后重试".into(),
            Self::ServiceUnavailable(_) => "服务暂时不可用，请稍后重试".into(),
            Self::Internal(_) => "服务器内部错误".into(),
            Self::NotFound => "请求的接口不存在".into(),
            Self::MethodNotAllowed { .. } => "请求方法不被允许".into(),
            Self::PayloadTooLarge { limit } => format!("请求体不能超过{}KB", limit / 1024),
        }
    }

    /// The input field at fault, when one is.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::InvalidRequest { field, .. } => *field,
            Self::InvalidMobile | Self::MobileRegistered => Some("mobile"),
            Self::InvalidPassword { .. } => Some("password"),
            Self::PasswordMismatch => Some("password2"),
            Self::InvalidSmsCode | Self::SmsCodeAttemptsExceeded => Some("sms_code"),
            _ => None,
        }
    }
}

impl From<InvalidInput> for ApiError {
    fn from(e: InvalidInput) -> Self {
        match e {
            InvalidInput::Mobile => Self::InvalidMobile,
            InvalidInput::Password { min, max } => Self::InvalidPassword { min, max },
            InvalidInput::SmsCode { .. } => Self::InvalidSmsCode,
        }
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        Self::ServiceUnavailable(e)
    }
}
