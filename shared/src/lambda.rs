//! What every Lambda function's `main` does, and the adaptation of API
//! Gateway's request to the shared HTTP layer.

use std::convert::Infallible;
use std::net::IpAddr;

use lambda_http::RequestExt as _;

use crate::config::{ConfigError, Mode, Settings, SmsBackend};
use crate::http::{self, Endpoint, Response, Scope};
use crate::services::{Services, StartupError};

/// One Lambda function: the services built at cold start and the endpoint it serves.
pub struct Function {
    services: Services,
    endpoint: Endpoint,
}

impl Function {
    /// Logging and the services, once per cold start.
    pub async fn cold_start(endpoint: Endpoint) -> Result<Self, StartupError> {
        crate::telemetry::init(Mode::Lambda);
        let services = match Settings::from_env(Mode::Lambda).and_then(|s| check_function_settings(endpoint, s)) {
            Ok(settings) => Services::builder(settings).build().await,
            Err(e) => Err(e.into()),
        };
        let services = services
            .inspect_err(|e| tracing::error!(error = %crate::telemetry::error_chain(e), "cold start failed"))?;
        Ok(Self { services, endpoint })
    }

    /// Serves one API Gateway request.
    pub async fn handle(&self, req: lambda_http::Request) -> Result<Response, Infallible> {
        handle(&self.services, self.endpoint, req).await
    }
}

/// What one function needs beyond the shared settings.
fn check_function_settings(endpoint: Endpoint, settings: Settings) -> Result<Settings, ConfigError> {
    if endpoint == Endpoint::SendSms && matches!(settings.sms, SmsBackend::None) {
        return Err(ConfigError {
            var: "SMS_BACKEND",
            reason: "must be cloopen or sns for the send-sms function".into(),
        });
    }
    Ok(settings)
}

/// Serves one API Gateway request for the function that owns `endpoint`.
pub async fn handle(
    services: &Services,
    endpoint: Endpoint,
    req: lambda_http::Request,
) -> Result<Response, Infallible> {
    let client_ip = source_ip(&req);
    Ok(http::handle(services, Scope::Only(endpoint), client_ip, req).await)
}

/// The client address API Gateway saw (`requestContext.http.sourceIp`).
fn source_ip(req: &lambda_http::Request) -> Option<IpAddr> {
    match req.request_context_ref()? {
        lambda_http::request::RequestContext::ApiGatewayV2(ctx) => ctx.http.source_ip.as_deref()?.parse().ok(),
        _ => None,
    }
}
