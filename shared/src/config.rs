//! Every setting, read once from the environment at start. A bad value stops
//! start-up with a message naming the variable; README.md lists them all.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::{ExposeSecret as _, SecretSlice, SecretString};

use crate::domain::{CodePolicy, PasswordPolicy};

/// Where the process runs: it decides the defaults and how strict start-up is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A Lambda function: DynamoDB, a real SMS backend and a real JWT secret are required.
    Lambda,
    /// The local API on a developer's machine: memory store, `log` SMS, throwaway secret.
    Local,
}

#[derive(Debug, thiserror::Error)]
#[error("{var}: {reason}")]
pub struct ConfigError {
    pub var: &'static str,
    pub reason: String,
}

/// Typed reads over any lookup function, so tests need not touch the process environment.
pub struct Env<F>(pub F);

impl<F: Fn(&str) -> Option<String>> Env<F> {
    pub fn raw(&self, var: &'static str) -> Option<String> {
        (self.0)(var).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    pub fn string(&self, var: &'static str, default: &str) -> String {
        self.raw(var).unwrap_or_else(|| default.to_owned())
    }

    pub fn required(&self, var: &'static str, why: &str) -> Result<String, ConfigError> {
        self.raw(var).ok_or_else(|| ConfigError { var, reason: format!("must be set {why}") })
    }

    pub fn number<T>(&self, var: &'static str, default: T, range: std::ops::RangeInclusive<T>) -> Result<T, ConfigError>
    where
        T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
    {
        let Some(raw) = self.raw(var) else {
            return Ok(default);
        };
        let bad = || ConfigError {
            var,
            reason: format!("{raw:?} is not a whole number from {} to {}", range.start(), range.end()),
        };
        let value: T = raw.parse().map_err(|_| bad())?;
        if range.contains(&value) {
            Ok(value)
        } else {
            Err(bad())
        }
    }

    pub fn flag(&self, var: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.raw(var).as_deref().map(str::to_ascii_lowercase).as_deref() {
            None => Ok(default),
            Some("1" | "true" | "yes" | "on") => Ok(true),
            Some("0" | "false" | "no" | "off") => Ok(false),
            Some(other) => Err(ConfigError { var, reason: format!("{other:?} is not true or false") }),
        }
    }

    pub fn choice<T: Copy>(&self, var: &'static str, default: T, options: &[(&str, T)]) -> Result<T, ConfigError> {
        let Some(raw) = self.raw(var) else {
            return Ok(default);
        };
        options.iter().find(|(name, _)| name.eq_ignore_ascii_case(&raw)).map(|(_, v)| *v).ok_or_else(|| {
            let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
            ConfigError { var, reason: format!("{raw:?} is not one of {}", names.join(", ")) }
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    Memory,
    DynamoDb,
}

/// Which provider texts the codes, with exactly the settings that provider needs.
#[derive(Debug, Clone)]
pub enum SmsBackend {
    /// For functions that never text (check-mobile, register, login).
    None,
    /// Local development only: the code goes to the log and, when set, to an outbox file.
    Log {
        outbox: Option<PathBuf>,
    },
    Cloopen(CloopenSettings),
    Sns,
}

impl SmsBackend {
    /// The name `SMS_BACKEND` takes for it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Log { .. } => "log",
            Self::Cloopen(_) => "cloopen",
            Self::Sns => "sns",
        }
    }
}

/// A 容联云通讯 account; the auth token is a secret and never printed.
#[derive(Debug, Clone)]
pub struct CloopenSettings {
    pub account_sid: String,
    pub auth_token: SecretString,
    pub app_id: String,
    /// The sign-up template; login and reset have their own, defaulting to it.
    pub template_id: String,
    pub login_template_id: String,
    pub reset_template_id: String,
    pub base_url: String,
}

pub const CLOOPEN_PRODUCTION_URL: &str = "https://app.cloopen.com:8883";

/// Shortest JWT secret accepted (HS256 wants 256 bits).
pub const MIN_JWT_SECRET_BYTES: usize = 32;

/// Shortest SMS code key accepted (HMAC-SHA256, as for the JWT key).
pub const MIN_SMS_CODE_SECRET_BYTES: usize = 32;

/// A secret setting: in Lambda it is read at cold start from Secrets Manager
/// by the ARN in `arn`; locally and in tests its value is in `name`. Adding
/// a secret is one constant here, one entry in [`SECRETS`], and the
/// functions that need it in `lambda.rs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretVar {
    pub name: &'static str,
    pub arn: &'static str,
}

pub const JWT_SECRET: SecretVar = SecretVar { name: "JWT_SECRET", arn: "JWT_SECRET_ARN" };
pub const SMS_CODE_SECRET: SecretVar = SecretVar { name: "SMS_CODE_SECRET", arn: "SMS_CODE_SECRET_ARN" };
pub const CLOOPEN_AUTH_TOKEN: SecretVar = SecretVar { name: "CLOOPEN_AUTH_TOKEN", arn: "CLOOPEN_AUTH_TOKEN_ARN" };
pub const GEETEST_CAPTCHA_KEY: SecretVar = SecretVar { name: "GEETEST_CAPTCHA_KEY", arn: "GEETEST_CAPTCHA_KEY_ARN" };
pub const TURNSTILE_SECRET_KEY: SecretVar = SecretVar { name: "TURNSTILE_SECRET_KEY", arn: "TURNSTILE_SECRET_KEY_ARN" };

/// Every secret setting: none of them may be a plain variable in Lambda mode.
pub const SECRETS: [SecretVar; 5] =
    [JWT_SECRET, SMS_CODE_SECRET, CLOOPEN_AUTH_TOKEN, GEETEST_CAPTCHA_KEY, TURNSTILE_SECRET_KEY];

/// Why a secret could not be read.
pub type SecretError = Box<dyn std::error::Error + Send + Sync>;

/// Where secrets come from in Lambda mode (Secrets Manager; a map in tests).
#[async_trait::async_trait]
pub trait SecretSource: Send + Sync {
    /// The current value of the secret `arn`.
    async fn secret(&self, arn: &str) -> Result<SecretString, SecretError>;

    /// The current values of `arns`, in their order, each read or failed on
    /// its own. By default one [`secret`](Self::secret) call each, all at
    /// once; a source that can read several in one request does so.
    async fn secrets(&self, arns: &[&str]) -> Vec<Result<SecretString, SecretError>> {
        futures_util::future::join_all(arns.iter().map(|arn| self.secret(arn))).await
    }
}

/// Bounds on every DynamoDB call: how long it may take and how often it is tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DynamoDbBounds {
    /// Opening a connection (`DYNAMODB_CONNECT_TIMEOUT_MS`).
    pub connect_timeout: Duration,
    /// One try, connection included (`DYNAMODB_ATTEMPT_TIMEOUT_MS`).
    pub attempt_timeout: Duration,
    /// The whole call, every retry and back-off included (`DYNAMODB_TIMEOUT_MS`).
    pub operation_timeout: Duration,
    /// Tries per call, the first included (`DYNAMODB_MAX_ATTEMPTS`).
    pub max_attempts: u32,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub mode: Mode,
    pub store: StoreKind,
    pub table_name: String,
    pub sms: SmsBackend,
    pub sms_timeout: Duration,
    /// Always present: in local mode without `JWT_SECRET`, a random one made
    /// at start; in a Lambda function that issues no token, a random one it never uses.
    pub jwt_secret: SecretSlice<u8>,
    /// The key SMS codes are hashed under; locally without `SMS_CODE_SECRET`,
    /// the JWT secret (the code hasher derives its own key from it), or a
    /// random key when neither is set; in a Lambda function that handles no
    /// code, a random one it never uses.
    pub sms_code_secret: SecretSlice<u8>,
    pub dynamodb: DynamoDbBounds,
    pub jwt_ttl_seconds: i64,
    pub code: CodePolicy,
    pub password: PasswordPolicy,
    pub limits: Limits,
    pub captcha: Captcha,
    /// The provider's whole answer must arrive within this.
    pub captcha_timeout: Duration,
    /// Whether `GET /user/sms/{mobile}` sends (the original client's alias);
    /// off by default, since link previewers and `<img>` tags fire GETs.
    pub sms_send_by_get: bool,
}

/// Abuse limits, each held in the store so that it holds across instances.
/// `None` means off, which only the local API accepts (a setting of 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub sms_per_mobile_per_day: Option<u32>,
    pub sms_per_ip_per_hour: Option<u32>,
    pub sms_daily_budget: Option<u32>,
    pub auth_attempts_per_ip_per_10_min: Option<u32>,
    pub login_max_failures: Option<u32>,
    pub login_lock_seconds: i64,
    pub code_failures_per_mobile_per_day: Option<u32>,
}

