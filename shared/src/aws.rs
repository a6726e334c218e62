//! The AWS side of the service: SDK clients with every call bounded, the
//! Secrets Manager source of the Lambda secrets, and SDK errors reduced to
//! what a log may show.
//!
//! An SDK error's `Debug` (and a service's own message) can carry request
//! parameters: SNS's `InvalidParameter` echoes the phone number, DynamoDB's
//! `ValidationException` can quote attribute values. [`SdkFailure`] keeps
//! only the error code, a fixed description of what kind of failure it was,
//! and the request id that finds the call in AWS's records.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::SdkConfig;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::RequestId;
use secrecy::SecretString;

use crate::config::{DynamoDbBounds, SecretError, SecretSource};

/// A failed AWS call, as logs may show it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}{}{}", code.as_ref().map(|c| format!(" ({c})")).unwrap_or_default(), request_id.as_ref().map(|r| format!(", request id {r}")).unwrap_or_default())]
pub struct SdkFailure {
    /// What kind of failure: a fixed text, never the service's message.
    pub kind: &'static str,
    /// The service's error code (`ConditionalCheckFailedException`, …), when it answered.
    pub code: Option<String>,
    pub request_id: Option<String>,
}

impl SdkFailure {
    pub fn from_sdk<E, R>(error: &SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata,
        SdkError<E, R>: RequestId,
    {
        let kind = match error {
            SdkError::ConstructionFailure(_) => "request could not be built",
            SdkError::TimeoutError(_) => "no answer within the time allowed",
            SdkError::DispatchFailure(d) if d.is_timeout() => "connection timed out",
            SdkError::DispatchFailure(d) if d.is_io() => "connection failed",
            SdkError::DispatchFailure(_) => "request could not be sent",
            SdkError::ResponseError(_) => "answer could not be read",
            SdkError::ServiceError(_) => "refused by the service",
            _ => "call failed",
        };
        Self {
            kind,
            code: error.as_service_error().and_then(|e| e.code()).map(str::to_owned),
            request_id: error.request_id().map(str::to_owned),
        }
    }
}

/// The SDK's HTTPS client: rustls on ring (see [`crate::tls`]), with the
/// system's trusted certificates. Tests pass it to configurations they build.
pub fn https_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https()
}

/// The environment's AWS configuration through the SDK's default chains
/// (profiles, SSO, instance roles, …), with [`https_client`]: the local
/// API's, when it talks to DynamoDB or SNS.
pub async fn load_config() -> SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(https_client()).load().await
}

/// A Lambda function's configuration, from what Lambda puts in its
/// environment: `AWS_REGION`, the role's credentials
/// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
/// valid for the execution environment's lifetime) and `AWS_ENDPOINT_URL`
/// when set (tests and the benchmark point it at moto). Read directly, not
/// through the default chains: a function then links no profile, SSO,
/// instance-metadata or STS provider, and its cold start looks for none.
/// The clients add the SDK's defaults (retries, sleep, time) themselves.
pub fn lambda_config() -> SdkConfig {
    use aws_config::environment::EnvironmentVariableCredentialsProvider;
    use aws_sdk_dynamodb::config::{Region, SharedCredentialsProvider};
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let mut config = SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION")).map(Region::new))
        .credentials_provider(SharedCredentialsProvider::new(EnvironmentVariableCredentialsProvider::new()))
        .http_client(https_client());
    if let Some(endpoint) = var("AWS_ENDPOINT_URL") {
        config = config.endpoint_url(endpoint);
    }
    config.build()
}

/// Retries back off from this, doubling, with jitter: short, because the
/// whole call must still end within its operation timeout.
const INITIAL_BACKOFF: Duration = Duration::from_millis(50);

