//! Everything a request needs, built once per cold start and shared by reference.

use std::sync::Arc;

use crate::auth::{CodeHasher, PasswordHasher, TokenIssuer};
use crate::clock::{Clock, SystemClock};
use crate::config::{ConfigError, Mode, Settings, SmsBackendKind, StoreKind};
use crate::sms::{CloopenSender, LogSender, NoSms, SmsSender, SnsSender};
use crate::store::{DynamoStore, MemoryStore, Store};

pub struct State {
    pub settings: Settings,
    pub store: Arc<dyn Store>,
    pub sms: Arc<dyn SmsSender>,
    pub clock: Arc<dyn Clock>,
    pub passwords: PasswordHasher,
    pub codes: CodeHasher,
    pub tokens: TokenIssuer,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    #[error("SMS client: {0}")]
    SmsClient(String),
}

impl State {
    pub async fn from_env(mode: Mode) -> Result<Self, StartupError> {
        Self::from_settings(Settings::from_env(mode)?).await
    }

    /// Builds the clients; makes no network call (credentials and
    /// connections are fetched lazily on the first request).
    pub async fn from_settings(settings: Settings) -> Result<Self, StartupError> {
        let needs_aws = settings.store == StoreKind::DynamoDb || settings.sms_backend == SmsBackendKind::Sns;
        let aws = match needs_aws {
            true => Some(aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await),
            false => None,
        };
        let store: Arc<dyn Store> = match (&aws, settings.store) {
            (Some(aws), StoreKind::DynamoDb) => {
                Arc::new(DynamoStore::new(aws_sdk_dynamodb::Client::new(aws), settings.table_name.clone()))
            }
            _ => Arc::new(MemoryStore::default()),
        };
        let sms: Arc<dyn SmsSender> = match (&aws, settings.sms_backend, &settings.cloopen) {
            (Some(aws), SmsBackendKind::Sns, _) => Arc::new(SnsSender::new(aws_sdk_sns::Client::new(aws))),
            (_, SmsBackendKind::Cloopen, Some(cloopen)) => Arc::new(
                CloopenSender::new(cloopen.clone(), settings.sms_timeout)
                    .map_err(|e| StartupError::SmsClient(e.to_string()))?,
            ),
            (_, SmsBackendKind::Log, _) => Arc::new(LogSender::new(settings.sms_outbox.clone())),
            _ => Arc::new(NoSms),
        };
        Ok(Self::with_parts(settings, store, sms))
    }

    /// For tests and embedders that bring their own store or SMS backend.
    pub fn with_parts(settings: Settings, store: Arc<dyn Store>, sms: Arc<dyn SmsSender>) -> Self {
        let secret = match &settings.jwt_secret {
            Some(secret) => secret.clone(),
            None => {
                debug_assert_eq!(settings.mode, Mode::Local, "configuration demands a secret outside local mode");
                tracing::warn!("JWT_SECRET is not set: using a random secret; tokens will not survive a restart");
                let mut secret = vec![0u8; 32];
                getrandom::fill(&mut secret).expect("the OS random source is available");
                secret
            }
        };
        Self {
            codes: CodeHasher::from_secret(&secret),
            tokens: TokenIssuer::new(&secret, settings.jwt_ttl_seconds),
            passwords: PasswordHasher::default(),
            clock: Arc::new(SystemClock),
            store,
            sms,
            settings,
        }
    }
}
