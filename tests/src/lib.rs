//! Test harness: real peers started by the tests themselves.
//!
//! - [`moto`]: moto's DynamoDB and SNS server, one per test binary, spawned
//!   from the project's `.venv` and gone when the test process ends.
//! - [`cloopen`]: a local HTTP server that checks requests exactly as Cloopen does.
//! - [`captcha`]: local Geetest v4 and Turnstile servers that check requests as those providers do.
//! - [`api`]: the local API in-process on a free port, with a store and an
//!   SMS backend of the test's choosing.
//! - [`faults`]: a port in front of a server that can refuse or hang;
//!   [`table`]: a whole-table read that finds half-written state.

pub mod api;
pub mod captcha;
pub mod cloopen;
pub mod events;
pub mod faults;
pub mod log_capture;
pub mod moto;
pub mod sms;
pub mod table;

/// The workspace root, for files the tests read (template.yaml, events/, web/).
pub fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ sits in the workspace").to_path_buf()
}
