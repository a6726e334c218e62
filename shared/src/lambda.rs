//! What every Lambda function's `main` does: cold start and the per-request call.

use std::convert::Infallible;

use crate::config::{ConfigError, Mode, Settings, SmsBackendKind};
use crate::http::{self, Endpoint, Response, Scope};
use crate::state::{StartupError, State};

/// One Lambda function: the state built at cold start and the endpoint it serves.
pub struct Function {
    state: State,
    endpoint: Endpoint,
}

impl Function {
    /// Logging and the state, once per cold start.
    pub async fn cold_start(endpoint: Endpoint) -> Result<Self, StartupError> {
        crate::telemetry::init(Mode::Lambda);
        let settings = Settings::from_env(Mode::Lambda).and_then(|s| check_function_settings(endpoint, s));
        let state = match settings {
            Ok(settings) => State::from_settings(settings).await,
            Err(e) => Err(e.into()),
        };
        let state = state.inspect_err(|e| tracing::error!(error = %e, "cold start failed"))?;
        Ok(Self { state, endpoint })
    }

    /// Serves one API Gateway request.
    pub async fn handle(&self, req: lambda_http::Request) -> Result<Response, Infallible> {
        handle(&self.state, self.endpoint, req).await
    }
}

/// What one function needs beyond the shared settings.
fn check_function_settings(endpoint: Endpoint, settings: Settings) -> Result<Settings, ConfigError> {
    if endpoint == Endpoint::SendSms && settings.sms_backend == SmsBackendKind::None {
        return Err(ConfigError {
            var: "SMS_BACKEND",
            reason: "must be cloopen or sns for the send-sms function".into(),
        });
    }
    Ok(settings)
}

/// Serves one API Gateway request for the function that owns `endpoint`.
pub async fn handle(state: &State, endpoint: Endpoint, req: lambda_http::Request) -> Result<Response, Infallible> {
    let client_ip = http::lambda_source_ip(&req);
    Ok(http::handle(state, Scope::Only(endpoint), client_ip, req).await)
}
