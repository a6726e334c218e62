//! What every Lambda function's `main` does, and the adaptation of API
//! Gateway's request to the shared HTTP layer.

use std::convert::Infallible;
use std::net::IpAddr;

use lambda_http::lambda_runtime::{self, LambdaEvent};
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, RequestExt as _, Service as _};
use serde_json::Value;

use crate::aws::SecretsManager;
use crate::config::{
    ConfigError, Env, Mode, SecretVar, Settings, SmsBackend, CLOOPEN_AUTH_TOKEN, GEETEST_CAPTCHA_KEY, JWT_SECRET,
    SMS_CODE_SECRET, TURNSTILE_SECRET_KEY,
};
use crate::http::{self, Endpoint, Response, Scope};
use crate::services::{Services, StartupError};

/// One Lambda function: the services built at cold start and the endpoint it serves.
pub struct Function {
    services: Services,
    endpoint: Endpoint,
}

impl Function {
    /// Logging, the secrets this function needs (from Secrets Manager) and
    /// the services, once per cold start.
    pub async fn cold_start(endpoint: Endpoint) -> Result<Self, StartupError> {
        crate::telemetry::init(Mode::Lambda);
        let services = build_services(endpoint)
            .await
            .inspect_err(|e| tracing::error!(error = %crate::telemetry::error_chain(e), "cold start failed"))?;
        Ok(Self { services, endpoint })
    }

    /// A function around services built elsewhere (tests).
    pub fn new(services: Services, endpoint: Endpoint) -> Self {
        Self { services, endpoint }
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

async fn build_services(endpoint: Endpoint) -> Result<Services, StartupError> {
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let lookup = |var: &str| std::env::var(var).ok();
    let needs = secrets_needed(endpoint, &Env(lookup));
    let settings = Settings::resolve(Mode::Lambda, &needs, lookup, &SecretsManager::new(&aws)).await?;
    let settings = check_function_settings(endpoint, settings)?;
    Services::builder(settings).aws_config(aws).build().await
}

/// The secrets each function reads at cold start, and no other: its role
/// may read only these (template.yaml).
pub fn secrets_needed<F: Fn(&str) -> Option<String>>(endpoint: Endpoint, env: &Env<F>) -> Vec<SecretVar> {
    match endpoint {
        Endpoint::CheckMobile => vec![],
        Endpoint::SendSms => {
            let mut needs = vec![SMS_CODE_SECRET];
            if env.raw("SMS_BACKEND").is_some_and(|b| b.eq_ignore_ascii_case("cloopen")) {
                needs.push(CLOOPEN_AUTH_TOKEN);
            }
            match env.raw("CAPTCHA_PROVIDER").map(|p| p.to_ascii_lowercase()).as_deref() {
                Some("geetest") => needs.push(GEETEST_CAPTCHA_KEY),
                Some("turnstile") => needs.push(TURNSTILE_SECRET_KEY),
                _ => {}
            }
            needs
        }
        // Both check codes (register, login by SMS) and issue tokens.
        Endpoint::Register | Endpoint::Login | Endpoint::LoginByCode | Endpoint::ResetPassword | Endpoint::Me => {
            vec![JWT_SECRET, SMS_CODE_SECRET]
        }
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
    Ok(crate::panics::guard(http::handle(services, Scope::Function(endpoint.function()), client_ip, req)).await)
}

/// The client address API Gateway saw (`requestContext.http.sourceIp`).
fn source_ip(req: &lambda_http::Request) -> Option<IpAddr> {
    match req.request_context_ref()? {
        lambda_http::request::RequestContext::ApiGatewayV2(ctx) => ctx.http.source_ip.as_deref()?.parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needs(endpoint: Endpoint, backend: &str) -> Vec<&'static str> {
        let env = Env(|var: &str| (var == "SMS_BACKEND").then(|| backend.to_owned()));
        secrets_needed(endpoint, &env).iter().map(|s| s.name).collect()
    }

    #[test]
    fn each_function_reads_only_the_secrets_it_uses() {
        assert!(needs(Endpoint::CheckMobile, "none").is_empty());
        assert_eq!(needs(Endpoint::SendSms, "sns"), ["SMS_CODE_SECRET"]);
        assert_eq!(needs(Endpoint::SendSms, "cloopen"), ["SMS_CODE_SECRET", "CLOOPEN_AUTH_TOKEN"]);
        assert_eq!(needs(Endpoint::Register, "none"), ["JWT_SECRET", "SMS_CODE_SECRET"]);
        assert_eq!(needs(Endpoint::Login, "none"), ["JWT_SECRET", "SMS_CODE_SECRET"]);
    }
}