/// The captcha every SMS request must pass first, with that provider's settings.
#[derive(Debug, Clone)]
pub enum Captcha {
    None,
    /// Geetest v4: `POST {api_url}/validate?captcha_id=…`.
    Geetest {
        captcha_id: String,
        captcha_key: SecretString,
        api_url: String,
    },
    /// Cloudflare Turnstile: `POST {api_url}/turnstile/v0/siteverify`.
    Turnstile {
        secret_key: SecretString,
        api_url: String,
    },
}

pub const GEETEST_API_URL: &str = "https://gcaptcha4.geetest.com";
pub const TURNSTILE_API_URL: &str = "https://challenges.cloudflare.com";

impl Settings {
    pub fn from_env(mode: Mode) -> Result<Self, ConfigError> {
        Self::from_lookup(mode, |var| std::env::var(var).ok())
    }

    /// Settings from plain values. In Lambda mode every secret is required
    /// here as a value; deployed functions use [`Settings::resolve`] instead.
    pub fn from_lookup(mode: Mode, lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::parse(mode, lookup, &SECRETS)
    }

    /// Settings for a Lambda cold start: each secret in `needs` is read from
    /// `source` by the ARN in its `…_ARN` variable; a plain secret variable is
    /// refused (anyone allowed `lambda:GetFunctionConfiguration` could read
    /// it). The others are random keys the function never uses. Locally this
    /// is [`Settings::from_lookup`].
    pub async fn resolve(
        mode: Mode,
        needs: &[SecretVar],
        lookup: impl Fn(&str) -> Option<String>,
        source: &dyn SecretSource,
    ) -> Result<Self, ConfigError> {
        if mode == Mode::Local {
            return Self::from_lookup(mode, lookup);
        }
        let env = Env(&lookup);
        if let Some(plain) = SECRETS.iter().find(|secret| env.raw(secret.name).is_some()) {
            return Err(ConfigError {
                var: plain.name,
                reason: format!(
                    "must not be set in Lambda, where the function's configuration is readable: \
                     store the value in Secrets Manager and set {}",
                    plain.arn
                ),
            });
        }
        let arns = needs
            .iter()
            .map(|secret| {
                let arn = env.required(secret.arn, "for this function (the ARN of its Secrets Manager secret)")?;
                Ok((secret, arn))
            })
            .collect::<Result<Vec<_>, ConfigError>>()?;
        // All together: a cold start waits for one round trip, not one per secret.
        let asked: Vec<&str> = arns.iter().map(|(_, arn)| arn.as_str()).collect();
        let mut fetched = HashMap::new();
        for ((secret, _), answer) in arns.iter().zip(source.secrets(&asked).await) {
            let value = answer.map_err(|e| ConfigError {
                var: secret.arn,
                reason: format!("could not read the secret: {}", crate::telemetry::error_chain(e.as_ref())),
            })?;
            fetched.insert(secret.name, value);
        }
        let values = |var: &str| fetched.get(var).map(|v| v.expose_secret().to_owned()).or_else(|| lookup(var));
        Self::parse(mode, values, needs)
    }

