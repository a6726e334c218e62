//! The local API in-process on 127.0.0.1 and a free port, built from a
//! settings map, with the store and SMS backend the test chooses.

use std::collections::HashMap;
use std::sync::Arc;

use local_api::{App, LocalConfig};
use signup::clock::ManualClock;
use signup::config::{Mode, Settings};
use signup::sms::SmsSender;
use signup::store::{DynamoStore, MemoryStore, Store};
use signup::Services;

use crate::sms::RecordingSms;

pub const TEST_JWT_SECRET: &str = "test-secret-of-at-least-thirty-two-bytes";
/// The code key of tests that set one (locally it defaults to the JWT secret).
pub const TEST_SMS_CODE_SECRET: &str = "test-code-key-of-at-least-thirty-two-bytes";

pub struct TestApi {
    pub base: String,
    pub http: reqwest::Client,
    pub sms: Arc<RecordingSms>,
    pub clock: Arc<ManualClock>,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

#[derive(Clone)]
pub enum StoreChoice {
    Memory,
    Moto,
    /// A table at a DynamoDB endpoint (moto, or a faulty port in front of
    /// it), through the service's own client with its timeouts and retries.
    Dynamo {
        endpoint: String,
        table: String,
    },
    Custom(Arc<dyn Store>),
}

pub struct Builder {
    vars: HashMap<String, String>,
    store: StoreChoice,
    sms: Option<Arc<dyn SmsSender>>,
    cors: Vec<String>,
    trust_x_forwarded_for: bool,
}

impl TestApi {
    pub fn builder() -> Builder {
        // Abuse limits are off unless a test sets them (a limit of 0 is off,
        // which only the local API accepts): tests of other behaviours make
        // many requests from one address. tests/tests/limits.rs sets each.
        let limits_off = [
            "SMS_MAX_PER_MOBILE_PER_DAY",
            "SMS_MAX_PER_IP_PER_HOUR",
            "SMS_DAILY_BUDGET",
            "AUTH_MAX_ATTEMPTS_PER_IP_PER_10_MIN",
            "LOGIN_MAX_FAILURES",
            "SMS_CODE_MAX_FAILURES_PER_MOBILE_PER_DAY",
        ]
        .map(|var| (var.to_owned(), "0".to_owned()));
        Builder {
            vars: HashMap::from_iter(
                [("JWT_SECRET".to_owned(), TEST_JWT_SECRET.to_owned())].into_iter().chain(limits_off),
            ),
            store: StoreChoice::Memory,
            sms: None,
            cors: Vec::new(),
            trust_x_forwarded_for: false,
        }
    }

    pub async fn memory() -> Self {
        Self::builder().start().await
    }

    pub async fn moto() -> Self {
        Self::builder().store(StoreChoice::Moto).start().await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn post(&self, path: &str, body: serde_json::Value) -> Reply {
        Reply::read(self.http.post(self.url(path)).json(&body).send().await.expect("the API answers")).await
    }

    pub async fn post_raw(&self, path: &str, body: impl Into<reqwest::Body>) -> Reply {
        let request = self.http.post(self.url(path)).header("content-type", "application/json").body(body);
        Reply::read(request.send().await.expect("the API answers")).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        Reply::read(self.http.get(self.url(path)).send().await.expect("the API answers")).await
    }

    /// Asks for a code and returns it as delivered.
    pub async fn send_code(&self, mobile: &str) -> String {
        self.send_code_for(mobile, "register").await
    }

    /// Asks for a code for `purpose` and returns it as delivered.
    pub async fn send_code_for(&self, mobile: &str, purpose: &str) -> String {
        let reply = self.post("/user/sms", serde_json::json!({ "mobile": mobile, "purpose": purpose })).await;
        assert_eq!(reply.status, 200, "sending a {purpose} code: {}", reply.body);
        self.sms.last_code(mobile).expect("a code was delivered")
    }

    /// `GET /user/me` with `token` as the bearer.
    pub async fn me(&self, token: &str) -> Reply {
        let request = self.http.get(self.url("/user/me")).bearer_auth(token);
        Reply::read(request.send().await.expect("the API answers")).await
    }

    /// Registers `mobile` with `password` and returns the 201 body.
    pub async fn register(&self, mobile: &str, password: &str) -> serde_json::Value {
        let code = self.send_code(mobile).await;
        self.register_with_code(mobile, password, &code).await
    }

    /// Registers with a code already sent; returns the 201 body.
    pub async fn register_with_code(&self, mobile: &str, password: &str, code: &str) -> serde_json::Value {
        let reply = self
            .post("/user/register", serde_json::json!({ "mobile": mobile, "password": password, "sms_code": code }))
            .await;
        assert_eq!(reply.status, 201, "registering: {}", reply.body);
        reply.body
    }
}

impl Builder {
    pub fn var(mut self, name: &str, value: &str) -> Self {
        self.vars.insert(name.to_owned(), value.to_owned());
        self
    }

