//! What every Lambda function's `main` does: cold start and the per-request call.

use std::convert::Infallible;

use crate::config::Mode;
use crate::http::{self, Endpoint, Response, Scope};
use crate::state::{StartupError, State};

/// Logging and the state, once per cold start.
pub async fn cold_start() -> Result<State, StartupError> {
    crate::telemetry::init(Mode::Lambda);
    State::from_env(Mode::Lambda).await.inspect_err(|e| tracing::error!(error = %e, "cold start failed"))
}

/// Serves one API Gateway request for the function that owns `endpoint`.
pub async fn handle(state: &State, endpoint: Endpoint, req: lambda_http::Request) -> Result<Response, Infallible> {
    let client_ip = http::lambda_source_ip(&req);
    Ok(http::handle(state, Scope::Only(endpoint), client_ip, req).await)
}
