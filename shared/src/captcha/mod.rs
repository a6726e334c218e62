//! The captcha every SMS request passes before anything is spent: one
//! trait, a verifier per provider, chosen by `CAPTCHA_PROVIDER`. A provider
//! that cannot be asked fails closed: an SMS costs money.

#[cfg(feature = "captcha")]
mod geetest;
#[cfg(feature = "captcha")]
mod turnstile;

#[cfg(feature = "captcha")]
pub use geetest::GeetestVerifier;
#[cfg(feature = "captcha")]
pub use turnstile::TurnstileVerifier;

use std::net::IpAddr;

/// What the page's widget produced, in the provider's own fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptchaAnswer {
    Geetest { lot_number: String, captcha_output: String, pass_token: String, gen_time: String },
    Turnstile { token: String },
}

#[derive(Debug, thiserror::Error)]
pub enum CaptchaError {
    /// The provider checked the answer and said no (or the answer is for another provider).
    #[error("the provider rejected the answer: {0}")]
    Rejected(String),
    /// The provider could not be asked, answered nonsense, or was too slow.
    #[error("the provider is unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

#[async_trait::async_trait]
pub trait CaptchaVerifier: Send + Sync {
    async fn verify(&self, answer: &CaptchaAnswer, client_ip: Option<IpAddr>) -> Result<(), CaptchaError>;
}

#[cfg(feature = "captcha")]
/// The HTTP client of a provider: bounded in every phase by `timeout`.
fn client(timeout: std::time::Duration) -> Result<reqwest::Client, reqwest::Error> {
    crate::tls::install_provider();
    reqwest::Client::builder().timeout(timeout).connect_timeout(timeout).build()
}

/// Sends a provider's check and reads its JSON answer: a transport failure,
/// an HTTP error status or a body that is not the answer is `Unavailable`.
#[cfg(feature = "captcha")]
async fn ask<T: serde::de::DeserializeOwned>(
    provider: &str,
    request: reqwest::RequestBuilder,
) -> Result<T, CaptchaError> {
    let response = request.send().await.map_err(unavailable)?;
    if !response.status().is_success() {
        let status = response.status();
        return Err(CaptchaError::Unavailable(format!("{provider} answered HTTP {status}").into()));
    }
    response.json().await.map_err(unavailable)
}

#[cfg(feature = "captcha")]
/// A transport failure, without the URL (it may carry keys).
fn unavailable(e: reqwest::Error) -> CaptchaError {
    CaptchaError::Unavailable(Box::new(e.without_url()))
}