    pub fn store(mut self, store: StoreChoice) -> Self {
        self.store = store;
        self
    }

    pub fn sms(mut self, sms: Arc<dyn SmsSender>) -> Self {
        self.sms = Some(sms);
        self
    }

    pub fn cors(mut self, origin: &str) -> Self {
        self.cors.push(origin.to_owned());
        self
    }

    /// As `TRUST_X_FORWARDED_FOR=true`: the client address is the last
    /// `X-Forwarded-For` entry instead of the socket's 127.0.0.1.
    pub fn trust_x_forwarded_for(mut self) -> Self {
        self.trust_x_forwarded_for = true;
        self
    }

    pub async fn start(self) -> TestApi {
        let vars = self.vars;
        let settings = Settings::from_lookup(Mode::Local, |k| vars.get(k).cloned()).expect("test settings are valid");
        let store: Arc<dyn Store> = match self.store {
            StoreChoice::Memory => Arc::new(MemoryStore::default()),
            StoreChoice::Moto => Arc::new(crate::moto::moto().fresh_store().await),
            StoreChoice::Dynamo { endpoint, table } => {
                let client = signup::aws::dynamodb_client(&crate::moto::sdk_config(&endpoint), &settings.dynamodb);
                Arc::new(DynamoStore::new(client, table))
            }
            StoreChoice::Custom(store) => store,
        };
        // A custom backend is wrapped, not replaced: `TestApi::sms` still
        // sees every send the service asks for.
        let recording = Arc::new(match self.sms {
            Some(inner) => RecordingSms::forwarding_to(inner),
            None => RecordingSms::default(),
        });
        let clock = Arc::new(ManualClock::starting_now());
        let services = Services::builder(settings)
            .store(store)
            .sms(recording.clone())
            .clock(clock.clone())
            .build()
            .await
            .expect("services from test parts");
        let config = LocalConfig {
            addr: "127.0.0.1:0".parse().unwrap(),
            cors_allowed_origins: self.cors,
            trust_x_forwarded_for: self.trust_x_forwarded_for,
            create_table: false,
            web_dir: crate::workspace_root().join("web"),
        };
        let listener = tokio::net::TcpListener::bind(config.addr).await.expect("a free port on 127.0.0.1");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app = Arc::new(App { services, config });
        tokio::spawn(local_api::serve(listener, app, async move {
            let _ = rx.await;
        }));
        signup::tls::install_provider();
        TestApi { base, http: reqwest::Client::new(), sms: recording, clock, _shutdown: tx }
    }
}

/// A response read whole: status, headers, JSON body (or `Null`).
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: serde_json::Value,
}

impl Reply {
    pub async fn read(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("a whole body");
        Self { status, headers, body: serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null) }
    }

    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("<no code>")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Status and error code together: what most assertions compare.
    pub fn outcome(&self) -> (u16, &str) {
        (self.status, self.body["code"].as_str().unwrap_or("-"))
    }
}
