//! Local stand-ins for the two captcha providers' server-side checks, each
//! checking a request the way the provider does and answering in its shape:
//!
//! - Geetest v4: `POST /validate?captcha_id=…` with the form fields
//!   `lot_number`, `captcha_output`, `pass_token`, `gen_time` and `sign_token`
//!   = hex HMAC-SHA256(`lot_number`) under the captcha key; it answers
//!   `{"result":"success",…}` or `{"result":"fail","reason":…}`.
//! - Cloudflare Turnstile: `POST /turnstile/v0/siteverify` with the form
//!   fields `secret`, `response` and `remoteip`; it answers
//!   `{"success":true|false,"error-codes":[…]}`.
//!
//! A test gets a passing answer from [`FakeGeetest::solve`] or
//! [`FakeTurnstile::solve`], as the page's widget would; like the real
//! providers', each passes once. Either server can be told to hang or to
//! answer HTTP 500. Reasons whose real wording we have not confirmed start
//! with `fake:`, so they can never be mistaken for the provider's own.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

pub const GEETEST_CAPTCHA_ID: &str = "647f5ed2ed8acb4be36784e01556bb71";
pub const GEETEST_CAPTCHA_KEY: &str = "b09a7aafbfd83f73b35a9b530d0337bf";
pub const TURNSTILE_SECRET_KEY: &str = "0x4AAAAAAAtest-turnstile-secret-key";

/// How the server treats the next requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Checks each request and answers as the provider does.
    Check,
    /// Answers HTTP 500 with no JSON.
    Fail500,
    /// Never answers.
    Hang,
}

/// One request that reached the server, as it read the form.
#[derive(Debug, Clone)]
pub struct Received {
    pub query: HashMap<String, String>,
    pub form: HashMap<String, String>,
}

#[derive(Clone, Default)]
struct Shared {
    mode: Arc<Mutex<Option<Mode>>>,
    /// Answers handed out by `solve` and not yet used.
    solved: Arc<Mutex<HashSet<String>>>,
    received: Arc<Mutex<Vec<Received>>>,
    next: Arc<AtomicU64>,
}

impl Shared {
    fn mode(&self) -> Mode {
        self.mode.lock().unwrap().unwrap_or(Mode::Check)
    }

    fn fresh(&self, what: &str) -> String {
        format!("{what}{:028x}", self.next.fetch_add(1, Ordering::SeqCst))
    }

    /// Removes `key` from the solved answers: true if it was there (passes once).
    fn use_up(&self, key: &str) -> bool {
        self.solved.lock().unwrap().remove(key)
    }
}

