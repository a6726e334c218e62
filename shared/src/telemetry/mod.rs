//! Logging set-up: JSON lines in Lambda (CloudWatch reads them as fields),
//! compact text locally. `RUST_LOG` filters, as comma-separated `level` and
//! `target=level` directives (tracing-subscriber's `Targets`: no span or
//! field filters, which would link a regex engine into every function); a
//! piece that is not one is dropped with a warning, and with none left the
//! level is `info`.
//!
//! In Lambda, the runtime and the HTTP and AWS client crates never log below
//! `info`, whatever `RUST_LOG` says: at `debug`/`trace` they write whole
//! events, request bodies and headers (the runtime traces every raw API
//! Gateway event, passwords and codes included).

mod line;

use std::io::IsTerminal as _;

use tracing::Metadata;
use tracing_subscriber::filter::{filter_fn, FilterExt as _, LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::Layer as _;

use crate::config::Mode;

/// Crates whose `debug` and `trace` lines may hold a request, an event or a
/// body; every `aws_*` crate (the SDK) is quiet too.
const QUIET_IN_LAMBDA: &[&str] = &[
    "lambda_runtime",
    "lambda_runtime_api_client",
    "lambda_http",
    "hyper",
    "hyper_util",
    "h2",
    "http_body_util",
    "reqwest",
    "rustls",
];

/// Whether a line may be written in `mode`, on top of `RUST_LOG`.
pub fn allowed(mode: Mode, meta: &Metadata<'_>) -> bool {
    if mode == Mode::Local || *meta.level() <= tracing::Level::INFO {
        return true;
    }
    let target = meta.target();
    let crate_name = target.split("::").next().unwrap_or(target);
    !(crate_name.starts_with("aws_") || QUIET_IN_LAMBDA.contains(&crate_name))
}

/// `RUST_LOG`'s directives, each trimmed, empty ones skipped, and `info`
/// when none is left; with the pieces that are not directives, which are
/// dropped (as tracing-subscriber's `EnvFilter` drops them) and reported.
fn directives(rust_log: Option<&str>) -> (Targets, Vec<String>) {
    let (mut targets, mut rejected, mut any) = (Targets::new(), Vec::new(), false);
    for piece in rust_log.unwrap_or_default().split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match piece.parse::<Targets>() {
            Ok(one) => {
                any = true;
                if let Some(level) = one.default_level() {
                    targets = targets.with_default(level);
                }
                targets = targets.with_targets(one.iter().map(|(target, level)| (target.to_owned(), level)));
            }
            Err(_) => rejected.push(piece.to_owned()),
        }
    }
    if !any {
        targets = targets.with_default(LevelFilter::INFO);
    }
    (targets, rejected)
}

/// Lines to standard error, written by the thread that logs. In Lambda
/// that is what it should be: the runtime reads the function's output
/// through a pipe, and a line still queued when Lambda freezes the
/// instance would be late or lost.
pub fn init(mode: Mode) {
    init_writing_to(mode, std::io::stderr);
}

/// The same, with lines written by `writer`: the local API hands them to a
/// background thread, so that no request waits on a write to standard
/// error on an async worker.
pub fn init_writing_to<W>(mode: Mode, writer: W)
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let (targets, rejected) = directives(std::env::var("RUST_LOG").ok().as_deref());
    let filter = targets.and(filter_fn(move |meta| allowed(mode, meta)));
    let layer = tracing_subscriber::fmt::layer().with_writer(writer);
    let result = match mode {
        // CloudWatch stamps each line itself.
        Mode::Lambda => tracing_subscriber::registry()
            .with(layer.json().flatten_event(true).without_time().with_ansi(false).with_filter(filter))
            .try_init(),
        // In colour for a terminal; otherwise the same line, written faster.
        Mode::Local if std::io::stderr().is_terminal() => {
            tracing_subscriber::registry().with(layer.compact().with_ansi(true).with_filter(filter)).try_init()
        }
        Mode::Local => tracing_subscriber::registry()
            .with(
                layer
                    .with_ansi(false)
                    .event_format(line::CompactLine)
                    .fmt_fields(line::CompactFields)
                    .with_filter(filter),
            )
            .try_init(),
    };
    // A second init (tests start several servers in one process) keeps the first.
    if result.is_ok() && !rejected.is_empty() {
        tracing::warn!(ignored = ?rejected, "RUST_LOG: not `level` or `target=level` directives");
    }
}