    fn parse(mode: Mode, lookup: impl Fn(&str) -> Option<String>, needs: &[SecretVar]) -> Result<Self, ConfigError> {
        let env = Env(lookup);
        let local = mode == Mode::Local;
        let store = env.choice(
            "STORE",
            if local { StoreKind::Memory } else { StoreKind::DynamoDb },
            &[("memory", StoreKind::Memory), ("dynamodb", StoreKind::DynamoDb)],
        )?;
        if store == StoreKind::Memory && !local {
            return Err(ConfigError {
                var: "STORE",
                reason: "memory loses every user at the next cold start and is only for the local API".into(),
            });
        }
        // In Lambda, a value that would weaken a protection stops start-up;
        // the local API takes any value, so tests can use small ones.
        let code = CodePolicy {
            length: env.number("SMS_CODE_LENGTH", 6, if local { 4..=8 } else { 6..=8 })?,
            ttl_seconds: env.number("SMS_CODE_TTL_SECONDS", 300, 1..=86_400)?,
            resend_interval_seconds: env.number(
                "SMS_RESEND_INTERVAL_SECONDS",
                60,
                if local { 0..=86_400 } else { 30..=86_400 },
            )?,
            max_attempts: env.number("SMS_CODE_MAX_ATTEMPTS", 5, if local { 1..=100 } else { 1..=10 })?,
        };
        let password = PasswordPolicy {
            min_len: env.number("PASSWORD_MIN_LENGTH", 8, 1..=1024)?,
            max_len: env.number("PASSWORD_MAX_LENGTH", 64, 1..=1024)?,
        };
        if password.min_len > password.max_len {
            return Err(ConfigError {
                var: "PASSWORD_MIN_LENGTH",
                reason: "is greater than PASSWORD_MAX_LENGTH".into(),
            });
        }
        Ok(Self {
            mode,
            store,
            table_name: env.string("TABLE_NAME", "signup"),
            sms: sms_backend(&env, mode)?,
            sms_timeout: Duration::from_millis(env.number("SMS_TIMEOUT_MS", 5_000, 100..=60_000)?),
            jwt_secret: jwt_secret(&env, mode, needs.contains(&JWT_SECRET))?,
            sms_code_secret: sms_code_secret(&env, mode, needs.contains(&SMS_CODE_SECRET))?,
            dynamodb: dynamodb_bounds(&env)?,
            jwt_ttl_seconds: env.number("JWT_TTL_SECONDS", 86_400, 60..=30 * 86_400)?,
            code,
            password,
            limits: limits(&env, mode)?,
            captcha: captcha(&env, mode)?,
            captcha_timeout: Duration::from_millis(env.number("CAPTCHA_TIMEOUT_MS", 3_000, 100..=30_000)?),
            sms_send_by_get: env.flag("SMS_SEND_BY_GET", false)?,
        })
    }
}

