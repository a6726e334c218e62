//! An SMS backend that records what it would text, so a test can read the
//! code as the user would from their phone, and can be told to fail or hang.
//! Wrapped around a real backend, it records what passes through it.

use std::sync::{Arc, Mutex};

use signup::domain::{Mobile, Purpose, SmsCode};
use signup::sms::{SmsError, SmsSender};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    Deliver,
    Refuse,
    Hang,
}

pub struct RecordingSms {
    /// Where a delivered message really goes, if anywhere.
    inner: Option<Arc<dyn SmsSender>>,
    behaviour: Mutex<Behaviour>,
    sent: Mutex<Vec<(String, String)>>,
    attempted: Mutex<Vec<(String, String)>>,
}

impl Default for RecordingSms {
    fn default() -> Self {
        Self {
            inner: None,
            behaviour: Mutex::new(Behaviour::Deliver),
            sent: Mutex::default(),
            attempted: Mutex::default(),
        }
    }
}

impl RecordingSms {
    /// Records every send and hands it to `inner`; a send counts as
    /// delivered when `inner` says so.
    pub fn forwarding_to(inner: Arc<dyn SmsSender>) -> Self {
        Self { inner: Some(inner), ..Self::default() }
    }

    pub fn set(&self, behaviour: Behaviour) {
        *self.behaviour.lock().unwrap() = behaviour;
    }

    /// (mobile, code) of every message delivered, oldest first.
    pub fn sent(&self) -> Vec<(String, String)> {
        self.sent.lock().unwrap().clone()
    }

    /// (mobile, code) of every send the service asked for, delivered or not.
    pub fn attempted(&self) -> Vec<(String, String)> {
        self.attempted.lock().unwrap().clone()
    }

    /// The last code delivered to `mobile`.
    pub fn last_code(&self, mobile: &str) -> Option<String> {
        self.sent().into_iter().rev().find(|(m, _)| m == mobile).map(|(_, c)| c)
    }
}

#[async_trait::async_trait]
impl SmsSender for RecordingSms {
    async fn send_code(
        &self,
        mobile: &Mobile,
        code: &SmsCode,
        ttl_minutes: i64,
        purpose: Purpose,
    ) -> Result<(), SmsError> {
        self.attempted.lock().unwrap().push((mobile.as_str().to_owned(), code.expose().to_owned()));
        let behaviour = *self.behaviour.lock().unwrap();
        match behaviour {
            Behaviour::Deliver => {
                if let Some(inner) = &self.inner {
                    inner.send_code(mobile, code, ttl_minutes, purpose).await?;
                }
                self.sent.lock().unwrap().push((mobile.as_str().to_owned(), code.expose().to_owned()));
                Ok(())
            }
            Behaviour::Refuse => Err(SmsError::Rejected { code: "test".into(), message: "refused by the test".into() }),
            Behaviour::Hang => std::future::pending().await,
        }
    }
}