/// DynamoDB with connect, per-try and whole-call timeouts and at most
/// `max_attempts` tries (the standard retry mode's token bucket also caps
/// retries across calls when DynamoDB keeps failing).
pub fn dynamodb_client(aws: &SdkConfig, bounds: &DynamoDbBounds) -> aws_sdk_dynamodb::Client {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(bounds.connect_timeout)
        .operation_attempt_timeout(bounds.attempt_timeout)
        .operation_timeout(bounds.operation_timeout)
        .build();
    let retries = RetryConfig::standard()
        .with_max_attempts(bounds.max_attempts)
        .with_initial_backoff(INITIAL_BACKOFF)
        .with_max_backoff(bounds.attempt_timeout);
    let config = aws_sdk_dynamodb::config::Builder::from(aws).timeout_config(timeouts).retry_config(retries).build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// SNS, its whole call bounded by the SMS timeout (the send is also cut there).
#[cfg(feature = "sns")]
pub fn sns_client(aws: &SdkConfig, timeout: Duration) -> aws_sdk_sns::Client {
    let timeouts =
        TimeoutConfig::builder().connect_timeout(timeout.min(CONNECT_TIMEOUT)).operation_timeout(timeout).build();
    aws_sdk_sns::Client::from_conf(aws_sdk_sns::config::Builder::from(aws).timeout_config(timeouts).build())
}

/// Connecting to an AWS endpoint in the same region takes milliseconds.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// Reading the secrets happens once per cold start, inside Lambda's 10 s init.
const SECRETS_TIMEOUT: Duration = Duration::from_secs(3);

/// Secrets Manager, read by ARN; the secret's `SecretString` is the value.
pub struct SecretsManager {
    client: aws_sdk_secretsmanager::Client,
}

impl SecretsManager {
    pub fn new(aws: &SdkConfig) -> Self {
        let timeouts =
            TimeoutConfig::builder().connect_timeout(CONNECT_TIMEOUT).operation_timeout(SECRETS_TIMEOUT).build();
        let config = aws_sdk_secretsmanager::config::Builder::from(aws).timeout_config(timeouts).build();
        Self { client: aws_sdk_secretsmanager::Client::from_conf(config) }
    }
}

const NO_STRING: &str = "the secret has no SecretString (binary secrets are not read)";

#[async_trait::async_trait]
impl SecretSource for SecretsManager {
    async fn secret(&self, arn: &str) -> Result<SecretString, SecretError> {
        let out = self.client.get_secret_value().secret_id(arn).send().await.map_err(|e| SdkFailure::from_sdk(&e))?;
        Ok(SecretString::from(out.secret_string.ok_or(NO_STRING)?))
    }

    /// Two or more in one `BatchGetSecretValue` (at most 20 are asked for:
    /// a function reads three at most), so that a cold start waits for one
    /// round trip; one alone by `GetSecretValue`.
    async fn secrets(&self, arns: &[&str]) -> Vec<Result<SecretString, SecretError>> {
        match arns {
            [] => return Vec::new(),
            [arn] => return vec![self.secret(arn).await],
            _ => {}
        }
        let mut unique: Vec<String> = arns.iter().map(|a| a.to_string()).collect();
        unique.sort();
        unique.dedup();
        let out = match self.client.batch_get_secret_value().set_secret_id_list(Some(unique)).send().await {
            Ok(out) => out,
            Err(e) => {
                // Every secret failed with the call: say it was the batch
                // (a missing BatchGetSecretValue grant shows here).
                let failure =
                    format!("BatchGetSecretValue, for all {} secrets: {}", arns.len(), SdkFailure::from_sdk(&e));
                return arns.iter().map(|_| Err(failure.clone().into())).collect();
            }
        };
        arns.iter()
            .map(|arn| {
                // Asked by ARN (or by name, as `sam local` allows): the answer names both.
                let named = |candidates: [Option<&str>; 2]| candidates.contains(&Some(*arn));
                if let Some(entry) = out.secret_values().iter().find(|v| named([v.arn(), v.name()])) {
                    return Ok(SecretString::from(entry.secret_string().ok_or(NO_STRING)?.to_owned()));
                }
                let code = out.errors().iter().find(|e| e.secret_id() == Some(*arn)).and_then(|e| e.error_code.clone());
                let kind = match code {
                    Some(_) => "refused by the service",
                    None => "answered neither a value nor an error for it",
                };
                Err(SdkFailure { kind, code, request_id: out.request_id().map(str::to_owned) }.into())
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_shows_its_kind_code_and_request_id_only() {
        let failure = SdkFailure {
            kind: "refused by the service",
            code: Some("InvalidParameter".into()),
            request_id: Some("f1e2".into()),
        };
        assert_eq!(failure.to_string(), "refused by the service (InvalidParameter), request id f1e2");
        let failure = SdkFailure { kind: "connection failed", code: None, request_id: None };
        assert_eq!(failure.to_string(), "connection failed");
    }
}
