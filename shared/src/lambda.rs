//! What every Lambda function's `main` does, and the adaptation of API
//! Gateway's request to the shared HTTP layer.

use std::convert::Infallible;
use std::marker::PhantomData;
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
use function::LambdaFunction;

/// The four Lambda functions, as types: a function's `main` names its own,
/// and its binary links only the use cases of the endpoints it serves.
pub mod function {
    use crate::http::{Endpoint, Scope};

    /// A Lambda function: its name (the directory under `functions/`) and
    /// the endpoint its settings and secrets follow.
    pub trait LambdaFunction: Scope {
        const NAME: &'static str;
        const MAIN: Endpoint;
        /// Whether it reads secrets at cold start (`super::secrets_needed`):
        /// check-mobile does not, and so links no Secrets Manager client.
        const READS_SECRETS: bool = !matches!(Self::MAIN, Endpoint::CheckMobile);
    }

    macro_rules! functions {
        ($($(#[$doc:meta])* $ty:ident $name:literal: $main:ident $(, $other:ident)*;)*) => {$(
            $(#[$doc])*
            pub struct $ty;
            impl Scope for $ty {
                const ENDPOINTS: &'static [Endpoint] = &[Endpoint::$main $(, Endpoint::$other)*];
            }
            impl LambdaFunction for $ty {
                const NAME: &'static str = $name;
                const MAIN: Endpoint = Endpoint::$main;
            }
        )*};
    }

    functions! {
        /// `GET /user/mobile/{mobile}`.
        CheckMobile "check-mobile": CheckMobile;
        /// `POST /user/sms`, `GET /user/sms/{mobile}`.
        SendSms "send-sms": SendSms;
        /// Register, and reset a password.
        Register "register": Register, ResetPassword;
        /// Login by password or by code, and `/user/me`.
        Login "login": Login, LoginByCode, Me;
    }
}

/// One Lambda function: the services built at cold start, serving the
/// endpoints of `F`.
pub struct Function<F> {
    services: Services,
    function: PhantomData<F>,
}

impl<F: LambdaFunction> Function<F> {
    /// Logging, the secrets this function needs (from Secrets Manager) and
    /// the services, once per cold start.
    pub async fn cold_start() -> Result<Self, StartupError> {
        crate::telemetry::init(Mode::Lambda);
        let services = build_services::<F>()
            .await
            .inspect_err(|e| tracing::error!(error = %crate::telemetry::error_chain(e), "cold start failed"))?;
        Ok(Self::new(services))
    }

    /// A function around services built elsewhere (tests).
    pub fn new(services: Services) -> Self {
        Self { services, function: PhantomData }
    }

    /// Serves one API Gateway request.
    pub async fn handle(&self, req: lambda_http::Request) -> Result<Response, Infallible> {
        serve::<F>(&self.services, req).await
    }
}

/// Starts the function and serves events until the runtime stops. Each
/// event is read as JSON first: a body that API Gateway marks as base64 but
/// that is not base64 would panic inside the event's deserialiser, so it is
/// taken out and the request refused with 400 instead.
pub async fn run<F: LambdaFunction>() -> Result<(), lambda_http::Error> {
    let function = Function::<F>::cold_start().await?;
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

async fn build_services<F: LambdaFunction>() -> Result<Services, StartupError> {
    let aws = crate::aws::lambda_config();
    let lookup = |var: &str| std::env::var(var).ok();
    let needs = secrets_needed(F::MAIN, &Env(lookup));
    // A constant per function: check-mobile's binary has no Secrets Manager client.
    let settings = if F::READS_SECRETS {
        Settings::resolve(Mode::Lambda, &needs, lookup, &SecretsManager::new(&aws)).await?
    } else {
        Settings::resolve(Mode::Lambda, &needs, lookup, &NoSecrets).await?
    };
    let settings = check_function_settings(F::MAIN, settings)?;
    Services::builder(settings).aws_config(aws).build().await
}

/// The secret source of a function that reads none.
struct NoSecrets;

#[async_trait::async_trait]
impl crate::config::SecretSource for NoSecrets {
    async fn secret(&self, arn: &str) -> Result<secrecy::SecretString, Box<dyn std::error::Error + Send + Sync>> {
        Err(format!("this function reads no secret, and was asked for {arn}").into())
    }
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

/// Serves one API Gateway request as the function `S` does.
pub async fn serve<S: Scope>(services: &Services, req: lambda_http::Request) -> Result<Response, Infallible> {
    let client_ip = source_ip(&req);
    Ok(crate::panics::guard(http::handle::<S>(services, client_ip, req)).await)
}

/// Serves one API Gateway request as the function that owns `endpoint`
/// does (tests and tools that pick the function at run time; a function's
/// binary calls [`serve`] with its own type).
pub async fn handle(
    services: &Services,
    endpoint: Endpoint,
    req: lambda_http::Request,
) -> Result<Response, Infallible> {
    match endpoint.function() {
        function::CheckMobile::NAME => serve::<function::CheckMobile>(services, req).await,
        function::SendSms::NAME => serve::<function::SendSms>(services, req).await,
        function::Register::NAME => serve::<function::Register>(services, req).await,
        function::Login::NAME => serve::<function::Login>(services, req).await,
        other => unreachable!("no Lambda function is named {other}"),
    }
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
    fn each_function_type_serves_the_endpoints_the_route_table_gives_it() {
        fn check<F: LambdaFunction>() {
            let owned: Vec<Endpoint> =
                http::AllRoutes::ENDPOINTS.iter().copied().filter(|e| e.function() == F::NAME).collect();
            assert_eq!(F::ENDPOINTS, owned.as_slice(), "{}", F::NAME);
            assert_eq!(F::MAIN.function(), F::NAME);
            for backend in ["sns", "cloopen"] {
                assert_eq!(F::READS_SECRETS, !needs(F::MAIN, backend).is_empty(), "{} with {backend}", F::NAME);
            }
        }
        check::<function::CheckMobile>();
        check::<function::SendSms>();
        check::<function::Register>();
        check::<function::Login>();
        let every: usize = [function::CheckMobile::ENDPOINTS.len(), function::SendSms::ENDPOINTS.len()]
            .iter()
            .chain(&[function::Register::ENDPOINTS.len(), function::Login::ENDPOINTS.len()])
            .sum();
        assert_eq!(every, http::AllRoutes::ENDPOINTS.len(), "every endpoint has one function");
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
