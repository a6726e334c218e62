//! Local development only: the message, code included, goes to the log
//! (and, when configured, to an outbox file a test or a script can read).
//! Configuration refuses this backend in Lambda mode.

use std::path::PathBuf;

use tokio::io::AsyncWriteExt as _;

use super::{message_text, SmsError, SmsSender};
use crate::domain::{Mobile, Purpose, SmsCode};

pub struct LogSender {
    outbox: Option<Outbox>,
}

/// The outbox file, opened once on first use. Writes go through
/// `tokio::fs`, which runs the file calls on the blocking pool: no request
/// worker waits on the disk.
struct Outbox {
    path: PathBuf,
    file: tokio::sync::Mutex<Option<tokio::fs::File>>,
}

impl LogSender {
    pub fn new(outbox: Option<PathBuf>) -> Self {
        Self { outbox: outbox.map(|path| Outbox { path, file: tokio::sync::Mutex::new(None) }) }
    }

    async fn append_to_outbox(&self, line: &serde_json::Value) -> std::io::Result<()> {
        let Some(outbox) = &self.outbox else {
            return Ok(());
        };
        let mut file = outbox.file.lock().await;
        if file.is_none() {
            let opened = tokio::fs::OpenOptions::new().create(true).append(true).open(&outbox.path).await?;
            *file = Some(opened);
        }
        let file = file.as_mut().expect("opened above");
        // One write of the whole line, then a flush: a reader never sees half of it.
        file.write_all(format!("{line}\n").as_bytes()).await?;
        file.flush().await
    }
}

#[async_trait::async_trait]
impl SmsSender for LogSender {
    async fn send_code(
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
        self.append_to_outbox(&line).await.map_err(|e| SmsError::Transport(Box::new(e)))
    }
}
