//! The one place where refusals become HTTP: for each error enum, one match
//! gives the status, the stable `code`, the message for people and the
//! input field at fault. Adding a refusal means adding its arm here.

use std::borrow::Cow;

use http::StatusCode as S;

use super::body::RequestError;
use super::call::ParseError;
use super::routes::RouteError;
use crate::domain::InvalidInput;
use crate::service::code_check::CodeError;
use crate::service::{
    CheckMobileError, LoginByCodeError, LoginError, MeError, RegisterError, ResetPasswordError, SendSmsError,
};

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
    /// A failure of ours or of a provider (not a refusal): logged, with the
    /// error's whole chain, where the response is made.
    pub fault: bool,
}

impl Problem {
    fn new(status: S, code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self { status, code, message: message.into(), field: None, retry_after: None, allow: None, fault: false }
    }

    fn fault(status: S, code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self { fault: true, ..Self::new(status, code, message) }
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
        Self::fault(S::SERVICE_UNAVAILABLE, "service_unavailable", "服务暂时不可用，请稍后重试")
    }

    fn internal() -> Self {
        Self::fault(S::INTERNAL_SERVER_ERROR, "internal_error", "服务器内部错误")
    }

    fn too_many(code: &'static str, message: impl Into<Cow<'static, str>>, retry_after: u64) -> Self {
        Self::new(S::TOO_MANY_REQUESTS, code, message).retry_after(retry_after)
    }
}

/// An error that has an HTTP answer. Faults are logged, with the error's
/// whole chain, where the response is made.
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
        let invalid =
            |detail: String| Problem::new(S::BAD_REQUEST, "invalid_request", format!("请求格式有误：{detail}"));
        let problem = match self {
            Self::NotJson(e) => invalid(format!("JSON格式错误（{e}）")),
            Self::NotAnObject => invalid("请求体必须是JSON对象".into()),
            Self::NotBase64 => invalid("请求体不是有效的base64编码".into()),
            Self::Missing(field) => invalid(format!("缺少字段 {field}")),
            Self::NotAString(field) => invalid(format!("字段 {field} 必须是字符串")),
            Self::BadObject(field) => invalid(format!("字段 {field} 必须是含所需字符串字段的对象")),
            Self::UnsupportedMediaType => Problem::new(
                S::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "请求体必须以 Content-Type: application/json 发送",
            ),
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
            Self::Purpose => Problem::new(
                S::BAD_REQUEST,
                "invalid_request",
                "请求格式有误：purpose 必须是 register、login 或 reset_password",
            )
            .field("purpose"),
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
            Self::SendByGetOff => RouteError::MethodNotAllowed { allow: "POST".into() }.problem(),
        }
    }
}

fn mobile_registered() -> Problem {
    Problem::new(S::CONFLICT, "mobile_registered", "手机号已经被注册过").field("mobile")
}

fn mobile_not_registered() -> Problem {
    Problem::new(S::NOT_FOUND, "mobile_not_registered", "该手机号尚未注册").field("mobile")
}

fn invalid_sms_code() -> Problem {
    Problem::new(S::BAD_REQUEST, "invalid_sms_code", "验证码错误或已过期").field("sms_code")
}

fn code_attempts_exceeded() -> Problem {
    Problem::new(S::TOO_MANY_REQUESTS, "sms_code_attempts_exceeded", "验证码错误次数过多，请重新获取验证码")
        .field("sms_code")
}

fn too_many_attempts(retry_after: u64) -> Problem {
    Problem::too_many("too_many_attempts", format!("尝试次数过多，请{}后再试", wait(retry_after)), retry_after)
}

