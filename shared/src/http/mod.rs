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
pub use routes::{AllRoutes, Endpoint, Route, RouteError, Scope, ROUTES};

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::time::Instant;

use lambda_http::{Body, Request};
use tracing::Instrument as _;

use crate::service::{self, MeError};
use crate::services::Services;
use call::Call;

pub type Response = http::Response<Body>;

/// Marks a request whose body API Gateway sent as base64 but that did not
/// decode (set by `crate::lambda`, never by a client): refused with 400.
#[derive(Debug, Clone, Copy)]
pub struct UndecodableBody;

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Answers one request inside its own span (method, route, client address,
/// and the masked mobile once parsed), so every line logged while serving
/// it carries them; ends with one access line. Only the routes of `S` are
/// served (see [`Scope`]).
pub async fn handle<S: Scope>(services: &Services, client_ip: Option<IpAddr>, req: Request) -> Response {
    let span = tracing::info_span!(
        "request",
        method = %req.method(),
        route = tracing::field::Empty,
        client_ip = %ClientIp(client_ip),
        mobile = tracing::field::Empty,
    );
    async move {
        let started = Instant::now();
        let response = route_and_answer::<S>(services, client_ip, req).await;
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

/// The client's address in the request span, `-` when unknown.
struct ClientIp(Option<IpAddr>);

impl std::fmt::Display for ClientIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(ip) => ip.fmt(f),
            None => f.write_str("-"),
        }
    }
}

async fn route_and_answer<S: Scope>(services: &Services, client_ip: Option<IpAddr>, req: Request) -> Response {
    let matched = routes::match_route(req.method(), req.uri().path()).and_then(|m| {
        if routes::serves::<S>(m.route.endpoint) {
            Ok(m)
        } else {
            Err(RouteError::NotFound)
        }
    });
    let matched = match matched {
        Ok(matched) => matched,
        Err(e) => return error_response(&e),
    };
    tracing::Span::current().record("route", matched.route.pattern);
    if req.extensions().get::<UndecodableBody>().is_some() {
        return error_response(&RequestError::NotBase64);
    }
    match Call::parse(matched, &req, services.settings(), client_ip) {
        Ok(call) => answer::<S>(services, call).await,
        Err(e) => error_response(&e),
    }
}

/// The use case's future for `call`. Each arm is guarded by whether `S`
/// serves its endpoint, a constant, so the arms of other functions' use
/// cases compile to nothing. (A plain `async fn` would not do: its state
/// machine keeps a resume path into every arm's future, dead or not.) A
/// call of an endpoint `S` does not serve was refused as not found before
/// parsing.
fn answer<S: Scope>(services: &Services, call: Call) -> Pin<Box<dyn Future<Output = Response> + Send + '_>> {
    use http::StatusCode;
    match call {
        Call::CheckMobile(mobile) if const { routes::serves::<S>(Endpoint::CheckMobile) } => Box::pin(async move {
            match service::check_mobile(services.users(), &mobile).await {
                Ok(()) => response::mobile_free(&mobile),
                Err(e) => error_response(&e),
            }
        }),
        Call::SendSms(request) if const { routes::serves::<S>(Endpoint::SendSms) } => Box::pin(async move {
            match services.send_sms().run(&request).await {
                Ok(sent) => response::sms_sent(sent),
                Err(e) => error_response(&e),
            }
        }),
        Call::Register(registration) if const { routes::serves::<S>(Endpoint::Register) } => Box::pin(async move {
            match services.register().run(registration).await {
                Ok(session) => response::session(StatusCode::CREATED, &session),
                Err(e) => error_response(&e),
            }
        }),
        Call::Login(credentials) if const { routes::serves::<S>(Endpoint::Login) } => Box::pin(async move {
            match services.login().run(&credentials).await {
                Ok(session) => response::session(StatusCode::OK, &session),
                Err(e) => error_response(&e),
            }
        }),
        Call::LoginByCode(login) if const { routes::serves::<S>(Endpoint::LoginByCode) } => Box::pin(async move {
            match services.login_by_code().run(&login).await {
                Ok(session) => response::session(StatusCode::OK, &session),
                Err(e) => error_response(&e),
            }
        }),
        Call::ResetPassword(reset) if const { routes::serves::<S>(Endpoint::ResetPassword) } => Box::pin(async move {
            match services.reset_password().run(reset).await {
                Ok(session) => response::session(StatusCode::OK, &session),
                Err(e) => error_response(&e),
            }
        }),
        Call::Me(token) if const { routes::serves::<S>(Endpoint::Me) } => Box::pin(async move {
            match token.map_err(MeError::from) {
                Ok(token) => match services.me().run(&token).await {
                    Ok(user) => response::me(&user),
                    Err(e) => error_response(&e),
                },
                Err(e) => error_response(&e),
            }
        }),
        _ => Box::pin(std::future::ready(error_response(&RouteError::NotFound))),
    }
}