fn limits<F: Fn(&str) -> Option<String>>(env: &Env<F>, mode: Mode) -> Result<Limits, ConfigError> {
    let limit = |var: &'static str, default: u32| -> Result<Option<u32>, ConfigError> {
        match env.number(var, default, 0..=u32::MAX)? {
            0 if mode == Mode::Lambda => {
                Err(ConfigError { var, reason: "0 turns this protection off, which only the local API accepts".into() })
            }
            0 => Ok(None),
            n => Ok(Some(n)),
        }
    };
    Ok(Limits {
        sms_per_mobile_per_day: limit("SMS_MAX_PER_MOBILE_PER_DAY", 10)?,
        sms_per_ip_per_hour: limit("SMS_MAX_PER_IP_PER_HOUR", 20)?,
        sms_daily_budget: limit("SMS_DAILY_BUDGET", 10_000)?,
        auth_attempts_per_ip_per_10_min: limit("AUTH_MAX_ATTEMPTS_PER_IP_PER_10_MIN", 30)?,
        login_max_failures: limit("LOGIN_MAX_FAILURES", 5)?,
        login_lock_seconds: env.number("LOGIN_LOCK_SECONDS", 900, 1..=86_400)?,
        code_failures_per_mobile_per_day: limit("SMS_CODE_MAX_FAILURES_PER_MOBILE_PER_DAY", 20)?,
    })
}

fn captcha<F: Fn(&str) -> Option<String>>(env: &Env<F>, mode: Mode) -> Result<Captcha, ConfigError> {
    #[derive(Clone, Copy)]
    enum Provider {
        None,
        Geetest,
        Turnstile,
    }
    let provider = env.choice(
        "CAPTCHA_PROVIDER",
        Provider::None,
        &[("none", Provider::None), ("geetest", Provider::Geetest), ("turnstile", Provider::Turnstile)],
    )?;
    let url = |var: &'static str, default: &str| {
        let url = env.string(var, default).trim_end_matches('/').to_owned();
        match mode == Mode::Lambda && !url.starts_with("https://") {
            true => Err(ConfigError {
                var,
                reason: "must be https:// in Lambda: the request carries the secret key".into(),
            }),
            false => Ok(url),
        }
    };
    Ok(match provider {
        Provider::None => Captcha::None,
        Provider::Geetest => {
            let why = "when CAPTCHA_PROVIDER=geetest";
            Captcha::Geetest {
                captcha_id: env.required("GEETEST_CAPTCHA_ID", why)?,
                captcha_key: env.required("GEETEST_CAPTCHA_KEY", why)?.into(),
                api_url: url("GEETEST_API_URL", GEETEST_API_URL)?,
            }
        }
        Provider::Turnstile => Captcha::Turnstile {
            secret_key: env.required("TURNSTILE_SECRET_KEY", "when CAPTCHA_PROVIDER=turnstile")?.into(),
            api_url: url("TURNSTILE_API_URL", TURNSTILE_API_URL)?,
        },
    })
}

#[derive(Clone, Copy)]
enum BackendName {
    None,
    Log,
    Cloopen,
    Sns,
}

fn sms_backend<F: Fn(&str) -> Option<String>>(env: &Env<F>, mode: Mode) -> Result<SmsBackend, ConfigError> {
    let local = mode == Mode::Local;
    let name = env.choice(
        "SMS_BACKEND",
        if local { BackendName::Log } else { BackendName::None },
        &[
            ("none", BackendName::None),
            ("log", BackendName::Log),
            ("cloopen", BackendName::Cloopen),
            ("sns", BackendName::Sns),
        ],
    )?;
    let outbox = env.raw("SMS_OUTBOX_FILE").map(PathBuf::from);
    if outbox.is_some() && !matches!(name, BackendName::Log) {
        return Err(ConfigError { var: "SMS_OUTBOX_FILE", reason: "is only used with SMS_BACKEND=log".into() });
    }
    Ok(match name {
        BackendName::None => SmsBackend::None,
        BackendName::Log if !local => {
            return Err(ConfigError {
                var: "SMS_BACKEND",
                reason: "log writes codes to the log and is only for the local API; use cloopen or sns".into(),
            })
        }
        BackendName::Log => SmsBackend::Log { outbox },
        BackendName::Sns => SmsBackend::Sns,
        BackendName::Cloopen => {
            let why = "when SMS_BACKEND=cloopen";
            let account_sid = env.required("CLOOPEN_ACCOUNT_SID", why)?;
            let auth_token = env.required("CLOOPEN_AUTH_TOKEN", why)?.into();
            let app_id = env.required("CLOOPEN_APP_ID", why)?;
            let template_id = env.required("CLOOPEN_TEMPLATE_ID", why)?;
            SmsBackend::Cloopen(CloopenSettings {
                account_sid,
                auth_token,
                app_id,
                login_template_id: env.string("CLOOPEN_LOGIN_TEMPLATE_ID", &template_id),
                reset_template_id: env.string("CLOOPEN_RESET_TEMPLATE_ID", &template_id),
                template_id,
                base_url: cloopen_base_url(env, mode)?,
            })
        }
    })
}