/// A wait for people: seconds, minutes or hours.
fn wait(seconds: u64) -> String {
    match seconds {
        0..=119 => format!("{seconds}秒"),
        120..=7_199 => format!("{}分钟", seconds.div_ceil(60)),
        _ => format!("{}小时", seconds.div_ceil(3_600)),
    }
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
            Self::CaptchaRequired => {
                Problem::new(S::BAD_REQUEST, "captcha_required", "请先完成人机验证").field("captcha")
            }
            Self::CaptchaFailed(_) => {
                Problem::new(S::BAD_REQUEST, "captcha_failed", "人机验证未通过，请重试").field("captcha")
            }
            Self::CaptchaUnavailable(_) => {
                Problem::fault(S::SERVICE_UNAVAILABLE, "captcha_unavailable", "人机验证服务暂时不可用，请稍后再试")
            }
            Self::MobileRegistered => mobile_registered(),
            Self::MobileNotRegistered => mobile_not_registered(),
            Self::TooFrequent { retry_after } => Problem::too_many(
                "sms_too_frequent",
                format!("短信发送过于频繁，请{retry_after}秒后再试"),
                *retry_after,
            ),
            Self::DailyLimit { retry_after } => Problem::too_many(
                "sms_daily_limit",
                format!("该手机号今日获取验证码次数已达上限，请{}后再试", wait(*retry_after)),
                *retry_after,
            )
            .field("mobile"),
            Self::IpLimit { retry_after } => Problem::too_many(
                "sms_ip_limit",
                format!("当前网络获取验证码过于频繁，请{}后再试", wait(*retry_after)),
                *retry_after,
            ),
            // Not a fault: the one alert line is the use case's, not one per request.
            Self::BudgetExhausted { retry_after } => Problem {
                retry_after: Some(*retry_after),
                ..Problem::new(S::SERVICE_UNAVAILABLE, "sms_budget_exhausted", "短信服务繁忙，请稍后再试")
            },
            Self::Provider(_) => Problem::fault(S::BAD_GATEWAY, "sms_send_failed", "短信发送失败，请稍后重试"),
            Self::Store(_) => Problem::unavailable(),
        }
    }
}

impl IntoProblem for CodeError {
    fn problem(&self) -> Problem {
        match self {
            Self::TooManyAttempts { retry_after } => too_many_attempts(*retry_after),
            Self::Invalid => invalid_sms_code(),
            Self::AttemptsExceeded => code_attempts_exceeded(),
            Self::FailuresExceeded { retry_after } => Problem {
                message: format!("验证码错误次数过多，请{}后再试", wait(*retry_after)).into(),
                ..code_attempts_exceeded().retry_after(*retry_after)
            },
            Self::Store(_) => Problem::unavailable(),
        }
    }
}

impl IntoProblem for RegisterError {
    fn problem(&self) -> Problem {
        match self {
            Self::MobileRegistered => mobile_registered(),
            Self::Code(e) => e.problem(),
            Self::Hashing(_) | Self::Token(_) => Problem::internal(),
            Self::Store(_) => Problem::unavailable(),
        }
    }
}

impl IntoProblem for LoginByCodeError {
    fn problem(&self) -> Problem {
        match self {
            Self::MobileNotRegistered => mobile_not_registered(),
            Self::Code(e) => e.problem(),
            Self::Token(_) => Problem::internal(),
            Self::Store(_) => Problem::unavailable(),
        }
    }
}

impl IntoProblem for ResetPasswordError {
    fn problem(&self) -> Problem {
        match self {
            Self::MobileNotRegistered => mobile_not_registered(),
            Self::Code(e) => e.problem(),
            Self::Hashing(_) | Self::Token(_) => Problem::internal(),
            Self::Store(_) => Problem::unavailable(),
        }
    }
}

impl IntoProblem for MeError {
    fn problem(&self) -> Problem {
        match self {
            // One answer for every reason: the client only needs to log in again.
            Self::InvalidToken(_) => Problem::new(S::UNAUTHORIZED, "invalid_token", "登录已失效，请重新登录"),
            Self::Store(_) => Problem::unavailable(),
        }
    }
}

impl IntoProblem for LoginError {
    fn problem(&self) -> Problem {
        match self {
            Self::InvalidCredentials => Problem::new(S::UNAUTHORIZED, "invalid_credentials", "用户名或密码错误"),
            Self::Locked { retry_after } => Problem::too_many(
                "login_locked",
                format!("密码错误次数过多，请{}后再试，或使用短信验证码登录", wait(*retry_after)),
                *retry_after,
            ),
            Self::TooManyAttempts { retry_after } => too_many_attempts(*retry_after),
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
