//! Local development only: the message, code included, goes to the log
//! (and, when configured, to an outbox file a test or a script can read).
//! Configuration refuses this backend in Lambda mode.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::mpsc;

use tokio::sync::oneshot;

use super::{message_text, SmsError, SmsSender};
use crate::domain::{Mobile, Purpose, SmsCode};

pub struct LogSender {
    outbox: Option<Outbox>,
}

/// The outbox file, written by one thread of its own: a send queues its
/// line and waits (asynchronously) until the thread has written it, so no
/// request worker touches the disk, and a reader who has the response
/// already finds the line. Lines queued while a write is under way, or
/// within `GATHER` after it, go out together in the next single write.
struct Outbox {
    lines: mpsc::Sender<Queued>,
}

struct Queued {
    line: String,
    written: oneshot::Sender<Result<(), WriteFailed>>,
}

/// Why a batch was not written, for every send in it.
#[derive(Clone)]
struct WriteFailed {
    kind: std::io::ErrorKind,
    text: String,
}

/// At most this many bytes go out in one write.
const MAX_BATCH_BYTES: usize = 256 * 1024;

impl Outbox {
    fn start(path: PathBuf) -> Self {
        let (lines, queue) = mpsc::channel();
        std::thread::Builder::new()
            .name("sms-outbox".into())
            .spawn(move || write_lines(&path, &queue))
            .expect("spawning the SMS outbox writer thread");
        Self { lines }
    }

    async fn append(&self, line: String) -> std::io::Result<()> {
        let (written, done) = oneshot::channel();
        let gone = || std::io::Error::other("the SMS outbox writer thread has stopped");
        self.lines.send(Queued { line, written }).map_err(|_| gone())?;
        done.await.map_err(|_| gone())?.map_err(|failed| std::io::Error::new(failed.kind, failed.text))
    }
}

/// The writer thread: opens the file on its first line (and again after a
/// failed open), then writes whatever is queued, each line whole, in one
/// `write_all`, and tells every sender how it went. Ends when the sender
/// (the `LogSender`) is dropped.
fn write_lines(path: &std::path::Path, queue: &mpsc::Receiver<Queued>) {
    let mut file: Option<std::fs::File> = None;
    let mut batch = String::new();
    let mut waiting = Vec::new();
    // A write that failed part way may have left half a line: the next
    // write starts on a line of its own.
    let mut half_line = false;
    while let Ok(first) = queue.recv() {
        batch.clear();
        if half_line {
            batch.push('\n');
        }
        batch.push_str(&first.line);
        waiting.push(first.written);
        while batch.len() < MAX_BATCH_BYTES {
            let Ok(next) = queue.try_recv() else { break };
            batch.push_str(&next.line);
            waiting.push(next.written);
        }
        let result = open_once(&mut file, path).and_then(|opened| {
            let written = opened.write_all(batch.as_bytes());
            half_line = written.is_err();
            written
        });
        let result = result.map_err(|e| {
            // A later batch opens the file again rather than keep a handle that failed.
            file = None;
            WriteFailed { kind: e.kind(), text: format!("SMS outbox file {}: {e}", path.display()) }
        });
        for written in waiting.drain(..) {
            let _ = written.send(result.clone());
        }
        // Lines keep coming under load: gather them for a moment before
        // waiting on the queue again. A send to a thread that is waiting
        // wakes it (a system call per line, which cost more than the
        // write); one to a thread that is busy or pausing does not.
        std::thread::sleep(GATHER);
    }
}

/// How long the writer gathers lines after each write.
const GATHER: std::time::Duration = std::time::Duration::from_micros(200);

fn open_once<'f>(
    file: &'f mut Option<std::fs::File>,
    path: &std::path::Path,
) -> std::io::Result<&'f mut std::fs::File> {
    if file.is_none() {
        *file = Some(std::fs::OpenOptions::new().create(true).append(true).open(path)?);
    }
    Ok(file.as_mut().expect("opened above"))
}

/// One line of the outbox file, as JSON.
#[derive(serde::Serialize)]
struct OutboxLine<'a> {
    mobile: &'a str,
    code: &'a str,
    purpose: &'a str,
    text: &'a str,
}

impl LogSender {
    pub fn new(outbox: Option<PathBuf>) -> Self {
        Self { outbox: outbox.map(Outbox::start) }
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
        let Some(outbox) = &self.outbox else {
            return Ok(());
        };
        let line = OutboxLine { mobile: mobile.as_str(), code: code.expose(), purpose: purpose.as_str(), text: &text };
        // Room for a line of the longest message: one allocation.
        let mut json = Vec::with_capacity(256);
        serde_json::to_writer(&mut json, &line).expect("strings always serialize");
        json.push(b'\n');
        outbox
            .append(String::from_utf8(json).expect("JSON is UTF-8"))
            .await
            .map_err(|e| SmsError::Transport(Box::new(e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(i: usize) -> (Mobile, SmsCode) {
        let mobile = Mobile::parse(&format!("1380000{i:04}")).expect("a valid mobile");
        let code = SmsCode::parse(&format!("{i:06}"), 6).expect("a valid code");
        (mobile, code)
    }

    /// A fresh directory of this test's own under the system's temp dir.
    fn scratch_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("signup-outbox-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        dir
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_concurrent_send_is_one_whole_line_in_the_outbox_when_its_send_returns() {
        let dir = scratch_dir("concurrent");
        let path = dir.join("outbox.jsonl");
        let sender = std::sync::Arc::new(LogSender::new(Some(path.clone())));
        let mut sends = tokio::task::JoinSet::new();
        for i in 0..500 {
            let sender = sender.clone();
            let path = path.clone();
            sends.spawn(async move {
                let (mobile, code) = sample(i);
                sender.send_code(&mobile, &code, 5, Purpose::Register).await.expect("sent");
                // Once the send has returned, its line is in the file.
                let text = std::fs::read_to_string(&path).expect("outbox");
                assert!(text.contains(&format!("\"mobile\":\"{}\"", mobile.as_str())), "line for {i} not written yet");
            });
        }
        while let Some(done) = sends.join_next().await {
            done.expect("send task");
        }
        let text = std::fs::read_to_string(&path).expect("outbox");
        let lines: Vec<serde_json::Value> =
            text.lines().map(|l| serde_json::from_str(l).expect("each line is whole JSON")).collect();
        println!("500 concurrent sends: {} whole lines in the outbox", lines.len());
        assert_eq!(lines.len(), 500);
    }

    #[tokio::test]
    async fn an_outbox_that_cannot_be_opened_fails_the_send_and_a_later_send_still_answers() {
        let dir = scratch_dir("unopenable");
        let path = dir.join("missing-dir").join("outbox.jsonl");
        let sender = LogSender::new(Some(path.clone()));
        let (mobile, code) = sample(1);
        let first = sender.send_code(&mobile, &code, 5, Purpose::Register).await;
        assert!(matches!(first, Err(SmsError::Transport(_))), "{first:?}");
        let reason = crate::telemetry::error_chain(&first.unwrap_err());
        assert!(reason.contains("missing-dir") && reason.contains("No such file"), "{reason}");
        std::fs::create_dir(path.parent().unwrap()).expect("mkdir");
        sender.send_code(&mobile, &code, 5, Purpose::Register).await.expect("sent once the directory exists");
        assert_eq!(std::fs::read_to_string(&path).expect("outbox").lines().count(), 1);
    }
}