fn cloopen_base_url<F: Fn(&str) -> Option<String>>(env: &Env<F>, mode: Mode) -> Result<String, ConfigError> {
    let url = env.string("CLOOPEN_BASE_URL", CLOOPEN_PRODUCTION_URL).trim_end_matches('/').to_owned();
    if mode == Mode::Lambda && !url.starts_with("https://") {
        return Err(ConfigError {
            var: "CLOOPEN_BASE_URL",
            reason: "must be https:// in Lambda: the request carries the account's signature and the code".into(),
        });
    }
    Ok(url)
}

/// `bytes` random bytes: a key nobody else holds.
fn random_key(bytes: usize) -> SecretSlice<u8> {
    let mut secret = vec![0u8; bytes];
    getrandom::fill(&mut secret).expect("the OS random source is available");
    secret.into()
}

/// A secret's value, if given, at least `min` bytes long.
fn secret_value<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
    secret: SecretVar,
    min: usize,
) -> Result<Option<SecretSlice<u8>>, ConfigError> {
    match env.raw(secret.name) {
        Some(s) if s.len() >= min => Ok(Some(s.into_bytes().into())),
        Some(_) => Err(ConfigError { var: secret.name, reason: format!("must be at least {min} bytes") }),
        None => Ok(None),
    }
}

fn missing_in_lambda(secret: SecretVar) -> ConfigError {
    ConfigError {
        var: secret.name,
        reason: format!("must be set outside local development (in Lambda: by {} from Secrets Manager)", secret.arn),
    }
}

fn jwt_secret<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
    mode: Mode,
    needed: bool,
) -> Result<SecretSlice<u8>, ConfigError> {
    match secret_value(env, JWT_SECRET, MIN_JWT_SECRET_BYTES)? {
        Some(secret) => Ok(secret),
        None if mode == Mode::Local => {
            tracing::warn!("JWT_SECRET is not set: using a random secret; tokens will not survive a restart");
            Ok(random_key(MIN_JWT_SECRET_BYTES))
        }
        None if needed => Err(missing_in_lambda(JWT_SECRET)),
        None => Ok(random_key(MIN_JWT_SECRET_BYTES)),
    }
}

fn sms_code_secret<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
    mode: Mode,
    needed: bool,
) -> Result<SecretSlice<u8>, ConfigError> {
    match secret_value(env, SMS_CODE_SECRET, MIN_SMS_CODE_SECRET_BYTES)? {
        Some(secret) => Ok(secret),
        // Locally the code key comes from the JWT secret, as before the two
        // were split; with neither set, a random key of its own (the JWT
        // secret's absence is warned about once, by `jwt_secret`).
        None if mode == Mode::Local => Ok(secret_value(env, JWT_SECRET, MIN_JWT_SECRET_BYTES)?
            .unwrap_or_else(|| random_key(MIN_SMS_CODE_SECRET_BYTES))),
        None if needed => Err(missing_in_lambda(SMS_CODE_SECRET)),
        None => Ok(random_key(MIN_SMS_CODE_SECRET_BYTES)),
    }
}