struct Server {
    base_url: String,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

async fn serve(app: axum::Router) -> Server {
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
    Server { base_url, _shutdown: tx }
}

/// What every mode but `Check` answers, or `None` to go on checking.
async fn misbehave(mode: Mode) -> Option<Response> {
    match mode {
        Mode::Check => None,
        Mode::Fail500 => Some((StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()),
        Mode::Hang => std::future::pending().await,
    }
}

pub struct FakeGeetest {
    pub base_url: String,
    shared: Shared,
    _server: Server,
}

impl FakeGeetest {
    pub async fn start() -> Self {
        let shared = Shared::default();
        let app = axum::Router::new().route("/validate", axum::routing::post(validate)).with_state(shared.clone());
        let server = serve(app).await;
        Self { base_url: server.base_url.clone(), shared, _server: server }
    }

    pub fn set(&self, mode: Mode) {
        *self.shared.mode.lock().unwrap() = Some(mode);
    }

    /// A passed captcha as the widget hands it to the page: the `captcha`
    /// object of the send request. It passes validation once.
    pub fn solve(&self) -> Value {
        let answer = json!({
            "lot_number": self.shared.fresh("lot"),
            "captcha_output": self.shared.fresh("out"),
            "pass_token": self.shared.fresh("pass"),
            "gen_time": "1795608000",
        });
        self.shared.solved.lock().unwrap().insert(geetest_key(&answer));
        answer
    }

    /// A captcha the widget never produced.
    pub fn forged(&self) -> Value {
        json!({ "lot_number": "forged", "captcha_output": "forged", "pass_token": "forged", "gen_time": "1795608000" })
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// The service's settings for this server, with the right id and key.
    pub fn vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("CAPTCHA_PROVIDER", "geetest".into()),
            ("GEETEST_CAPTCHA_ID", GEETEST_CAPTCHA_ID.into()),
            ("GEETEST_CAPTCHA_KEY", GEETEST_CAPTCHA_KEY.into()),
            ("GEETEST_API_URL", self.base_url.clone()),
        ]
    }
}

/// The four fields of an answer, as one key of the solved set.
fn geetest_key(answer: &Value) -> String {
    ["lot_number", "captcha_output", "pass_token", "gen_time"]
        .map(|f| answer[f].as_str().unwrap_or_default().to_owned())
        .join("\n")
}

fn geetest_fail(reason: &str) -> Response {
    Json(json!({ "result": "fail", "reason": reason, "captcha_args": {} })).into_response()
}

async fn validate(
    State(shared): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    shared.received.lock().unwrap().push(Received { query: query.clone(), form: form.clone() });
    if let Some(answer) = misbehave(shared.mode()).await {
        return answer;
    }
    if query.get("captcha_id").map(String::as_str) != Some(GEETEST_CAPTCHA_ID) {
        return geetest_fail("fake: unknown captcha_id");
    }
    let field = |name: &str| form.get(name).map(String::as_str);
    let fields = ["lot_number", "captcha_output", "pass_token", "gen_time", "sign_token"];
    if let Some(missing) = fields.iter().find(|f| field(f).is_none_or(str::is_empty)) {
        return geetest_fail(&format!("fake: missing {missing}"));
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(GEETEST_CAPTCHA_KEY.as_bytes()).unwrap();
    mac.update(form["lot_number"].as_bytes());
    if form["sign_token"] != hex::encode(mac.finalize().into_bytes()) {
        return geetest_fail("fake: sign_token does not match the captcha key");
    }
    let key = ["lot_number", "captcha_output", "pass_token", "gen_time"].map(|f| form[f].clone()).join("\n");
    if !shared.use_up(&key) {
        return geetest_fail("fake: not a solved captcha, or already used");
    }
    Json(json!({
        "result": "success",
        "reason": "",
        "captcha_args": { "used_type": "slide", "user_ip": "127.0.0.1", "lot_number": form["lot_number"] }
    }))
    .into_response()
}

pub struct FakeTurnstile {
    pub base_url: String,
    shared: Shared,
    _server: Server,
}

impl FakeTurnstile {
    pub async fn start() -> Self {
        let shared = Shared::default();
        let app = axum::Router::new()
            .route("/turnstile/v0/siteverify", axum::routing::post(siteverify))
            .with_state(shared.clone());
        let server = serve(app).await;
        Self { base_url: server.base_url.clone(), shared, _server: server }
    }

    pub fn set(&self, mode: Mode) {
        *self.shared.mode.lock().unwrap() = Some(mode);
    }

    /// A passed challenge as the widget hands it to the page: the `captcha`
    /// object of the send request. It passes validation once.
    pub fn solve(&self) -> Value {
        let token = self.shared.fresh("0.turnstile-token-");
        self.shared.solved.lock().unwrap().insert(token.clone());
        json!({ "token": token })
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// The service's settings for this server, with the right secret.
    pub fn vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("CAPTCHA_PROVIDER", "turnstile".into()),
            ("TURNSTILE_SECRET_KEY", TURNSTILE_SECRET_KEY.into()),
            ("TURNSTILE_API_URL", self.base_url.clone()),
        ]
    }
}

fn turnstile_fail(code: &str) -> Response {
    Json(json!({ "success": false, "error-codes": [code], "messages": [] })).into_response()
}

async fn siteverify(State(shared): State<Shared>, Form(form): Form<HashMap<String, String>>) -> Response {
    shared.received.lock().unwrap().push(Received { query: HashMap::new(), form: form.clone() });
    if let Some(answer) = misbehave(shared.mode()).await {
        return answer;
    }
    // Turnstile's own error codes, in the order it checks.
    match form.get("secret").map(String::as_str) {
        None | Some("") => return turnstile_fail("missing-input-secret"),
        Some(secret) if secret != TURNSTILE_SECRET_KEY => return turnstile_fail("invalid-input-secret"),
        Some(_) => {}
    }
    let token = match form.get("response").map(String::as_str) {
        None | Some("") => return turnstile_fail("missing-input-response"),
        Some(token) => token,
    };
    if !token.starts_with("0.turnstile-token-") {
        return turnstile_fail("invalid-input-response");
    }
    if !shared.use_up(token) {
        return turnstile_fail("timeout-or-duplicate");
    }
    Json(json!({
        "success": true,
        "challenge_ts": "2026-11-25T12:00:00.000Z",
        "hostname": "localhost",
        "error-codes": [],
        "action": "",
        "cdata": "",
    }))
    .into_response()
}
