//! The one place where refusals become HTTP: for each error enum, one match
//! gives the status, the stable `code`, the message for people and the
//! input field at fault. Adding a refusal means adding its arm here.

use std::borrow::Cow;

use http::StatusCode as S;

use super::body::RequestError;
use super::call::ParseError;
use super::routes::RouteError;
use crate::domain::InvalidInput;
use crate::service::{CheckMobileError, LoginError, RegisterError, SendSmsError};

/// An error answer, before it is serialised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub status: S,
    /// Stable, snake_case: clients branch on this, never on the message.
    pub code: &'static str,
    /// For people; never carries internal detail of a 5xx.
    pub message: Cow<'static, str>,
    pub field: Option<&'static str>,
    /// Seconds to wait, for refusals that end by themselves.
    pub retry_after: Option<u64>,
    /// The `Allow` header of a 405.
    pub allow: Option<String>,
}

impl Problem {
    fn new(status: S, code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self { status, code, message: message.into(), field: None, retry_after: None, allow: None }
    }

    fn field(mut self, field: &'static str) -> Self {
        self.field = Some(field);
        self
    }

    fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    fn unavailable() -> Self {
        Self::new(S::SERVICE_UNAVAILABLE, "service_unavailable", "服务暂时不可用，请稍后重试")
    }

    fn internal() -> Self {
        Self::new(S::INTERNAL_SERVER_ERROR, "internal_error", "服务器内部错误")
    }
}

/// An error that has an HTTP answer. 5xx answers are logged, with the
/// error's whole chain, where the response is made.
pub trait IntoProblem: std::error::Error {
    fn problem(&self) -> Problem;
}

impl IntoProblem for RouteError {
    fn problem(&self) -> Problem {
        match self {
            Self::NotFound => Problem::new(S::NOT_FOUND, "not_found", "请求的接口不存在"),
            Self::MethodNotAllowed { allow } => Problem {
                allow: Some(allow.clone()),
                ..Problem::new(S::METHOD_NOT_ALLOWED, "method_not_allowed", "请求方法不被允许")
            },
        }
    }
}

impl IntoProblem for RequestError {
    fn problem(&self) -> Problem {
        let invalid = |detail: String| Problem::new(S::BAD_REQUEST, "invalid_request", format!("请求格式有误：{detail}"));
        let problem = match self {
            Self::NotJson(e) => invalid(format!("JSON格式错误（{e}）")),
            Self::NotAnObject => invalid("请求体必须是JSON对象".into()),
            Self::Missing(field) => invalid(format!("缺少字段 {field}")),
            Self::NotAString(field) => invalid(format!("字段 {field} 必须是字符串")),
            Self::TooLarge { limit } => {
                Problem::new(S::PAYLOAD_TOO_LARGE, "payload_too_large", format!("请求体不能超过{}KB", limit / 1024))
            }
        };
        Problem { field: self.field(), ..problem }
    }
}

impl IntoProblem for InvalidInput {
    fn problem(&self) -> Problem {
        match self {
            Self::Mobile => Problem::new(S::BAD_REQUEST, "invalid_mobile", "手机号码格式有误").field("mobile"),
            Self::Password { min, max } => {
                Problem::new(S::BAD_REQUEST, "invalid_password", format!("密码长度必须在{min}到{max}个字符之间"))
                    .field("password")
            }
            Self::SmsCode { .. } => invalid_sms_code(),
        }
    }
}

impl IntoProblem for ParseError {
    fn problem(&self) -> Problem {
        match self {
            Self::Request(e) => e.problem(),
            Self::Invalid(e) => e.problem(),
            Self::PasswordMismatch => {
                Problem::new(S::BAD_REQUEST, "password_mismatch", "两次输入的密码不一致").field("password2")
            }
        }
    }
}

fn mobile_registered() -> Problem {
    Problem::new(S::CONFLICT, "mobile_registered", "手机号已经被注册过").field("mobile")
}

fn invalid_sms_code() -> Problem {
    Problem::new(S::BAD_REQUEST, "invalid_sms_code", "验证码错误或已过期").field("sms_code")
}

impl IntoProblem for CheckMobileError {
    fn problem(&self) -> Problem {
        match self {
            Self::MobileRegistered => mobile_registered(),
            Self::Store(_) => Problem::unavailable(),
        }
    }
}

impl IntoProblem for SendSmsError {
    fn problem(&self) -> Problem {
        match self {
            Self::MobileRegistered => mobile_registered(),
            Self::TooFrequent { retry_after } => Problem::new(
                S::TOO_MANY_REQUESTS,
                "sms_too_frequent",
                format!("短信发送过于频繁，请{retry_after}秒后再试"),
            )
            .retry_after(*retry_after),
            Self::Provider(_) => Problem::new(S::BAD_GATEWAY, "sms_send_failed", "短信发送失败，请稍后重试"),
            Self::Store(_) => Problem::unavailable(),
        }
    }
}

impl IntoProblem for RegisterError {
    fn problem(&self) -> Problem {
        match self {
            Self::MobileRegistered => mobile_registered(),
            Self::InvalidCode => invalid_sms_code(),
            Self::AttemptsExceeded => Problem::new(
                S::TOO_MANY_REQUESTS,
                "sms_code_attempts_exceeded",
                "验证码错误次数过多，请重新获取验证码",
            )
            .field("sms_code"),
            Self::Hashing(_) | Self::Token(_) => Problem::internal(),
            Self::Store(_) => Problem::unavailable(),
        }
    }
}

impl IntoProblem for LoginError {
    fn problem(&self) -> Problem {
        match self {
            Self::InvalidCredentials => Problem::new(S::UNAUTHORIZED, "invalid_credentials", "用户名或密码错误"),
            Self::Hashing(_) | Self::Token(_) => Problem::internal(),
            Self::Store(_) => Problem::unavailable(),
        }
    }
}

impl IntoProblem for crate::panics::HandlerPanicked {
    fn problem(&self) -> Problem {
        Problem::internal()
    }
}