fn dynamodb_bounds<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<DynamoDbBounds, ConfigError> {
    let ms = |var, default, range| env.number(var, default, range).map(Duration::from_millis);
    let bounds = DynamoDbBounds {
        connect_timeout: ms("DYNAMODB_CONNECT_TIMEOUT_MS", 500, 10..=10_000)?,
        attempt_timeout: ms("DYNAMODB_ATTEMPT_TIMEOUT_MS", 1_000, 10..=30_000)?,
        operation_timeout: ms("DYNAMODB_TIMEOUT_MS", 2_000, 10..=30_000)?,
        max_attempts: env.number("DYNAMODB_MAX_ATTEMPTS", 3, 1..=10)?,
    };
    if bounds.attempt_timeout > bounds.operation_timeout {
        return Err(ConfigError {
            var: "DYNAMODB_ATTEMPT_TIMEOUT_MS",
            reason: "is greater than DYNAMODB_TIMEOUT_MS".into(),
        });
    }
    if bounds.connect_timeout > bounds.attempt_timeout {
        return Err(ConfigError {
            var: "DYNAMODB_CONNECT_TIMEOUT_MS",
            reason: "is greater than DYNAMODB_ATTEMPT_TIMEOUT_MS".into(),
        });
    }
    Ok(bounds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(mode: Mode, vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let mut map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        if mode == Mode::Lambda {
            map.entry("SMS_CODE_SECRET".into()).or_insert_with(|| CODE_SECRET.into());
        }
        Settings::from_lookup(mode, move |k| map.get(k).cloned())
    }

    const SECRET: &str = "0123456789abcdef0123456789abcdef";
    const CODE_SECRET: &str = "a code key of thirty-two bytes or more";

    #[test]
    fn local_mode_needs_nothing_and_defaults_to_memory_and_log() {
        let s = settings(Mode::Local, &[]).unwrap();
        assert_eq!(s.store, StoreKind::Memory);
        assert!(matches!(s.sms, SmsBackend::Log { outbox: None }));
        assert_eq!(secrecy::ExposeSecret::expose_secret(&s.jwt_secret).len(), MIN_JWT_SECRET_BYTES);
        assert_eq!(s.code, CodePolicy { length: 6, ttl_seconds: 300, resend_interval_seconds: 60, max_attempts: 5 });
        assert_eq!(s.password, PasswordPolicy { min_len: 8, max_len: 64 });
        assert_eq!(s.jwt_ttl_seconds, 86_400);
    }

    #[test]
    fn lambda_mode_refuses_to_start_without_a_jwt_secret() {
        let err = settings(Mode::Lambda, &[("SMS_BACKEND", "sns")]).err().unwrap();
        assert_eq!(err.var, "JWT_SECRET");
    }

    #[test]
    fn a_short_jwt_secret_is_refused_in_every_mode() {
        for mode in [Mode::Local, Mode::Lambda] {
            let err = settings(mode, &[("JWT_SECRET", "short"), ("SMS_BACKEND", "sns")]).err().unwrap();
            assert_eq!(err.var, "JWT_SECRET");
        }
    }

    #[test]
    fn lambda_mode_needs_no_sms_backend_unless_told() {
        let s = settings(Mode::Lambda, &[("JWT_SECRET", SECRET)]).unwrap();
        assert_eq!(s.store, StoreKind::DynamoDb);
        assert!(matches!(s.sms, SmsBackend::None));
    }

    #[test]
    fn lambda_mode_refuses_the_log_backend() {
        let err = settings(Mode::Lambda, &[("JWT_SECRET", SECRET), ("SMS_BACKEND", "log")]).err().unwrap();
        assert_eq!(err.var, "SMS_BACKEND");
    }

    #[test]
    fn cloopen_backend_names_the_first_missing_credential() {
        let vars = [("JWT_SECRET", SECRET), ("SMS_BACKEND", "cloopen"), ("CLOOPEN_ACCOUNT_SID", "sid")];
        let err = settings(Mode::Lambda, &vars).err().unwrap();
        assert_eq!(err.var, "CLOOPEN_AUTH_TOKEN");
        assert!(err.to_string().starts_with("CLOOPEN_AUTH_TOKEN: must be set"));
    }

    #[test]
    fn a_bad_number_names_its_variable_and_range() {
        let err = settings(Mode::Local, &[("SMS_CODE_LENGTH", "9")]).err().unwrap();
        assert_eq!(err.to_string(), "SMS_CODE_LENGTH: \"9\" is not a whole number from 4 to 8");
        let err = settings(Mode::Local, &[("SMS_CODE_TTL_SECONDS", "five")]).err().unwrap();
        assert_eq!(err.var, "SMS_CODE_TTL_SECONDS");
    }

    #[test]
    fn an_unknown_store_is_refused_with_the_choices() {
        let err = settings(Mode::Local, &[("STORE", "redis")]).err().unwrap();
        assert_eq!(err.to_string(), "STORE: \"redis\" is not one of memory, dynamodb");
    }

    #[test]
    fn min_password_length_above_max_is_refused() {
        let err = settings(Mode::Local, &[("PASSWORD_MIN_LENGTH", "20"), ("PASSWORD_MAX_LENGTH", "10")]).err().unwrap();
        assert_eq!(err.var, "PASSWORD_MIN_LENGTH");
    }

    #[test]
    fn limits_default_to_the_documented_values() {
        let s = settings(Mode::Local, &[]).unwrap();
        let expected = Limits {
            sms_per_mobile_per_day: Some(10),
            sms_per_ip_per_hour: Some(20),
            sms_daily_budget: Some(10_000),
            auth_attempts_per_ip_per_10_min: Some(30),
            login_max_failures: Some(5),
            login_lock_seconds: 900,
            code_failures_per_mobile_per_day: Some(20),
        };
        assert_eq!(s.limits, expected);
        assert!(matches!(s.captcha, Captcha::None));
        assert!(!s.sms_send_by_get);
    }

    #[test]
    fn a_limit_of_zero_turns_it_off_locally_and_stops_a_lambda() {
        let s = settings(Mode::Local, &[("SMS_MAX_PER_IP_PER_HOUR", "0")]).unwrap();
        assert_eq!(s.limits.sms_per_ip_per_hour, None);
        for var in [
            "SMS_MAX_PER_MOBILE_PER_DAY",
            "SMS_MAX_PER_IP_PER_HOUR",
            "SMS_DAILY_BUDGET",
            "AUTH_MAX_ATTEMPTS_PER_IP_PER_10_MIN",
            "LOGIN_MAX_FAILURES",
            "SMS_CODE_MAX_FAILURES_PER_MOBILE_PER_DAY",
        ] {
            let err = settings(Mode::Lambda, &[("JWT_SECRET", SECRET), (var, "0")]).err().unwrap();
            assert_eq!(err.var, var);
        }
    }

    #[test]
    fn a_lambda_refuses_weakened_code_rules_that_the_local_api_accepts() {
        for (var, weak) in
            [("SMS_RESEND_INTERVAL_SECONDS", "29"), ("SMS_CODE_MAX_ATTEMPTS", "11"), ("SMS_CODE_LENGTH", "5")]
        {
            assert!(settings(Mode::Local, &[(var, weak)]).is_ok(), "{var}={weak} locally");
            let err = settings(Mode::Lambda, &[("JWT_SECRET", SECRET), (var, weak)]).err().unwrap();
            assert_eq!(err.var, var);
        }
    }

    #[test]
    fn a_captcha_provider_needs_its_keys_and_names_the_missing_one() {
        let err =
            settings(Mode::Local, &[("CAPTCHA_PROVIDER", "geetest"), ("GEETEST_CAPTCHA_ID", "id")]).err().unwrap();
        assert_eq!(err.var, "GEETEST_CAPTCHA_KEY");
        let err = settings(Mode::Local, &[("CAPTCHA_PROVIDER", "turnstile")]).err().unwrap();
        assert_eq!(err.var, "TURNSTILE_SECRET_KEY");
        let s = settings(Mode::Local, &[("CAPTCHA_PROVIDER", "turnstile"), ("TURNSTILE_SECRET_KEY", "k")]).unwrap();
        assert!(matches!(s.captcha, Captcha::Turnstile { ref api_url, .. } if api_url == TURNSTILE_API_URL));
    }

    #[test]
    fn a_lambda_refuses_a_captcha_url_that_is_not_https() {
        let vars = [
            ("CAPTCHA_PROVIDER", "turnstile"),
            ("TURNSTILE_SECRET_KEY", "k"),
            ("TURNSTILE_API_URL", "http://127.0.0.1:9"),
        ];
        assert!(settings(Mode::Local, &vars).is_ok());
        let err = Settings::from_lookup(Mode::Lambda, |k| {
            vars.iter()
                .chain(&[("JWT_SECRET", SECRET), ("SMS_CODE_SECRET", SECRET)])
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
        .err()
        .unwrap();
        assert_eq!(err.var, "TURNSTILE_API_URL");
    }

    #[test]
    fn an_outbox_without_the_log_backend_is_refused() {
        let err = settings(Mode::Local, &[("SMS_BACKEND", "sns"), ("SMS_OUTBOX_FILE", "/tmp/x")]).err().unwrap();
        assert_eq!(err.var, "SMS_OUTBOX_FILE");
    }

    #[test]
    fn debug_of_the_settings_shows_no_secret() {
        let vars = [
            ("JWT_SECRET", SECRET),
            ("SMS_BACKEND", "cloopen"),
            ("CLOOPEN_ACCOUNT_SID", "sid"),
            ("CLOOPEN_AUTH_TOKEN", "token-of-the-account"),
            ("CLOOPEN_APP_ID", "app"),
            ("CLOOPEN_TEMPLATE_ID", "1"),
        ];
        let shown = format!("{:?}", settings(Mode::Lambda, &vars).unwrap());
        assert!(!shown.contains(SECRET) && !shown.contains("token-of-the-account"), "{shown}");
    }

    #[test]
    fn lambda_mode_refuses_the_memory_store() {
        let err = settings(Mode::Lambda, &[("JWT_SECRET", SECRET), ("STORE", "memory")]).err().unwrap();
        assert_eq!(err.var, "STORE");
    }

    #[test]
    fn lambda_mode_refuses_a_cloopen_url_that_is_not_https() {
        let vars = [
            ("JWT_SECRET", SECRET),
            ("SMS_BACKEND", "cloopen"),
            ("CLOOPEN_ACCOUNT_SID", "sid"),
            ("CLOOPEN_AUTH_TOKEN", "token"),
            ("CLOOPEN_APP_ID", "app"),
            ("CLOOPEN_TEMPLATE_ID", "1"),
            ("CLOOPEN_BASE_URL", "http://sandboxapp.cloopen.com:8883"),
        ];
        assert_eq!(settings(Mode::Lambda, &vars).err().unwrap().var, "CLOOPEN_BASE_URL");
        assert!(settings(Mode::Local, &vars).is_ok(), "the local fake Cloopen speaks plain HTTP");
    }

    #[test]
    fn locally_an_unset_code_key_comes_from_the_jwt_secret() {
        let s = settings(Mode::Local, &[("JWT_SECRET", SECRET)]).unwrap();
        assert_eq!(s.sms_code_secret.expose_secret(), SECRET.as_bytes());
        let s = settings(Mode::Local, &[("JWT_SECRET", SECRET), ("SMS_CODE_SECRET", CODE_SECRET)]).unwrap();
        assert_eq!(s.sms_code_secret.expose_secret(), CODE_SECRET.as_bytes());
        let err = settings(Mode::Local, &[("SMS_CODE_SECRET", "short")]).err().unwrap();
        assert_eq!(err.var, "SMS_CODE_SECRET");
    }

    #[test]
    fn dynamodb_calls_are_bounded_by_default_and_the_bounds_must_nest() {
        let s = settings(Mode::Local, &[]).unwrap();
        assert_eq!(
            s.dynamodb,
            DynamoDbBounds {
                connect_timeout: Duration::from_millis(500),
                attempt_timeout: Duration::from_millis(1_000),
                operation_timeout: Duration::from_millis(2_000),
                max_attempts: 3,
            }
        );
        let err = settings(Mode::Local, &[("DYNAMODB_TIMEOUT_MS", "500")]).err().unwrap();
        assert_eq!(err.var, "DYNAMODB_ATTEMPT_TIMEOUT_MS");
        let err = settings(Mode::Local, &[("DYNAMODB_MAX_ATTEMPTS", "0")]).err().unwrap();
        assert_eq!(err.var, "DYNAMODB_MAX_ATTEMPTS");
    }

    /// Secrets Manager in a map, counting reads.
    #[derive(Default)]
    struct Vault(HashMap<&'static str, &'static str>, std::sync::Mutex<Vec<String>>);

    #[async_trait::async_trait]
    impl SecretSource for Vault {
        async fn secret(&self, arn: &str) -> Result<SecretString, Box<dyn std::error::Error + Send + Sync>> {
            self.1.lock().unwrap().push(arn.to_owned());
            self.0.get(arn).map(|v| SecretString::from(*v)).ok_or_else(|| "ResourceNotFoundException".into())
        }
    }

    fn vault() -> Vault {
        Vault(HashMap::from([("arn:jwt", SECRET), ("arn:code", CODE_SECRET)]), Default::default())
    }

    async fn resolve(needs: &[SecretVar], vars: &[(&str, &str)], vault: &Vault) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::resolve(Mode::Lambda, needs, |k| map.get(k).cloned(), vault).await
    }

    const ARNS: [(&str, &str); 2] = [("JWT_SECRET_ARN", "arn:jwt"), ("SMS_CODE_SECRET_ARN", "arn:code")];

    #[tokio::test]
    async fn lambda_reads_exactly_the_secrets_it_needs_by_arn() {
        let vault = vault();
        let s = resolve(&[JWT_SECRET, SMS_CODE_SECRET], &ARNS, &vault).await.unwrap();
        assert_eq!(s.jwt_secret.expose_secret(), SECRET.as_bytes());
        assert_eq!(s.sms_code_secret.expose_secret(), CODE_SECRET.as_bytes());
        let s = resolve(&[SMS_CODE_SECRET], &ARNS, &vault).await.unwrap();
        assert_eq!(s.sms_code_secret.expose_secret(), CODE_SECRET.as_bytes());
        assert_ne!(s.jwt_secret.expose_secret(), SECRET.as_bytes(), "an unneeded key is a random one");
        resolve(&[], &ARNS, &vault).await.unwrap();
        assert_eq!(*vault.1.lock().unwrap(), ["arn:jwt", "arn:code", "arn:code"]);
    }

    /// A source each of whose reads answers only once `n` reads are waiting.
    struct AllAtOnce(tokio::sync::Barrier);

    #[async_trait::async_trait]
    impl SecretSource for AllAtOnce {
        async fn secret(&self, arn: &str) -> Result<SecretString, Box<dyn std::error::Error + Send + Sync>> {
            self.0.wait().await;
            Ok(SecretString::from(if arn == "arn:jwt" { SECRET } else { CODE_SECRET }))
        }
    }

    #[tokio::test]
    async fn lambda_reads_its_secrets_at_the_same_time_not_one_after_another() {
        let source = AllAtOnce(tokio::sync::Barrier::new(2));
        let map: HashMap<String, String> = ARNS.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let resolving =
            Settings::resolve(Mode::Lambda, &[JWT_SECRET, SMS_CODE_SECRET], |k| map.get(k).cloned(), &source);
        let s = tokio::time::timeout(std::time::Duration::from_secs(5), resolving)
            .await
            .expect("read one after another, the first read would wait for the second forever")
            .unwrap();
        assert_eq!(s.jwt_secret.expose_secret(), SECRET.as_bytes());
        assert_eq!(s.sms_code_secret.expose_secret(), CODE_SECRET.as_bytes());
    }

    #[tokio::test]
    async fn lambda_refuses_a_secret_in_a_plain_variable_and_names_a_missing_or_unreadable_arn() {
        let vault = vault();
        let plain = [("JWT_SECRET_ARN", "arn:jwt"), ("JWT_SECRET", SECRET)];
        assert_eq!(resolve(&[JWT_SECRET], &plain, &vault).await.err().unwrap().var, "JWT_SECRET");
        assert_eq!(resolve(&[JWT_SECRET], &[], &vault).await.err().unwrap().var, "JWT_SECRET_ARN");
        let err = resolve(&[SMS_CODE_SECRET], &[("SMS_CODE_SECRET_ARN", "arn:gone")], &vault).await.err().unwrap();
        assert_eq!(err.to_string(), "SMS_CODE_SECRET_ARN: could not read the secret: ResourceNotFoundException");
    }
}
