//! `Services`: everything the use cases need, built once per cold start and
//! shared by reference. Its parts are private; each use case is handed only
//! the ones it uses (`send_sms()`, `register()`, …).

use std::sync::Arc;

use crate::auth::{CodeHasher, PasswordHasher, Pseudonyms, TokenSigner, TokenVerifier};
use crate::captcha::CaptchaVerifier;
use crate::clock::{Clock, SystemClock};
use crate::config::{Captcha, ConfigError, Settings, SmsBackend, StoreKind};
use crate::service::code_check::CodeCheck;
use crate::service::limits::Limiter;
use crate::service::{Login, LoginByCode, Me, Register, ResetPassword, SendSms};
use crate::sms::{LogSender, NoSms, SmsSender};
use crate::store::{DynamoStore, MemoryStore, Store, StoreError, UserStore};

pub struct Services {
    settings: Settings,
    store: Arc<dyn Store>,
    sms: Arc<dyn SmsSender>,
    captcha: Option<Box<dyn CaptchaVerifier>>,
    clock: Arc<dyn Clock>,
    password_hasher: PasswordHasher,
    code_hasher: CodeHasher,
    pseudonyms: Pseudonyms,
    token_signer: TokenSigner,
    token_verifier: TokenVerifier,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("configuration")]
    Config(#[from] ConfigError),
    #[error("SMS client")]
    SmsClient(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("captcha client")]
    CaptchaClient(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The settings name a client this function was built without (cargo features).
    #[error("{0} is not built into this function: build it with the cargo feature {0}")]
    NotBuiltIn(&'static str),
    #[error("creating the table")]
    CreateTable(#[source] StoreError),
    /// The settings need an AWS client and the builder was given no
    /// `aws_config` (a caller's mistake, not a setting's).
    #[error("no AWS configuration was given for the DynamoDB store or the SNS backend")]
    NoAwsConfig,
}

impl Services {
    pub fn builder(settings: Settings) -> ServicesBuilder {
        ServicesBuilder {
            settings,
            store: None,
            sms: None,
            clock: None,
            create_table: false,
            aws: None,
            password_hasher: None,
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn users(&self) -> &dyn UserStore {
        self.store.as_ref()
    }

    fn limiter(&self) -> Limiter<'_> {
        Limiter { limits: self.settings.limits, pseudonyms: &self.pseudonyms }
    }

    pub fn send_sms(&self) -> SendSms<'_> {
        SendSms {
            codes: self.store.as_ref(),
            counters: self.store.as_ref(),
            sender: self.sms.as_ref(),
            captcha: self.captcha.as_deref(),
            captcha_timeout: self.settings.captcha_timeout,
            limiter: self.limiter(),
            code_hasher: &self.code_hasher,
            clock: self.clock.as_ref(),
            policy: self.settings.code,
            provider_timeout: self.settings.sms_timeout,
        }
    }

    fn code_check(&self) -> CodeCheck<'_> {
        CodeCheck {
            store: self.store.as_ref(),
            code_hasher: &self.code_hasher,
            limiter: self.limiter(),
            max_attempts: self.settings.code.max_attempts,
        }
    }

    pub fn register(&self) -> Register<'_> {
        Register {
            users: self.store.as_ref(),
            codes: self.code_check(),
            password_hasher: &self.password_hasher,
            token_signer: &self.token_signer,
            clock: self.clock.as_ref(),
        }
    }

    pub fn login_by_code(&self) -> LoginByCode<'_> {
        LoginByCode {
            users: self.store.as_ref(),
            codes: self.code_check(),
            token_signer: &self.token_signer,
            clock: self.clock.as_ref(),
        }
    }

    pub fn reset_password(&self) -> ResetPassword<'_> {
        ResetPassword {
            users: self.store.as_ref(),
            codes: self.code_check(),
            password_hasher: &self.password_hasher,
            token_signer: &self.token_signer,
            clock: self.clock.as_ref(),
        }
    }

    pub fn me(&self) -> Me<'_> {
        Me { users: self.store.as_ref(), token_verifier: &self.token_verifier, clock: self.clock.as_ref() }
    }

    pub fn login(&self) -> Login<'_> {
        Login {
            users: self.store.as_ref(),
            counters: self.store.as_ref(),
            limiter: self.limiter(),
            password_hasher: &self.password_hasher,
            token_signer: &self.token_signer,
            clock: self.clock.as_ref(),
        }
    }
}

/// Chooses the parts; whatever is not given is built from the settings.
pub struct ServicesBuilder {
    settings: Settings,
    store: Option<Arc<dyn Store>>,
    sms: Option<Arc<dyn SmsSender>>,
    clock: Option<Arc<dyn Clock>>,
    create_table: bool,
    aws: Option<aws_config::SdkConfig>,
    password_hasher: Option<PasswordHasher>,
}

