//! Replies and errors as HTTP responses: the one place an `ApiError`
//! becomes a status, headers and a body.

use lambda_http::Body;
use serde::Serialize;

use super::Response;
use crate::error::ApiError;

pub(crate) fn json_response(status: http::StatusCode, body: &impl Serialize) -> Response {
    let json = serde_json::to_string(body).unwrap_or_else(|_| r#"{"code":"internal_error"}"#.to_owned());
    http::Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/json; charset=utf-8")
        // Replies carry tokens and per-user state: no cache may keep them.
        .header(http::header::CACHE_CONTROL, "no-store")
        .body(Body::Text(json))
        .expect("static headers are valid")
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after: Option<u64>,
}

pub fn error_response(error: &ApiError) -> Response {
    let status = error.status();
    if status.is_server_error() {
        // The chain goes to the log, never to the client.
        let mut chain = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            chain.push_str(": ");
            chain.push_str(&cause.to_string());
            source = cause.source();
        }
        tracing::error!(code = error.code(), error = %chain, "request failed");
    }
    let retry_after = match error {
        ApiError::SmsTooFrequent { retry_after } => Some(*retry_after),
        _ => None,
    };
    let body = ErrorBody { code: error.code(), message: error.message(), field: error.field(), retry_after };
    let mut response = json_response(status, &body);
    let headers = response.headers_mut();
    if let Some(seconds) = retry_after {
        headers.insert(http::header::RETRY_AFTER, seconds.into());
    }
    if let ApiError::MethodNotAllowed { allow } = error {
        headers.insert(http::header::ALLOW, http::HeaderValue::from_static(allow));
    }
    response
}
