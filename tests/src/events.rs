//! The event files under `events/` and the table in `events/README.md`
//! that says what each must produce.

use std::path::PathBuf;

use secrecy::ExposeSecret as _;
use signup::auth::{CodeHasher, PasswordHasher, TokenSigner};
use signup::domain::{Mobile, Password, PasswordPolicy, Purpose, SmsCode, User, UserId};
use signup::store::{CodeClaim, PendingCode, Store};

use crate::workspace_root;

pub const SEEDED_USER: &str = "13900000001";
pub const SEEDED_PASSWORD: &str = "password123";
pub const SEEDED_CODE: &str = "123456";

#[derive(Debug, Clone)]
pub struct EventCase {
    /// Relative to `events/`.
    pub file: String,
    pub function: String,
    pub seed: String,
    pub status: u16,
    /// The error `code` of the body, or `None` for a success.
    pub code: Option<String>,
}

impl EventCase {
    pub fn path(&self) -> PathBuf {
        workspace_root().join("events").join(&self.file)
    }

    pub fn json(&self) -> serde_json::Value {
        let text = std::fs::read_to_string(self.path()).unwrap_or_else(|e| panic!("{}: {e}", self.file));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", self.file))
    }

    /// The mobile in the event's body (decoded from base64 if need be).
    pub fn body_mobile(&self) -> Option<Mobile> {
        use base64::Engine as _;
        let event = self.json();
        let raw = event["body"].as_str()?;
        let text = match event["isBase64Encoded"].as_bool() {
            Some(true) => String::from_utf8(base64::engine::general_purpose::STANDARD.decode(raw).ok()?).ok()?,
            _ => raw.to_owned(),
        };
        let body: serde_json::Value = serde_json::from_str(&text).ok()?;
        Mobile::parse(body["mobile"].as_str()?).ok()
    }
}

/// Every row of the table in `events/README.md`.
pub fn cases() -> Vec<EventCase> {
    let readme = std::fs::read_to_string(workspace_root().join("events/README.md")).expect("events/README.md");
    readme
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            let [file, function, seed, status, code, _what] = cells[..] else { panic!("malformed row: {line}") };
            EventCase {
                file: file.trim_matches('`').to_owned(),
                function: function.to_owned(),
                seed: seed.to_owned(),
                status: status.parse().unwrap_or_else(|_| panic!("bad status in {line}")),
                code: (code != "-").then(|| code.to_owned()),
            }
        })
        .collect()
}

/// Every `.json` file under `events/`, relative to it.
pub fn files() -> Vec<String> {
    let root = workspace_root().join("events");
    let mut found = Vec::new();
    for dir in std::fs::read_dir(&root).unwrap().flatten().filter(|e| e.path().is_dir()) {
        for file in std::fs::read_dir(dir.path()).unwrap().flatten() {
            let path = file.path();
            if path.extension().is_some_and(|e| e == "json") {
                found.push(path.strip_prefix(&root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    found.sort();
    found
}

/// Writes what the case's `seed` column asks for; `now` in Unix seconds.
/// Returns the bearer token the event must carry, for the `token` seed.
pub async fn seed(
    store: &dyn Store,
    codes: &CodeHasher,
    tokens: &TokenSigner,
    case: &EventCase,
    now: i64,
) -> Option<String> {
    let body_mobile =
        || case.body_mobile().unwrap_or_else(|| panic!("{}: seed {} needs a body mobile", case.file, case.seed));
    match case.seed.as_str() {
        "-" => {}
        "user" => {
            seed_account(store, &Mobile::parse(SEEDED_USER).unwrap(), now).await;
        }
        "code" => seed_code(store, codes, &body_mobile(), Purpose::Register, now).await,
        "account" => {
            seed_account(store, &body_mobile(), now).await;
        }
        "login-code" | "reset-code" => {
            let mobile = body_mobile();
            seed_account(store, &mobile, now).await;
            let purpose = if case.seed == "login-code" { Purpose::Login } else { Purpose::ResetPassword };
            seed_code(store, codes, &mobile, purpose, now).await;
        }
        "token" => {
            let user = seed_account(store, &Mobile::parse(SEEDED_USER).unwrap(), now).await;
            return Some(tokens.sign(&user, now).expect("signing a test token").expose_secret().to_owned());
        }
        other => panic!("{}: unknown seed {other}", case.file),
    }
    None
}

impl EventCase {
    /// The event as the test sends it: with `token` as its bearer, when given.
    pub fn event_with(&self, token: Option<&str>) -> serde_json::Value {
        let mut event = self.json();
        if let Some(token) = token {
            event["headers"]["authorization"] = serde_json::Value::String(format!("Bearer {token}"));
        }
        event
    }
}

async fn seed_code(store: &dyn Store, codes: &CodeHasher, mobile: &Mobile, purpose: Purpose, now: i64) {
    let code = SmsCode::parse(SEEDED_CODE, 6).unwrap();
    let pending = PendingCode {
        send_id: format!("seed-{}", purpose.as_str()),
        code_hash: codes.hash(mobile, &code),
        purpose,
        code_expires_at: now + 300,
        resend_at: now + 60,
    };
    store.begin_sms(mobile, &pending, &[], now).await.expect("seeding a code");
}

/// Gives `mobile` an account with the seeded password (once: a second call
/// finds it there) and returns it.
async fn seed_account(store: &dyn Store, mobile: &Mobile, now: i64) -> User {
    if let Some(user) = store.find_user(mobile).await.unwrap() {
        return user;
    }
    // Users are only ever created by consuming a code, so the seed does too.
    let pending = PendingCode {
        send_id: "seed-user".into(),
        code_hash: String::new(),
        purpose: Purpose::Register,
        code_expires_at: now + 300,
        resend_at: now,
    };
    store.begin_sms(mobile, &pending, &[], now).await.expect("seeding the user's code");
    let password = Password::parse(SEEDED_PASSWORD, PasswordPolicy::default()).unwrap();
    let user = User {
        id: UserId::new_random(),
        mobile: mobile.clone(),
        password_hash: PasswordHasher::default().hash(&password).await.unwrap(),
        created_at: now,
        token_version: 0,
    };
    let claim = CodeClaim { send_id: "seed-user", max_attempts: 5, now };
    store.create_user(&user, claim).await.expect("seeding the user");
    user
}
