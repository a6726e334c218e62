//! Local development only: the message, code included, goes to the log
//! (and, when configured, to an outbox file a test or a script can read).
//! Configuration refuses this backend in Lambda mode.

use std::io::Write;
use std::path::PathBuf;

use super::{message_text, SmsError, SmsSender};
use crate::domain::{Mobile, Purpose, SmsCode};

pub struct LogSender {
    outbox: Option<PathBuf>,
}

impl LogSender {
    pub fn new(outbox: Option<PathBuf>) -> Self {
        Self { outbox }
    }

    fn append_to_outbox(&self, line: &serde_json::Value) -> std::io::Result<()> {
        let Some(path) = &self.outbox else {
            return Ok(());
        };
        // One write of the whole line: a reader never sees half of it.
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        file.write_all(format!("{line}\n").as_bytes())
    }
}

#[async_trait::async_trait]
impl SmsSender for LogSender {
    async fn send_code(&self, mobile: &Mobile, code: &SmsCode, ttl_minutes: i64) -> Result<(), SmsError> {
        self.send_code_for(mobile, code, ttl_minutes, Purpose::Register).await
    }

    async fn send_code_for(
        &self,
        mobile: &Mobile,
        code: &SmsCode,
        ttl_minutes: i64,
        purpose: Purpose,
    ) -> Result<(), SmsError> {
        let text = message_text(code, ttl_minutes, purpose);
        tracing::info!(target: "sms_log_backend", mobile = mobile.as_str(), code = code.expose(), "SMS not sent (log backend): {text}");
        let line = serde_json::json!({
            "mobile": mobile.as_str(),
            "code": code.expose(),
            "purpose": purpose.as_str(),
            "text": text,
        });
        self.append_to_outbox(&line).map_err(|e| SmsError::Transport(Box::new(e)))
    }
}
