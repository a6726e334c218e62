//! Text a fresh code to an unregistered number, within every limit.
//!
//! The captcha is checked first, before anything is spent. Then the code
//! is recorded in one atomic write that also checks the number is
//! unregistered, the resend interval has passed and the daily, per-address
//! and budget counters have room, and counts one against each. Only then is
//! the code sent. If the provider fails, the record is deleted and the
//! counters given back: the user may retry at once, and a code nobody
//! received cannot be used.

use std::net::IpAddr;
use std::time::Duration;

use crate::auth::CodeHasher;
use crate::captcha::{CaptchaAnswer, CaptchaError, CaptchaVerifier};
use crate::clock::Clock;
use crate::domain::{CodePolicy, Mobile, Purpose, SmsCode};
use crate::service::limits::{self, Limiter};
use crate::sms::{SmsError, SmsSender};
use crate::store::{BeginSmsError, CodeStore, Counter, LimitStore, PendingCode, StoreError};

/// A request for a code.
#[derive(Debug)]
pub struct SmsRequest {
    pub mobile: Mobile,
    pub purpose: Purpose,
    pub captcha: Option<CaptchaAnswer>,
    pub client_ip: Option<IpAddr>,
}

/// A code is on its way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmsSent {
    /// Seconds the code stays valid.
    pub expires_in: i64,
    /// Seconds before another code may be requested.
    pub resend_after: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum SendSmsError {
    #[error("a captcha is required and none was given")]
    CaptchaRequired,
    #[error("the captcha was not passed")]
    CaptchaFailed(#[source] CaptchaError),
    #[error("the captcha provider could not be asked")]
    CaptchaUnavailable(#[source] CaptchaError),
    #[error("mobile already registered")]
    MobileRegistered,
    #[error("a login or reset code for a number nobody has registered")]
    MobileNotRegistered,
    #[error("a code was sent less than the resend interval ago")]
    TooFrequent { retry_after: u64 },
    #[error("this number has had its codes for today")]
    DailyLimit { retry_after: u64 },
    #[error("this address has asked for too many codes this hour")]
    IpLimit { retry_after: u64 },
    #[error("the day's SMS budget is used up")]
    BudgetExhausted { retry_after: u64 },
    #[error("the SMS provider failed")]
    Provider(#[source] SmsError),
    #[error("could not record the code")]
    Store(#[from] StoreError),
}

pub struct SendSms<'a> {
    pub codes: &'a dyn CodeStore,
    pub counters: &'a dyn LimitStore,
    pub sender: &'a dyn SmsSender,
    /// `None` when no captcha is configured.
    pub captcha: Option<&'a dyn CaptchaVerifier>,
    pub captcha_timeout: Duration,
    pub limiter: Limiter<'a>,
    pub code_hasher: &'a CodeHasher,
    pub clock: &'a dyn Clock,
    pub policy: CodePolicy,
    /// The provider's whole answer must arrive within this.
    pub provider_timeout: Duration,
}

/// Which limit a counter of a send stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Limit {
    PerMobile,
    PerIp,
    Budget,
}

fn random_send_id() -> String {
    let mut bytes = [0u8; 16];
    crate::random::fill(&mut bytes);
    crate::hex_text::lower(&bytes)
}

impl SendSms<'_> {
    pub async fn run(&self, request: &SmsRequest) -> Result<SmsSent, SendSmsError> {
        self.check_captcha(request).await?;
        let mobile = &request.mobile;
        let policy = self.policy;
        let now = self.clock.now();
        let (limits, counters): (Vec<Limit>, Vec<Counter>) = [
            (Limit::PerMobile, self.limiter.sms_per_mobile(mobile, now)),
            (Limit::PerIp, self.limiter.sms_per_ip(request.client_ip, now)),
            (Limit::Budget, self.limiter.sms_budget(now)),
        ]
        .into_iter()
        .filter_map(|(limit, counter)| counter.map(|c| (limit, c)))
        .unzip();

        let code = SmsCode::generate(policy.length);
        let pending = PendingCode {
            send_id: random_send_id(),
            code_hash: self.code_hasher.hash(mobile, &code),
            purpose: request.purpose,
            code_expires_at: now + policy.ttl_seconds,
            resend_at: now + policy.resend_interval_seconds,
        };
        match self.codes.begin_sms(mobile, &pending, &counters, now).await {
            Ok(()) => {}
            Err(BeginSmsError::Registered) => return Err(SendSmsError::MobileRegistered),
            Err(BeginSmsError::NotRegistered) => return Err(SendSmsError::MobileNotRegistered),
            Err(BeginSmsError::TooFrequent { resend_at }) => {
                return Err(SendSmsError::TooFrequent { retry_after: (resend_at - now).max(1) as u64 })
            }
            Err(BeginSmsError::LimitReached { counter }) => {
                return Err(self.refusal(limits[counter], &counters[counter], now).await);
            }
            Err(BeginSmsError::Store(e)) => return Err(SendSmsError::Store(e)),
        }

        let timeout = self.provider_timeout;
        let message = self.sender.send_code(mobile, &code, policy.ttl_minutes(), request.purpose);
        let sent = tokio::time::timeout(timeout, message).await.unwrap_or(Err(SmsError::Timeout(timeout)));
        if let Err(failure) = sent {
            if let Err(e) = self.codes.release_sms(mobile, &pending.send_id, &counters).await {
                // The code stays unusable to anyone who did not receive it; only
                // the interval and the counters stay in force until they end.
                tracing::error!(error = %crate::telemetry::error_chain(&e), "could not release the interval after a failed send");
            }
            return Err(SendSmsError::Provider(failure));
        }
        Ok(SmsSent { expires_in: policy.ttl_seconds, resend_after: policy.resend_interval_seconds })
    }

    async fn check_captcha(&self, request: &SmsRequest) -> Result<(), SendSmsError> {
        let Some(verifier) = self.captcha else {
            return Ok(());
        };
        let answer = request.captcha.as_ref().ok_or(SendSmsError::CaptchaRequired)?;
        let timeout = self.captcha_timeout;
        let verdict = tokio::time::timeout(timeout, verifier.verify(answer, request.client_ip))
            .await
            .unwrap_or_else(|_| Err(CaptchaError::Unavailable(format!("no answer within {timeout:?}").into())));
        match verdict {
            Ok(()) => Ok(()),
            Err(e @ CaptchaError::Rejected(_)) => Err(SendSmsError::CaptchaFailed(e)),
            Err(e @ CaptchaError::Unavailable(_)) => Err(SendSmsError::CaptchaUnavailable(e)),
        }
    }

    async fn refusal(&self, limit: Limit, counter: &Counter, now: i64) -> SendSmsError {
        let retry_after = limits::retry_after(counter, now);
        match limit {
            Limit::PerMobile => SendSmsError::DailyLimit { retry_after },
            Limit::PerIp => SendSmsError::IpLimit { retry_after },
            Limit::Budget => {
                // One error line for the whole fleet when the budget runs
                // out, not one per refused request.
                let flag = format!("sms_budget_exhausted#{}", counter.key);
                match self.counters.first_time(&flag, counter.window_ends).await {
                    Ok(true) => tracing::error!(
                        code = "sms_budget_exhausted",
                        budget = counter.limit,
                        "the daily SMS budget is used up: no code is sent until the day ends (China time)"
                    ),
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(error = %crate::telemetry::error_chain(&e), "could not record the budget alert")
                    }
                }
                SendSmsError::BudgetExhausted { retry_after }
            }
        }
    }
}
