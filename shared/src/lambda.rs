//! What every Lambda function's `main` does, and the adaptation of API
//! Gateway's request to the shared HTTP layer.

use std::convert::Infallible;
use std::net::IpAddr;

use lambda_http::lambda_runtime::{self, LambdaEvent};
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, RequestExt as _, Service as _};
use serde_json::Value;

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

/// Starts the function and serves events until the runtime stops. Each
/// event is read as JSON first: a body that API Gateway marks as base64 but
/// that is not base64 would panic inside the event's deserialiser, so it is
/// taken out and the request refused with 400 instead.
pub async fn run(endpoint: Endpoint) -> Result<(), lambda_http::Error> {
    let function = Function::cold_start(endpoint).await?;
    let function = &function;
    lambda_runtime::run(lambda_http::service_fn(move |event: LambdaEvent<Value>| async move {
        let LambdaEvent { mut payload, context } = event;
        let undecodable = take_undecodable_body(&mut payload);
        let request: LambdaRequest = serde_json::from_value(payload)?;
        let mut adapter = Adapter::from(lambda_http::service_fn(move |mut req: lambda_http::Request| async move {
            if undecodable {
                req.extensions_mut().insert(http::UndecodableBody);
            }
            function.handle(req).await
        }));
        adapter.call(LambdaEvent::new(request, context)).await.map_err(lambda_http::Error::from)
    }))
    .await
}

/// An API Gateway event as a request, the way [`run`] reads it (for tests
/// and tools that hold an event file).
pub fn request_from_event(mut event: Value) -> Result<lambda_http::Request, serde_json::Error> {
    let undecodable = take_undecodable_body(&mut event);
    let mut request: lambda_http::Request = serde_json::from_value::<LambdaRequest>(event)?.into();
    if undecodable {
        request.extensions_mut().insert(http::UndecodableBody);
    }
    Ok(request)
}

/// Empties a body marked base64 that does not decode; `true` if it did.
fn take_undecodable_body(event: &mut Value) -> bool {
    use base64::Engine as _;
    let marked = event.get("isBase64Encoded").and_then(Value::as_bool).unwrap_or(false);
    let undecodable = marked
        && event
            .get("body")
            .and_then(Value::as_str)
            .is_some_and(|body| base64::engine::general_purpose::STANDARD.decode(body).is_err());
    if undecodable {
        event["body"] = Value::Null;
        event["isBase64Encoded"] = Value::Bool(false);
    }
    undecodable
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
    Ok(http::handle(services, Scope::Function(endpoint.function()), client_ip, req).await)
}

/// The client address API Gateway saw (`requestContext.http.sourceIp`).
fn source_ip(req: &lambda_http::Request) -> Option<IpAddr> {
    match req.request_context_ref()? {
        lambda_http::request::RequestContext::ApiGatewayV2(ctx) => ctx.http.source_ip.as_deref()?.parse().ok(),
        _ => None,
    }
}
