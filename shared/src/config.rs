//! Every setting, read once from the environment at start. A bad value stops
//! start-up with a message naming the variable; README.md lists them all.

use std::time::Duration;

use crate::domain::PasswordPolicy;

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsBackendKind {
    /// For functions that never text (check-mobile, register, login).
    None,
    Log,
    Cloopen,
    Sns,
}

/// The rules for SMS codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodePolicy {
    pub length: usize,
    pub ttl_seconds: i64,
    pub resend_interval_seconds: i64,
    pub max_attempts: u32,
}

impl CodePolicy {
    /// Validity in whole minutes, as the SMS template states it.
    pub fn ttl_minutes(&self) -> i64 {
        (self.ttl_seconds + 59) / 60
    }
}

#[derive(Clone)]
pub struct CloopenSettings {
    pub account_sid: String,
    pub auth_token: String,
    pub app_id: String,
    pub template_id: String,
    pub base_url: String,
}

impl std::fmt::Debug for CloopenSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloopenSettings")
            .field("account_sid", &self.account_sid)
            .field("app_id", &self.app_id)
            .field("template_id", &self.template_id)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

pub const CLOOPEN_PRODUCTION_URL: &str = "https://app.cloopen.com:8883";

/// Shortest JWT secret accepted outside local development (HS256 wants 256 bits).
pub const MIN_JWT_SECRET_BYTES: usize = 32;

#[derive(Clone)]
pub struct Settings {
    pub mode: Mode,
    pub store: StoreKind,
    pub table_name: String,
    pub sms_backend: SmsBackendKind,
    pub cloopen: Option<CloopenSettings>,
    pub sms_timeout: Duration,
    /// `log` backend only: also append each message as a JSON line to this file.
    pub sms_outbox: Option<std::path::PathBuf>,
    /// `None` only in local mode: a random secret is made at start.
    pub jwt_secret: Option<Vec<u8>>,
    pub jwt_ttl_seconds: i64,
    pub code: CodePolicy,
    pub password: PasswordPolicy,
}

impl Settings {
    pub fn from_env(mode: Mode) -> Result<Self, ConfigError> {
        Self::from_lookup(mode, |var| std::env::var(var).ok())
    }

    pub fn from_lookup(mode: Mode, lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(lookup);
        let local = mode == Mode::Local;
        let store = env.choice(
            "STORE",
            if local { StoreKind::Memory } else { StoreKind::DynamoDb },
            &[("memory", StoreKind::Memory), ("dynamodb", StoreKind::DynamoDb)],
        )?;
        let table_name = env.string("TABLE_NAME", "signup");
        let sms_backend = env.choice(
            "SMS_BACKEND",
            if local { SmsBackendKind::Log } else { SmsBackendKind::None },
            &[
                ("none", SmsBackendKind::None),
                ("log", SmsBackendKind::Log),
                ("cloopen", SmsBackendKind::Cloopen),
                ("sns", SmsBackendKind::Sns),
            ],
        )?;
        if !local && sms_backend == SmsBackendKind::Log {
            return Err(ConfigError {
                var: "SMS_BACKEND",
                reason: "log writes codes to the log and is only for the local API; use cloopen or sns".into(),
            });
        }
        let cloopen = match sms_backend {
            SmsBackendKind::Cloopen => {
                let why = "when SMS_BACKEND=cloopen";
                Some(CloopenSettings {
                    account_sid: env.required("CLOOPEN_ACCOUNT_SID", why)?,
                    auth_token: env.required("CLOOPEN_AUTH_TOKEN", why)?,
                    app_id: env.required("CLOOPEN_APP_ID", why)?,
                    template_id: env.required("CLOOPEN_TEMPLATE_ID", why)?,
                    base_url: env.string("CLOOPEN_BASE_URL", CLOOPEN_PRODUCTION_URL).trim_end_matches('/').to_owned(),
                })
            }
            _ => None,
        };
        let jwt_secret = match env.raw("JWT_SECRET") {
            Some(s) if s.len() >= MIN_JWT_SECRET_BYTES => Some(s.into_bytes()),
            Some(_) => {
                return Err(ConfigError {
                    var: "JWT_SECRET",
                    reason: format!("must be at least {MIN_JWT_SECRET_BYTES} bytes"),
                })
            }
            None if local => None,
            None => {
                return Err(ConfigError { var: "JWT_SECRET", reason: "must be set outside local development".into() })
            }
        };
        let code = CodePolicy {
            length: env.number("SMS_CODE_LENGTH", 6, 4..=8)?,
            ttl_seconds: env.number("SMS_CODE_TTL_SECONDS", 300, 1..=86_400)?,
            resend_interval_seconds: env.number("SMS_RESEND_INTERVAL_SECONDS", 60, 0..=86_400)?,
            max_attempts: env.number("SMS_CODE_MAX_ATTEMPTS", 5, 1..=100)?,
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
            table_name,
            sms_backend,
            cloopen,
            sms_timeout: Duration::from_millis(env.number("SMS_TIMEOUT_MS", 5_000, 100..=60_000)?),
            sms_outbox: env.raw("SMS_OUTBOX_FILE").map(Into::into),
            jwt_secret,
            jwt_ttl_seconds: env.number("JWT_TTL_SECONDS", 86_400, 60..=30 * 86_400)?,
            code,
            password,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(mode: Mode, vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::from_lookup(mode, move |k| map.get(k).cloned())
    }

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn local_mode_needs_nothing_and_defaults_to_memory_and_log() {
        let s = settings(Mode::Local, &[]).unwrap();
        assert_eq!(s.store, StoreKind::Memory);
        assert_eq!(s.sms_backend, SmsBackendKind::Log);
        assert!(s.jwt_secret.is_none());
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
        assert_eq!((s.store, s.sms_backend), (StoreKind::DynamoDb, SmsBackendKind::None));
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
    fn validity_in_minutes_rounds_up() {
        let policy = |ttl_seconds| CodePolicy { length: 6, ttl_seconds, resend_interval_seconds: 60, max_attempts: 5 };
        assert_eq!(policy(300).ttl_minutes(), 5);
        assert_eq!(policy(301).ttl_minutes(), 6);
        assert_eq!(policy(1).ttl_minutes(), 1);
    }
}
