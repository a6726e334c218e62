//! An SMS backend that records what it would text, so a test can read the
//! code as the user would from their phone, and can be told to fail or hang.

use std::sync::Mutex;

use signup::domain::{Mobile, SmsCode};
use signup::sms::{SmsError, SmsSender};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    Deliver,
    Refuse,
    Hang,
}

pub struct RecordingSms {
    behaviour: Mutex<Behaviour>,
    sent: Mutex<Vec<(String, String)>>,
    attempts: std::sync::atomic::AtomicUsize,
}

impl Default for RecordingSms {
    fn default() -> Self {
        Self {
            behaviour: Mutex::new(Behaviour::Deliver),
            sent: Mutex::default(),
            attempts: Default::default(),
        }
    }
}

impl RecordingSms {
    pub fn set(&self, behaviour: Behaviour) {
        *self.behaviour.lock().unwrap() = behaviour;
    }

    /// (mobile, code) of every message delivered, oldest first.
    pub fn sent(&self) -> Vec<(String, String)> {
        self.sent.lock().unwrap().clone()
    }

    /// Every send the service asked for, delivered or not.
    pub fn attempts(&self) -> usize {
        self.attempts.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The last code delivered to `mobile`.
    pub fn last_code(&self, mobile: &str) -> Option<String> {
        self.sent()
            .into_iter()
            .rev()
            .find(|(m, _)| m == mobile)
            .map(|(_, c)| c)
    }
}

#[async_trait::async_trait]
impl SmsSender for RecordingSms {
    async fn send_code(
        &self,
        mobile: &Mobile,
        code: &SmsCode,
        _ttl_minutes: i64,
    ) -> Result<(), SmsError> {
        self.attempts
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let behaviour = *self.behaviour.lock().unwrap();
        match behaviour {
            Behaviour::Deliver => {
                self.sent
                    .lock()
                    .unwrap()
                    .push((mobile.as_str().to_owned(), code.expose().to_owned()));
                Ok(())
            }
            Behaviour::Refuse => Err(SmsError::Rejected {
                code: "test".into(),
                message: "refused by the test".into(),
            }),
            Behaviour::Hang => std::future::pending().await,
        }
    }
}
