//! The HTTP layer shared by the Lambda functions and the local API: routing,
//! turning requests into typed calls, and turning results and refusals into
//! responses. Both entry points call [`handle`]; no route has a second
//! implementation.

mod body;
mod call;
mod problem;
mod response;
mod routes;

pub use body::RequestError;
pub use call::ParseError;
pub use problem::{IntoProblem, Problem};
pub use response::error_response;
pub use routes::{Endpoint, Route, RouteError, ROUTES};

use std::net::IpAddr;
use std::time::Instant;

use lambda_http::{Body, Request};
use tracing::Instrument as _;

use crate::services::Services;
use crate::service;
use call::Call;

pub type Response = http::Response<Body>;

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Which routes a caller serves: a Lambda function serves its own, the local API all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    All,
    Only(Endpoint),
}

/// Answers one request inside its own span (method, route, client address,
/// and the masked mobile once parsed), so every line logged while serving
/// it carries them; ends with one access line.
pub async fn handle(services: &Services, scope: Scope, client_ip: Option<IpAddr>, req: Request) -> Response {
    let span = tracing::info_span!(
        "request",
        method = %req.method(),
        route = tracing::field::Empty,
        client_ip = %client_ip.map_or_else(|| "-".to_owned(), |ip| ip.to_string()),
        mobile = tracing::field::Empty,
    );
    async move {
        let started = Instant::now();
        let response = route_and_answer(services, scope, req).await;
        tracing::info!(
            target: "access",
            status = response.status().as_u16(),
            latency_ms = started.elapsed().as_micros() as f64 / 1000.0,
            "request"
        );
        response
    }
    .instrument(span)
    .await
}

async fn route_and_answer(services: &Services, scope: Scope, req: Request) -> Response {
    let matched = routes::match_route(req.method(), req.uri().path()).and_then(|m| match scope {
        Scope::Only(endpoint) if endpoint != m.route.endpoint => Err(RouteError::NotFound),
        _ => Ok(m),
    });
    let matched = match matched {
        Ok(matched) => matched,
        Err(e) => return error_response(&e),
    };
    tracing::Span::current().record("route", matched.route.pattern);
    match Call::parse(matched, req.body(), services.settings()) {
        Ok(call) => answer(services, call).await,
        Err(e) => error_response(&e),
    }
}

async fn answer(services: &Services, call: Call) -> Response {
    use http::StatusCode;
    match call {
        Call::CheckMobile(mobile) => match service::check_mobile(services.users(), &mobile).await {
            Ok(()) => response::mobile_free(&mobile),
            Err(e) => error_response(&e),
        },
        Call::SendSms(mobile) => match services.send_sms().run(&mobile).await {
            Ok(sent) => response::sms_sent(sent),
            Err(e) => error_response(&e),
        },
        Call::Register(registration) => match services.register().run(registration).await {
            Ok(session) => response::session(StatusCode::CREATED, &session),
            Err(e) => error_response(&e),
        },
        Call::Login(credentials) => match services.login().run(&credentials).await {
            Ok(session) => response::session(StatusCode::OK, &session),
            Err(e) => error_response(&e),
        },
    }
}
