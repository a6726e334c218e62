//! The HTTP layer shared by the Lambda functions and the local API: routing,
//! turning request bodies into domain values, and turning replies and
//! errors into responses. Both entry points call [`handle`]; no route has a
//! second implementation.

mod body;
mod response;
mod routes;

pub use response::error_response;
pub use routes::{Endpoint, Route, ROUTES};

use std::net::IpAddr;
use std::time::Instant;

use lambda_http::{Body, Request, RequestExt as _};

use crate::domain::{Mobile, Password, SmsCode};
use crate::error::ApiError;
use crate::service::{self, Registration};
use crate::state::State;
use body::JsonBody;
use response::json_response;

pub type Response = http::Response<Body>;

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Which routes a caller serves: a Lambda function serves its own, the local API all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    All,
    Only(Endpoint),
}

/// Everything about one request that the access log line reports.
struct AccessLog {
    mobile: Option<String>,
}

/// Answers one request and writes its access log line.
pub async fn handle(state: &State, scope: Scope, client_ip: Option<IpAddr>, req: Request) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let mut log = AccessLog { mobile: None };
    let matched = routes::match_route(&method, &path).and_then(|m| match scope {
        Scope::Only(endpoint) if endpoint != m.endpoint => Err(ApiError::NotFound),
        _ => Ok(m),
    });
    let (route, response) = match matched {
        Ok(m) => (m.route.pattern, dispatch(state, &m, &req, &mut log).await.unwrap_or_else(|e| error_response(&e))),
        Err(e) => ("-", error_response(&e)),
    };
    tracing::info!(
        target: "access",
        method = %method,
        route,
        status = response.status().as_u16(),
        latency_ms = started.elapsed().as_micros() as f64 / 1000.0,
        mobile = log.mobile.as_deref().unwrap_or("-"),
        client_ip = %client_ip.map_or_else(|| "-".to_owned(), |ip| ip.to_string()),
        "request"
    );
    response
}

/// The client address API Gateway saw (`requestContext.http.sourceIp`).
pub fn lambda_source_ip(req: &Request) -> Option<IpAddr> {
    match req.request_context_ref()? {
        lambda_http::request::RequestContext::ApiGatewayV2(ctx) => ctx.http.source_ip.as_deref()?.parse().ok(),
        _ => None,
    }
}

fn parse_mobile(raw: &str, log: &mut AccessLog) -> Result<Mobile, ApiError> {
    let mobile = Mobile::parse(raw)?;
    log.mobile = Some(mobile.masked());
    Ok(mobile)
}

async fn dispatch(state: &State, m: &routes::Match, req: &Request, log: &mut AccessLog) -> Result<Response, ApiError> {
    let body = || JsonBody::parse(req.body());
    match m.endpoint {
        Endpoint::CheckMobile => {
            let mobile = parse_mobile(m.path_mobile.as_deref().unwrap_or_default(), log)?;
            Ok(json_response(http::StatusCode::OK, &service::check_mobile(state, &mobile).await?))
        }
        Endpoint::SendSms => {
            let raw = match &m.path_mobile {
                Some(raw) => raw.clone(),
                None => body()?.required_str("mobile")?.to_owned(),
            };
            let mobile = parse_mobile(&raw, log)?;
            Ok(json_response(http::StatusCode::OK, &service::send_sms(state, &mobile).await?))
        }
        Endpoint::Register => {
            let body = body()?;
            let (mobile, password, sms_code) =
                (body.required_str("mobile")?, body.required_str("password")?, body.required_str("sms_code")?);
            let password2 = body.optional_str("password2")?;
            let mobile = parse_mobile(mobile, log)?;
            let password = Password::parse(password, state.settings.password)?;
            if password2.is_some_and(|p2| p2 != password.expose()) {
                return Err(ApiError::PasswordMismatch);
            }
            let sms_code = SmsCode::parse(sms_code, state.settings.code.length)?;
            let session = service::register(state, Registration { mobile, password, sms_code }).await?;
            Ok(json_response(http::StatusCode::CREATED, &session))
        }
        Endpoint::Login => {
            let body = body()?;
            let username = match body.optional_str("username")? {
                Some(username) => username,
                None => body.optional_str("mobile")?.ok_or_else(|| body::missing("username"))?,
            };
            let password = body.required_str("password")?;
            // A username that is no mobile cannot exist: the service answers
            // it like any unknown user, after the same work.
            let mobile = parse_mobile(username, log).ok();
            Ok(json_response(http::StatusCode::OK, &service::login(state, mobile.as_ref(), password).await?))
        }
    }
}
