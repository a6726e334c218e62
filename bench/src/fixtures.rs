//! The service as the benchmarks drive it: the one place its state is
//! built, requests shaped as the local API hands them over, and bulk
//! seeding of users and codes through the `Store` trait.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};

use signup::auth::CodeHasher;
use signup::config::{Mode, Settings};
use signup::domain::{Mobile, Password, PasswordPolicy, Purpose, SmsCode, User, UserId};
use signup::http::AllRoutes;
use signup::sms::{SmsError, SmsSender};
use signup::store::{CodeClaim, PendingCode, Store};

/// At least 32 bytes, as Lambda mode demands.
pub const JWT_SECRET: &str = "benchmark-secret-0123456789abcdef-0123456789";
pub const PASSWORD: &str = "password123";
pub const CODE: &str = "123456";

/// [`PASSWORD`], parsed as the service parses it.
pub fn password() -> Password {
    Password::parse(PASSWORD, PasswordPolicy::default()).expect("valid password")
}

/// Abuse limits high enough never to refuse a benchmark request, so that the
/// figures measure throughput. Unknown variables are ignored by today's
/// configuration; they take effect once the limits exist.
pub const GENEROUS_LIMITS: &[(&str, &str)] = &[
    ("SMS_MAX_PER_IP_PER_HOUR", "100000000"),
    ("SMS_DAILY_BUDGET", "100000000"),
    ("SMS_MAX_PER_MOBILE_PER_DAY", "100000000"),
    ("AUTH_MAX_ATTEMPTS_PER_IP_PER_10_MIN", "100000000"),
    ("LOGIN_MAX_FAILURES", "100000000"),
    ("SMS_CODE_MAX_FAILURES_PER_MOBILE_PER_DAY", "100000000"),
];

/// The service's per-process state, under the name the benchmarks use.
pub type ServiceState = signup::Services;

/// Builds the state every in-process benchmark uses: Lambda-mode settings
/// (a fixed JWT secret, generous limits) around the given store and SMS
/// backend. The only place that names the state's constructor.
pub async fn service_state(store: Arc<dyn Store>, sms: Arc<dyn SmsSender>) -> ServiceState {
    service_state_hashing_with(store, sms, signup::auth::PasswordHasher::default()).await
}

/// The same, with another password hasher: the benchmark times register
/// and login without argon2's cost through it.
pub async fn service_state_hashing_with(
    store: Arc<dyn Store>,
    sms: Arc<dyn SmsSender>,
    hasher: signup::auth::PasswordHasher,
) -> ServiceState {
    let settings = Settings::from_lookup(Mode::Lambda, |var| {
        let fixed = [("JWT_SECRET", JWT_SECRET), ("SMS_CODE_SECRET", JWT_SECRET), ("SMS_BACKEND", "sns")];
        fixed.iter().chain(GENEROUS_LIMITS).find(|(name, _)| *name == var).map(|(_, value)| value.to_string())
    })
    .expect("benchmark settings are valid");
    signup::Services::builder(settings)
        .store(store)
        .sms(sms)
        .password_hasher(hasher)
        .build()
        .await
        .expect("services from benchmark parts")
}

/// The key the benchmarks' codes are hashed with (the state's code key).
pub fn code_hasher() -> CodeHasher {
    CodeHasher::from_secret(&JWT_SECRET.as_bytes().to_vec().into())
}

/// Unix seconds now, as the state's clock tells it.
pub fn now() -> i64 {
    use signup::clock::Clock as _;
    signup::clock::SystemClock.now()
}

/// The `n`th mobile of a family: `1`, the family digit (3–9), nine digits.
pub fn mobile_number(family: u8, n: u64) -> String {
    assert!((3..=9).contains(&family) && n < 1_000_000_000, "mobile {family}/{n} out of range");
    format!("1{family}{n:09}")
}

pub fn mobile(family: u8, n: u64) -> Mobile {
    Mobile::parse(&mobile_number(family, n)).expect("generated mobiles are valid")
}

pub fn get(path: &str) -> lambda_http::Request {
    http::Request::builder().method("GET").uri(path).body(lambda_http::Body::Empty).expect("valid request")
}

pub fn post_json(path: &str, body: &serde_json::Value) -> lambda_http::Request {
    http::Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/json")
        .body(lambda_http::Body::Binary(body.to_string().into_bytes()))
        .expect("valid request")
}

/// One request through `signup::http::handle`, as the local API makes it.
pub async fn call(state: &ServiceState, req: lambda_http::Request) -> (u16, serde_json::Value) {
    let response = signup::http::handle::<AllRoutes>(state, Some(IpAddr::V4(Ipv4Addr::LOCALHOST)), req).await;
    let status = response.status().as_u16();
    let body = match response.body() {
        lambda_http::Body::Text(text) => serde_json::from_str(text).unwrap_or(serde_json::Value::Null),
        lambda_http::Body::Binary(bytes) => serde_json::from_slice(bytes).unwrap_or(serde_json::Value::Null),
        _ => serde_json::Value::Null,
    };
    (status, body)
}

/// A code `CODE` texted to `mobile` just now, as `send_sms` would store it.
pub async fn seed_code(store: &dyn Store, codes: &CodeHasher, mobile: &Mobile, now: i64) {
    let code = SmsCode::parse(CODE, 6).expect("CODE has the default length");
    let pending = PendingCode {
        send_id: format!("bench-code-{}", mobile.as_str()),
        code_hash: codes.hash(mobile, &code),
        purpose: Purpose::Register,
        code_expires_at: now + 300,
        resend_at: now + 60,
    };
    store.begin_sms(mobile, &pending, &[], now).await.expect("seeding a code");
}

/// Registers `count` users of `family`, numbers `0..count`, all with the
/// same password hash.
pub async fn seed_users(store: &dyn Store, family: u8, count: u64, password_hash: &str, now: i64) {
    for n in 0..count {
        seed_user(store, mobile(family, n), password_hash, now).await;
    }
}

/// Registers one user. Users only come into being by consuming a code, so
/// this is a `begin_sms` and a `create_user`, as a real registration.
pub async fn seed_user(store: &dyn Store, mobile: Mobile, password_hash: &str, now: i64) {
    let send_id = format!("bench-user-{}", mobile.as_str());
    let pending = PendingCode {
        send_id: send_id.clone(),
        code_hash: String::new(),
        purpose: Purpose::Register,
        code_expires_at: now + 300,
        resend_at: now,
    };
    store.begin_sms(&mobile, &pending, &[], now).await.expect("seeding a user's code");
    let user = User {
        id: UserId::new_random(),
        mobile,
        password_hash: password_hash.to_owned(),
        created_at: now,
        token_version: 0,
    };
    let claim = CodeClaim { send_id: &send_id, max_attempts: 5, now };
    store.create_user(&user, claim).await.expect("seeding a user");
}

/// An SMS backend that texts nobody and remembers the last code per number,
/// so a benchmark can register with the code the service generated.
#[derive(Default)]
pub struct CapturingSms {
    last: Mutex<HashMap<String, String>>,
}

impl CapturingSms {
    pub fn code_for(&self, mobile: &str) -> Option<String> {
        self.last.lock().unwrap_or_else(|p| p.into_inner()).get(mobile).cloned()
    }
}

#[async_trait::async_trait]
impl SmsSender for CapturingSms {
    async fn send_code(&self, mobile: &Mobile, code: &SmsCode, _ttl_minutes: i64, _: Purpose) -> Result<(), SmsError> {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        last.insert(mobile.as_str().to_owned(), code.expose().to_owned());
        Ok(())
    }
}
