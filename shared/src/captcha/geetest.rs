//! Geetest v4 (极验) secondary validation.
//!
//! `POST {api_url}/validate?captcha_id={id}` with the form fields
//! `lot_number`, `captcha_output`, `pass_token`, `gen_time` and `sign_token`
//! = hex HMAC-SHA256 of `lot_number` under the captcha key. Only
//! `"result": "success"` passes.

use std::net::IpAddr;

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::Sha256;

use super::{CaptchaAnswer, CaptchaError, CaptchaVerifier};

pub struct GeetestVerifier {
    http: reqwest::Client,
    captcha_id: String,
    captcha_key: SecretString,
    api_url: String,
}

#[derive(Deserialize)]
struct Reply {
    result: String,
    #[serde(default)]
    reason: String,
}

impl GeetestVerifier {
    pub fn new(
        captcha_id: String,
        captcha_key: SecretString,
        api_url: String,
        timeout: std::time::Duration,
    ) -> Result<Self, reqwest::Error> {
        Ok(Self { http: super::client(timeout)?, captcha_id, captcha_key, api_url })
    }

    fn sign_token(&self, lot_number: &str) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(self.captcha_key.expose_secret().as_bytes()).expect("HMAC takes any key");
        mac.update(lot_number.as_bytes());
        crate::hex_text::lower(&mac.finalize().into_bytes())
    }
}

#[async_trait::async_trait]
impl CaptchaVerifier for GeetestVerifier {
    async fn verify(&self, answer: &CaptchaAnswer, _client_ip: Option<IpAddr>) -> Result<(), CaptchaError> {
        let CaptchaAnswer::Geetest { lot_number, captcha_output, pass_token, gen_time } = answer else {
            return Err(CaptchaError::Rejected("not a Geetest answer".into()));
        };
        let sign_token = self.sign_token(lot_number);
        let form = [
            ("lot_number", lot_number.as_str()),
            ("captcha_output", captcha_output.as_str()),
            ("pass_token", pass_token.as_str()),
            ("gen_time", gen_time.as_str()),
            ("sign_token", sign_token.as_str()),
        ];
        let request = self
            .http
            .post(format!("{}/validate", self.api_url))
            .query(&[("captcha_id", self.captcha_id.as_str())])
            .form(&form);
        let reply: Reply = super::ask("Geetest", request).await?;
        match reply.result.as_str() {
            "success" => Ok(()),
            _ => Err(CaptchaError::Rejected(format!("{} {}", reply.result, reply.reason))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_token_is_hex_hmac_sha256_of_the_lot_number_under_the_key() {
        let verifier = GeetestVerifier::new(
            "id".into(),
            "key".into(),
            "http://127.0.0.1:1".into(),
            std::time::Duration::from_secs(1),
        )
        .unwrap();
        // HMAC-SHA256(key="key", "The quick brown fox jumps over the lazy dog"), RFC 4231-style known value.
        assert_eq!(
            verifier.sign_token("The quick brown fox jumps over the lazy dog"),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }
}
