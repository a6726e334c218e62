//! `cargo run --release -p local-api`: the whole API and the pages on 127.0.0.1:3000.

use std::process::ExitCode;
use std::sync::Arc;

use local_api::{App, LocalConfig};
use signup::config::{Mode, SmsBackend, StoreKind};
use signup::{Services, Settings};

#[tokio::main]
async fn main() -> ExitCode {
    // Log lines go to standard error from a background thread: a request
    // never waits on that write (issue 11). Not lossy: when the thread falls
    // behind by its whole buffer, logging waits rather than drops lines.
    // The buffer's slots are allocated up front: tracing-appender's 128,000
    // took 4 MB of the idle process; 16,384 hold over 100 ms of send's two
    // lines a request at the benchmark's rate, against the thread's 1 ms.
    let (writer, _flush_on_exit) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(16_384)
        .finish(Batches::stderr());
    signup::telemetry::init_writing_to(Mode::Local, writer);
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("local-api cannot start: {}", signup::telemetry::error_chain(e.as_ref()));
            ExitCode::FAILURE
        }
    }
}

/// Standard error for the log thread: the lines it has at hand go out in
/// one write, and after each batch it gathers for a moment. A line sent to
/// a thread that is waiting wakes it (a system call per line, as was a
/// write per line); one sent while it is busy or gathering does not. No
/// request waits on this thread, so it gathers for a millisecond: under
/// load that is some eighty lines a write, and 0.7 µs less CPU a send than
/// gathering for 200 µs (both local APIs under wrk at once, six rounds).
struct Batches {
    stderr: std::io::BufWriter<std::io::Stderr>,
}

impl Batches {
    const GATHER: std::time::Duration = std::time::Duration::from_millis(1);

    fn stderr() -> Self {
        Self { stderr: std::io::BufWriter::with_capacity(64 * 1024, std::io::stderr()) }
    }
}

impl std::io::Write for Batches {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        self.stderr.write(line)
    }

    /// The log thread flushes after each batch of lines it took off its queue.
    fn flush(&mut self) -> std::io::Result<()> {
        self.stderr.flush()?;
        std::thread::sleep(Self::GATHER);
        Ok(())
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let config = LocalConfig::from_env()?;
    let settings = Settings::from_env(Mode::Local)?;
    let (store, sms) = (settings.store, settings.sms.name());
    let needs_aws = settings.store == StoreKind::DynamoDb || matches!(settings.sms, SmsBackend::Sns);
    let mut builder = Services::builder(settings).create_table(config.create_table);
    if needs_aws {
        builder = builder.aws_config(signup::aws::load_config().await);
    }
    let services = builder.build().await?;
    let listener =
        tokio::net::TcpListener::bind(config.addr).await.map_err(|e| format!("LOCAL_API_ADDR {}: {e}", config.addr))?;
    tracing::info!(
        "local API on http://{} (store: {store:?}, SMS backend: {sms}); pages at /, /register, /login",
        listener.local_addr()?,
    );
    // Ctrl-C or SIGTERM (what the test harnesses send): a graceful stop,
    // after which the log writer thread flushes its last lines.
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let shutdown = async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
    };
    local_api::serve(listener, Arc::new(App { services, config }), shutdown).await?;
    Ok(())
}
