//! Phone-number sign-up: every rule of the service, shared by the four
//! Lambda functions and the local API.
//!
//! `domain` holds the parsed values, `service` one module per use case
//! with its own refusals, `store` and `sms` the outside world behind
//! traits, `http` the single request/response layer (and the only place
//! that knows status codes), `services` what is built once per cold start.

pub mod auth;
pub mod aws;
pub mod captcha;
pub mod clock;
pub mod config;
pub mod domain;
pub mod hex_text;
pub mod http;
pub mod lambda;
pub mod panics;
pub mod random;
pub mod service;
pub mod services;
pub mod sms;
pub mod store;
pub mod telemetry;
pub mod tls;

pub use config::{Mode, Settings};
pub use services::Services;
