//! A Lambda Runtime API emulator, enough for one function process at a
//! time: `GET …/invocation/next` hands out the loaded events in order (and
//! then holds the request open, as Lambda does between invocations), and
//! `POST …/response` or `…/error` records the answer.
//!
//! The instant of the first `/next` is the end of a cold start: the process
//! has initialised and asks for work.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tokio::sync::watch;

#[derive(Debug, Clone)]
pub struct Answer {
    /// When the event was handed out and when its answer came back.
    pub handed_at: Instant,
    pub answered_at: Instant,
    /// The function's response (an API Gateway v2 response) or error body.
    pub body: serde_json::Value,
    pub error: bool,
}

impl Answer {
    pub fn status_code(&self) -> Option<u64> {
        self.body["statusCode"].as_u64()
    }
}

#[derive(Default)]
struct Session {
    events: VecDeque<String>,
    first_next: Option<Instant>,
    handed: HashMap<String, Instant>,
    answers: Vec<Answer>,
    next_id: u64,
}

struct Shared {
    session: Mutex<Session>,
    answered: watch::Sender<usize>,
}

impl Shared {
    fn session(&self) -> std::sync::MutexGuard<'_, Session> {
        self.session.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub struct Emulator {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Emulator {
    pub async fn start() -> std::io::Result<Self> {
        let shared = Arc::new(Shared { session: Mutex::default(), answered: watch::Sender::new(0) });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(Self { addr, shared })
    }

    /// Starts a new session: these events, in order, for the next process.
    pub fn load(&self, events: Vec<String>) {
        *self.shared.session() = Session { events: events.into(), ..Session::default() };
        self.shared.answered.send_replace(0);
    }

    pub fn first_next(&self) -> Option<Instant> {
        self.shared.session().first_next
    }

    /// Waits until `n` answers of this session have come back, however long
    /// moto takes, but fails when `stall` passes without a new one.
    pub async fn answers(&self, n: usize, stall: Duration) -> Result<Vec<Answer>, String> {
        let mut rx = self.shared.answered.subscribe();
        loop {
            if *rx.borrow_and_update() >= n {
                return Ok(self.shared.session().answers.clone());
            }
            if !tokio::time::timeout(stall, rx.changed()).await.is_ok_and(|r| r.is_ok()) {
                let got = self.shared.session().answers.clone();
                let last = got.last().map(|a| a.body.to_string()).unwrap_or_default();
                return Err(format!("{} of {n} answers, then none for {stall:?}; last: {last}", got.len()));
            }
        }
    }
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    let handed = {
        let mut session = shared.session();
        let now = Instant::now();
        session.first_next.get_or_insert(now);
        match session.events.pop_front() {
            Some(event) => {
                session.next_id += 1;
                let id = format!("bench-{}", session.next_id);
                session.handed.insert(id.clone(), now);
                Some((id, event))
            }
            None => None,
        }
    };
    let Some((id, event)) = handed else {
        // Nothing more to do: hold the request as Lambda does while frozen.
        std::future::pending::<()>().await;
        unreachable!("a pending future never resolves")
    };
    let deadline = std::time::SystemTime::now() + Duration::from_secs(10);
    let deadline_ms = deadline.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        headers.insert(name, HeaderValue::from_str(&value).expect("ASCII header"));
    };
    set("lambda-runtime-aws-request-id", id);
    set("lambda-runtime-deadline-ms", deadline_ms.to_string());
    set("lambda-runtime-invoked-function-arn", "arn:aws:lambda:us-east-1:123456789012:function:bench".into());
    set("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0".into());
    set("content-type", "application/json".into());
    (StatusCode::OK, headers, event).into_response()
}

fn record(shared: &Shared, id: &str, body: &[u8], error: bool) {
    let body = serde_json::from_slice(body).unwrap_or_else(|_| String::from_utf8_lossy(body).into_owned().into());
    let answered_at = Instant::now();
    let count = {
        let mut session = shared.session();
        let handed_at = session.handed.get(id).copied().unwrap_or(answered_at);
        session.answers.push(Answer { handed_at, answered_at, body, error });
        session.answers.len()
    };
    shared.answered.send_replace(count);
}

async fn response(State(shared): State<Arc<Shared>>, Path(id): Path<String>, body: axum::body::Bytes) -> StatusCode {
    record(&shared, &id, &body, false);
    StatusCode::ACCEPTED
}

async fn error(State(shared): State<Arc<Shared>>, Path(id): Path<String>, body: axum::body::Bytes) -> StatusCode {
    record(&shared, &id, &body, true);
    StatusCode::ACCEPTED
}

async fn init_error(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> StatusCode {
    record(&shared, "init", &body, true);
    StatusCode::ACCEPTED
}
