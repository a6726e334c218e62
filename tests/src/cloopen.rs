//! A local stand-in for Cloopen's REST API that checks a TemplateSMS request
//! the way Cloopen does: the URL and account, `sig` = upper-case hex
//! MD5(AccountSid + AuthToken + timestamp), `Authorization` =
//! base64(AccountSid:timestamp) with the same timestamp, the `Accept` and
//! `Content-Type` headers, and the body fields. It answers in Cloopen's JSON
//! shape: `000000` on success, 111109 on a bad signature, or whatever error
//! (e.g. 160038, too frequent) or silence the test asks for.
//!
//! Refusals for reasons whose real code we have not confirmed use codes that
//! start with `fake_`, so they can never be mistaken for Cloopen's own.

use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::Json;
use base64::Engine as _;
use md5::{Digest, Md5};
use serde_json::{json, Value};

pub const ACCOUNT_SID: &str = "8aaf0708a1b2c3d4e5f60718293a4b5c";
pub const AUTH_TOKEN: &str = "c0ffee0123456789abcdef0123456789";
pub const APP_ID: &str = "8a216da8aabbccddeeff001122334455";
pub const TEMPLATE_ID: &str = "1";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Success,
    Error { code: &'static str, message: &'static str },
    Hang,
}

/// One accepted (well-signed) request.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: String,
    pub datas: Vec<String>,
}

#[derive(Clone)]
struct Shared {
    answer: Arc<Mutex<Answer>>,
    received: Arc<Mutex<Vec<Received>>>,
}

pub struct FakeCloopen {
    pub base_url: String,
    shared: Shared,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl FakeCloopen {
    pub async fn start() -> Self {
        let shared = Shared { answer: Arc::new(Mutex::new(Answer::Success)), received: Arc::default() };
        let app = axum::Router::new()
            .route("/2013-12-26/Accounts/{sid}/SMS/TemplateSMS", axum::routing::post(template_sms))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await
        });
        Self { base_url, shared, _shutdown: tx }
    }

    pub fn answer(&self, answer: Answer) {
        *self.shared.answer.lock().unwrap() = answer;
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// Settings for our Cloopen backend pointed at this server.
    pub fn settings(&self, auth_token: &str) -> signup::config::CloopenSettings {
        signup::config::CloopenSettings {
            account_sid: ACCOUNT_SID.into(),
            auth_token: auth_token.into(),
            app_id: APP_ID.into(),
            template_id: TEMPLATE_ID.into(),
            login_template_id: TEMPLATE_ID.into(),
            reset_template_id: TEMPLATE_ID.into(),
            base_url: self.base_url.clone(),
        }
    }
}

fn refuse(code: &str, message: &str) -> Json<Value> {
    Json(json!({ "statusCode": code, "statusMsg": message }))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

async fn template_sms(
    State(shared): State<Shared>,
    Path(sid): Path<String>,
    Query(query): Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
    body: String,
) -> Json<Value> {
    if sid != ACCOUNT_SID {
        return refuse("fake_unknown_account", "account sid in the URL is not this account");
    }
    // Authorization: base64("AccountSid:yyyyMMddHHmmss").
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(header(&headers, "authorization"))
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default();
    let Some((auth_sid, timestamp)) = decoded.split_once(':') else {
        return refuse("fake_bad_authorization", "Authorization is not base64(AccountSid:timestamp)");
    };
    let timestamp_ok = timestamp.len() == 14 && timestamp.bytes().all(|b| b.is_ascii_digit());
    if auth_sid != ACCOUNT_SID || !timestamp_ok {
        return refuse("fake_bad_authorization", "Authorization names another account or a malformed timestamp");
    }
    let expected_sig = hex::encode_upper(Md5::digest(format!("{ACCOUNT_SID}{AUTH_TOKEN}{timestamp}")));
    if query.get("sig").map(String::as_str) != Some(expected_sig.as_str()) {
        return refuse("111109", "请求地址Sig校验失败");
    }
    if header(&headers, "accept") != "application/json"
        || header(&headers, "content-type") != "application/json;charset=utf-8"
    {
        return refuse("fake_bad_headers", "Accept or Content-Type is not JSON as Cloopen's REST API wants");
    }
    let Ok(body) = serde_json::from_str::<Value>(&body) else {
        return refuse("fake_bad_body", "body is not JSON");
    };
    let datas: Option<Vec<String>> =
        body["datas"].as_array().and_then(|a| a.iter().map(|v| v.as_str().map(str::to_owned)).collect());
    let (Some(to), Some(datas)) = (body["to"].as_str(), datas) else {
        return refuse("fake_bad_body", "to or datas missing or mistyped");
    };
    if body["appId"] != APP_ID || body["templateId"] != TEMPLATE_ID {
        return refuse("fake_bad_body", "appId or templateId is not this account's");
    }
    shared.received.lock().unwrap().push(Received { to: to.to_owned(), datas });
    let answer = shared.answer.lock().unwrap().clone();
    match answer {
        Answer::Success => Json(json!({
            "statusCode": "000000",
            "templateSMS": { "dateCreated": "20261125120000", "smsMessageSid": "ff8080813b2b1e1a013b2bca5d6d0005" }
        })),
        Answer::Error { code, message } => refuse(code, message),
        Answer::Hang => std::future::pending().await,
    }
}
