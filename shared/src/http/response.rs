//! Response bodies: the success replies of each route, and errors through
//! their `Problem`. Every response of the API is made here.

use http::HeaderValue;
use lambda_http::Body;
use secrecy::ExposeSecret;
use serde::Serialize;

use super::problem::IntoProblem;
use super::Response;
use crate::domain::{Mobile, User};
use crate::service::{Session, SmsSent};

pub(crate) fn json_response(status: http::StatusCode, body: &impl Serialize) -> Response {
    let json = serde_json::to_string(body).unwrap_or_else(|_| r#"{"code":"internal_error"}"#.to_owned());
    http::Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"))
        // Replies carry tokens and per-user state: no cache may keep them.
        .header(http::header::CACHE_CONTROL, HeaderValue::from_static("no-store"))
        .body(Body::Text(json))
        .expect("static headers are valid")
}

pub(crate) fn mobile_free(mobile: &Mobile) -> Response {
    #[derive(Serialize)]
    struct Free<'a> {
        mobile: &'a str,
        registered: bool,
        message: &'static str,
    }
    json_response(http::StatusCode::OK, &Free { mobile: mobile.as_str(), registered: false, message: "ok" })
}

pub(crate) fn sms_sent(sent: SmsSent) -> Response {
    #[derive(Serialize)]
    struct Sent {
        message: &'static str,
        expires_in: i64,
        resend_after: i64,
    }
    let body = Sent { message: "短信发送成功", expires_in: sent.expires_in, resend_after: sent.resend_after };
    json_response(http::StatusCode::OK, &body)
}

pub(crate) fn session(status: http::StatusCode, session: &Session) -> Response {
    #[derive(Serialize)]
    struct LoggedIn<'a> {
        id: &'a str,
        username: &'a str,
        token: &'a str,
        expires_in: i64,
    }
    let body = LoggedIn {
        id: &session.user_id.0,
        username: &session.username,
        token: session.token.expose_secret(),
        expires_in: session.expires_in,
    };
    json_response(status, &body)
}

pub(crate) fn me(user: &User) -> Response {
    #[derive(Serialize)]
    struct Me<'a> {
        id: &'a str,
        username: &'a str,
        /// Masked: a page shows whose account it is without the whole number.
        mobile: String,
    }
    json_response(http::StatusCode::OK, &Me { id: &user.id.0, username: user.username(), mobile: user.mobile.masked() })
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after: Option<u64>,
}

/// The answer to any refusal or failure. A fault is logged here, once, with
/// the error's whole chain; the client gets only the code and message.
pub fn error_response<E: IntoProblem>(error: &E) -> Response {
    let problem = error.problem();
    if problem.fault {
        tracing::error!(code = problem.code, error = %crate::telemetry::error_chain(error), "request failed");
    }
    let body = ErrorBody {
        code: problem.code,
        message: &problem.message,
        field: problem.field,
        retry_after: problem.retry_after,
    };
    let mut response = json_response(problem.status, &body);
    let headers = response.headers_mut();
    if let Some(seconds) = problem.retry_after {
        headers.insert(http::header::RETRY_AFTER, seconds.into());
    }
    if let Some(allow) = problem.allow.and_then(|a| http::HeaderValue::try_from(a).ok()) {
        headers.insert(http::header::ALLOW, allow);
    }
    response
}
