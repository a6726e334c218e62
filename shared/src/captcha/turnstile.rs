//! Cloudflare Turnstile server-side validation.
//!
//! `POST {api_url}/turnstile/v0/siteverify` with the form fields `secret`,
//! `response` and `remoteip`. Only `"success": true` passes.

use std::net::IpAddr;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::{CaptchaAnswer, CaptchaError, CaptchaVerifier};

pub struct TurnstileVerifier {
    http: reqwest::Client,
    secret_key: SecretString,
    api_url: String,
}

#[derive(Deserialize)]
struct Reply {
    success: bool,
    #[serde(default, rename = "error-codes")]
    error_codes: Vec<String>,
}

impl TurnstileVerifier {
    pub fn new(
        secret_key: SecretString,
        api_url: String,
        timeout: std::time::Duration,
    ) -> Result<Self, reqwest::Error> {
        Ok(Self { http: super::client(timeout)?, secret_key, api_url })
    }
}

#[async_trait::async_trait]
impl CaptchaVerifier for TurnstileVerifier {
    async fn verify(&self, answer: &CaptchaAnswer, client_ip: Option<IpAddr>) -> Result<(), CaptchaError> {
        let CaptchaAnswer::Turnstile { token } = answer else {
            return Err(CaptchaError::Rejected("not a Turnstile answer".into()));
        };
        let remote_ip = client_ip.map(|ip| ip.to_string()).unwrap_or_default();
        let mut form = vec![("secret", self.secret_key.expose_secret()), ("response", token.as_str())];
        if !remote_ip.is_empty() {
            form.push(("remoteip", remote_ip.as_str()));
        }
        let request = self.http.post(format!("{}/turnstile/v0/siteverify", self.api_url)).form(&form);
        let reply: Reply = super::ask("Turnstile", request).await?;
        match reply.success {
            true => Ok(()),
            false => Err(CaptchaError::Rejected(reply.error_codes.join(","))),
        }
    }
}
