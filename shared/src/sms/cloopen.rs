//! 容联云通讯 (Cloopen) template SMS over its REST API, version 2013-12-26.
//!
//! `POST {base}/2013-12-26/Accounts/{AccountSid}/SMS/TemplateSMS?sig={SIG}` where
//! `SIG` is the upper-case hex MD5 of AccountSid + AuthToken + timestamp, the
//! timestamp `yyyyMMddHHmmss` in China time, and the `Authorization` header is
//! base64(AccountSid:timestamp). Success is `statusCode == "000000"`.

use base64::Engine as _;
use md5::{Digest, Md5};
use serde::Deserialize;

use super::{SmsError, SmsSender};
use crate::clock::{Clock, SystemClock};
use secrecy::ExposeSecret;

use crate::config::CloopenSettings;
use crate::domain::{Mobile, Purpose, SmsCode};

pub struct CloopenSender {
    http: reqwest::Client,
    settings: CloopenSettings,
    timeout: std::time::Duration,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CloopenReply {
    status_code: String,
    #[serde(default)]
    status_msg: String,
}

/// `yyyyMMddHHmmss` in China Standard Time (UTC+8, no daylight saving).
pub fn china_timestamp(unix_seconds: i64) -> String {
    let t = unix_seconds + 8 * 3600;
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    let (year, month, day) = crate::clock::civil_from_days(days);
    format!("{year:04}{month:02}{day:02}{:02}{:02}{:02}", secs / 3600, secs % 3600 / 60, secs % 60)
}

/// The `sig` query parameter.
fn signature(account_sid: &str, auth_token: &str, timestamp: &str) -> String {
    let digest = Md5::digest(format!("{account_sid}{auth_token}{timestamp}"));
    hex::encode_upper(digest)
}

impl CloopenSender {
    pub fn new(settings: CloopenSettings, timeout: std::time::Duration) -> Result<Self, reqwest::Error> {
        crate::tls::install_provider();
        let http = reqwest::Client::builder().timeout(timeout).connect_timeout(timeout).build()?;
        Ok(Self { http, settings, timeout })
    }
}

#[async_trait::async_trait]
impl SmsSender for CloopenSender {
    async fn send_code(
        &self,
        mobile: &Mobile,
        code: &SmsCode,
        ttl_minutes: i64,
        purpose: Purpose,
    ) -> Result<(), SmsError> {
        let s = &self.settings;
        let timestamp = china_timestamp(SystemClock.now());
        let url = format!(
            "{}/2013-12-26/Accounts/{}/SMS/TemplateSMS?sig={}",
            s.base_url,
            s.account_sid,
            signature(&s.account_sid, s.auth_token.expose_secret(), &timestamp)
        );
        let body = serde_json::json!({
            "to": mobile.as_str(),
            "appId": s.app_id,
            "templateId": match purpose {
                Purpose::Register => &s.template_id,
                Purpose::Login => &s.login_template_id,
                Purpose::ResetPassword => &s.reset_template_id,
            },
            "datas": [code.expose(), ttl_minutes.to_string()],
        });
        let response = self
            .http
            .post(url)
            .header("Accept", "application/json")
            .header("Content-Type", "application/json;charset=utf-8")
            .header(
                "Authorization",
                base64::engine::general_purpose::STANDARD.encode(format!("{}:{timestamp}", s.account_sid)),
            )
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| if e.is_timeout() { SmsError::Timeout(self.timeout) } else { transport(e) })?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(transport)?;
        let reply: CloopenReply = serde_json::from_slice(&bytes)
            .map_err(|_| SmsError::Transport(format!("HTTP {status} with a body that is not Cloopen's JSON").into()))?;
        if reply.status_code == "000000" {
            Ok(())
        } else {
            Err(SmsError::Rejected { code: reply.status_code, message: reply.status_msg })
        }
    }
}

fn transport(e: reqwest::Error) -> SmsError {
    // The URL carries the account SID and the signature: it stays out of every error.
    SmsError::Transport(Box::new(e.without_url()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn china_timestamp_is_utc_plus_eight() {
        // 2026-11-25T11:52:09Z is 19:52:09 in Beijing.
        assert_eq!(china_timestamp(1_795_607_529), "20261125195209");
        // Crossing midnight into the next day, month and year.
        assert_eq!(china_timestamp(1_798_761_600 - 8 * 3600), "20270101000000");
        assert_eq!(china_timestamp(0), "19700101080000");
        // A leap day.
        assert_eq!(china_timestamp(1_709_164_800 - 8 * 3600), "20240229000000");
    }

    #[test]
    fn signature_is_upper_case_md5_of_sid_token_and_timestamp() {
        // MD5("abc") = 900150983cd24fb0d6963f7d28e17f72
        assert_eq!(signature("a", "b", "c"), "900150983CD24FB0D6963F7D28E17F72");
    }
}