impl ServicesBuilder {
    pub fn store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    pub fn sms(mut self, sms: Arc<dyn SmsSender>) -> Self {
        self.sms = Some(sms);
        self
    }

    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The AWS configuration the DynamoDB store and the SNS backend use;
    /// needed when the settings choose either and no store or SMS backend
    /// is given.
    pub fn aws_config(mut self, aws: aws_config::SdkConfig) -> Self {
        self.aws = Some(aws);
        self
    }

    /// Another password hasher (the benchmark measures routes without argon2's cost).
    #[cfg(feature = "test-util")]
    pub fn password_hasher(mut self, hasher: PasswordHasher) -> Self {
        self.password_hasher = Some(hasher);
        self
    }

    /// Create the DynamoDB table when it is missing (moto, DynamoDB Local).
    /// Deployed Lambdas never do: the table comes from template.yaml.
    pub fn create_table(mut self, create: bool) -> Self {
        self.create_table = create;
        self
    }

    /// Builds the clients. Without `create_table` this makes no network
    /// call: credentials and connections are fetched on the first request.
    pub async fn build(self) -> Result<Services, StartupError> {
        let settings = self.settings;
        // Given by the caller (`crate::aws`'s `lambda_config` or
        // `load_config`): loading it here would link the SDK's default
        // credential chains into every Lambda function.
        let aws = || self.aws.as_ref().ok_or(StartupError::NoAwsConfig);
        let store: Arc<dyn Store> = match (self.store, settings.store) {
            (Some(store), _) => store,
            (None, StoreKind::Memory) => Arc::new(MemoryStore::default()),
            (None, StoreKind::DynamoDb) => {
                let client = crate::aws::dynamodb_client(aws()?, &settings.dynamodb);
                let store = DynamoStore::new(client, settings.table_name.clone());
                if self.create_table {
                    store.ensure_table().await.map_err(StartupError::CreateTable)?;
                }
                Arc::new(store)
            }
        };
        let sms: Arc<dyn SmsSender> = match (self.sms, &settings.sms) {
            (Some(sms), _) => sms,
            (None, SmsBackend::None) => Arc::new(NoSms),
            (None, SmsBackend::Log { outbox }) => Arc::new(LogSender::new(outbox.clone())),
            #[cfg(feature = "cloopen")]
            (None, SmsBackend::Cloopen(cloopen)) => Arc::new(
                crate::sms::CloopenSender::new(cloopen.clone(), settings.sms_timeout)
                    .map_err(|e| StartupError::SmsClient(Box::new(e)))?,
            ),
            #[cfg(not(feature = "cloopen"))]
            (None, SmsBackend::Cloopen(_)) => return Err(StartupError::NotBuiltIn("cloopen")),
            #[cfg(feature = "sns")]
            (None, SmsBackend::Sns) => {
                Arc::new(crate::sms::SnsSender::new(crate::aws::sns_client(aws()?, settings.sms_timeout)))
            }
            #[cfg(not(feature = "sns"))]
            (None, SmsBackend::Sns) => return Err(StartupError::NotBuiltIn("sns")),
        };
        let captcha = captcha_verifier(&settings)?;
        Ok(Services {
            code_hasher: CodeHasher::from_secret(&settings.sms_code_secret),
            pseudonyms: Pseudonyms::from_secret(&settings.sms_code_secret),
            captcha,
            token_signer: TokenSigner::new(&settings.jwt_secret, settings.jwt_ttl_seconds),
            token_verifier: TokenVerifier::new(&settings.jwt_secret),
            password_hasher: self.password_hasher.unwrap_or_default(),
            clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
            store,
            sms,
            settings,
        })
    }
}

/// The verifier of the configured captcha provider, if any.
#[cfg(feature = "captcha")]
fn captcha_verifier(settings: &Settings) -> Result<Option<Box<dyn CaptchaVerifier>>, StartupError> {
    use crate::captcha::{GeetestVerifier, TurnstileVerifier};
    let timeout = settings.captcha_timeout;
    let client_error = |e: reqwest::Error| StartupError::CaptchaClient(Box::new(e));
    Ok(match &settings.captcha {
        Captcha::None => None,
        Captcha::Geetest { captcha_id, captcha_key, api_url } => Some(Box::new(
            GeetestVerifier::new(captcha_id.clone(), captcha_key.clone(), api_url.clone(), timeout)
                .map_err(client_error)?,
        )),
        Captcha::Turnstile { secret_key, api_url } => {
            Some(Box::new(TurnstileVerifier::new(secret_key.clone(), api_url.clone(), timeout).map_err(client_error)?))
        }
    })
}

/// Without the `captcha` feature only "no captcha" can be served.
#[cfg(not(feature = "captcha"))]
fn captcha_verifier(settings: &Settings) -> Result<Option<Box<dyn CaptchaVerifier>>, StartupError> {
    match settings.captcha {
        Captcha::None => Ok(None),
        _ => Err(StartupError::NotBuiltIn("captcha")),
    }
}