/// An error and every `source` under it, joined by ": ", for one log field.
pub fn error_chain(error: &(dyn std::error::Error + '_)) -> String {
    let mut chain = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    chain
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Every line written at `trace` while `emit` runs, with `allowed` for `mode` on top.
    fn written(mode: Mode, emit: impl FnOnce()) -> String {
        let out = Arc::new(Mutex::new(Vec::new()));
        let writer = out.clone();
        let layer = tracing_subscriber::fmt::layer()
            .with_writer(move || WriteTo(writer.clone()))
            .with_filter(LevelFilter::TRACE.and(filter_fn(move |meta| allowed(mode, meta))));
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), emit);
        let text = String::from_utf8(out.lock().unwrap().clone()).unwrap();
        text
    }

    /// What a test's layer wrote (shared with `line`'s tests).
    #[derive(Clone, Default)]
    pub(super) struct WriteTo(pub(super) Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for WriteTo {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn rust_log_sets_levels_per_target_and_falls_back_to_info() {
        use tracing::Level;
        let enabled =
            |rust_log: Option<&str>, target: &str, level: Level| directives(rust_log).0.would_enable(target, &level);
        for unset in [None, Some(""), Some("  "), Some(","), Some("signup=loud")] {
            assert!(enabled(unset, "signup", Level::INFO), "{unset:?}");
            assert!(!enabled(unset, "signup", Level::DEBUG), "{unset:?}");
        }
        assert!(enabled(Some("debug"), "hyper", Level::DEBUG));
        assert!(enabled(Some("warn,signup=trace"), "signup::service", Level::TRACE));
        assert!(!enabled(Some("warn,signup=trace"), "lambda_runtime", Level::INFO));
        // Spaces and empty pieces change nothing; a bad piece is dropped and reported.
        assert!(enabled(Some("warn, signup=debug,,"), "signup", Level::DEBUG));
        assert!(!enabled(Some("info,"), "hyper", Level::DEBUG));
        let (targets, rejected) = directives(Some("warn,signup=loud,aws_config=debug"));
        assert_eq!(rejected, ["signup=loud"]);
        assert!(targets.would_enable("aws_config", &Level::DEBUG));
        assert!(!targets.would_enable("signup", &Level::INFO));
    }

    fn emit() {
        tracing::trace!(target: "lambda_runtime::layers::api_response", body = "password123", "raw JSON event");
        tracing::debug!(target: "hyper_util::client", "request headers");
        tracing::info!(target: "lambda_runtime", "runtime started");
        tracing::trace!(target: "signup::service", "our own trace");
        tracing::debug!(target: "aws_smithy_runtime::client::orchestrator", "an SDK request");
        tracing::trace!(target: "hyperloop", "a crate that only starts like a quiet one");
    }

    #[test]
    fn in_lambda_the_runtime_and_clients_never_log_below_info() {
        let text = written(Mode::Lambda, emit);
        for quiet in ["password123", "request headers", "an SDK request"] {
            assert!(!text.contains(quiet), "{quiet:?} was written:\n{text}");
        }
        for kept in ["runtime started", "our own trace", "a crate that only starts like a quiet one"] {
            assert!(text.contains(kept), "{kept:?} missing:\n{text}");
        }
        assert!(written(Mode::Local, emit).contains("password123"), "locally RUST_LOG alone decides");
    }
}
