//! Logging set-up: JSON lines in Lambda (CloudWatch reads them as fields),
//! compact text locally. `RUST_LOG` filters; the default is `info`.

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;

use crate::config::Mode;

pub fn init(mode: Mode) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let result = match mode {
        // CloudWatch stamps each line itself.
        Mode::Lambda => builder.json().flatten_event(true).without_time().with_ansi(false).try_init(),
        Mode::Local => builder.compact().with_ansi(std::io::stderr().is_terminal()).try_init(),
    };
    // A second init (tests start several servers in one process) keeps the first.
    drop(result);
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
