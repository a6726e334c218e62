//! moto server (PyPI `moto[server]`: DynamoDB, SNS, Secrets Manager), installed into `.venv` by `scripts/test`.
//! A test that needs it and cannot start it fails, saying how to install it.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use signup::store::DynamoStore;

use crate::workspace_root;

pub struct Moto {
    pub endpoint: String,
    // Held open for the life of the process: moto stops when it closes.
    lifeline: Mutex<(Child, ChildStdin)>,
}

static MOTO: OnceLock<Moto> = OnceLock::new();
static TABLES: AtomicUsize = AtomicUsize::new(0);

fn python() -> std::path::PathBuf {
    std::env::var_os("MOTO_PYTHON").map_or_else(|| workspace_root().join(".venv/bin/python"), Into::into)
}

const HOW_TO_INSTALL: &str = "run scripts/test (it creates .venv with moto[server]), or: \
python3 -m venv .venv && .venv/bin/pip install -r requirements-test.txt";

/// The moto server of this test process, started on first use.
pub fn moto() -> &'static Moto {
    MOTO.get_or_init(|| Moto::start(&[]))
}

impl Moto {
    /// A moto server of the caller's own, which it may freeze, thaw or end
    /// (the shared one must keep answering for the other tests). `env` is
    /// given to moto, e.g. `INITIAL_NO_AUTH_ACTION_COUNT=0` to refuse every
    /// unsigned call.
    pub fn start(env: &[(&str, &str)]) -> Self {
        let python = python();
        assert!(python.exists(), "moto is needed but {} does not exist: {HOW_TO_INSTALL}", python.display());
        let mut child = Command::new(&python)
            .arg(workspace_root().join("tests/moto_launcher.py"))
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start moto with {}: {e}; {HOW_TO_INSTALL}", python.display()));
        let stdin = child.stdin.take().expect("piped stdin");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped stdout")).read_line(&mut line).expect("moto prints its port");
        let port: u16 = line.trim().parse().unwrap_or_else(|_| {
            panic!("moto did not start (printed {line:?}); is moto[server] installed in .venv? {HOW_TO_INSTALL}")
        });
        let endpoint = format!("http://127.0.0.1:{port}");
        wait_until_answering(&endpoint);
        Moto { endpoint, lifeline: Mutex::new((child, stdin)) }
    }

    fn signal(&self, signal: &str) {
        let pid = self.lifeline.lock().unwrap().0.id();
        let status = Command::new("kill").args([signal, &pid.to_string()]).status().expect("kill runs");
        assert!(status.success(), "kill {signal} {pid} failed");
    }

    /// Stops the server process (SIGSTOP): connections are still accepted
    /// by the kernel, and nothing answers.
    pub fn freeze(&self) {
        self.signal("-STOP");
    }

    /// Lets a frozen server run again (SIGCONT), its data intact.
    pub fn thaw(&self) {
        self.signal("-CONT");
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        // A frozen process would ignore its closed stdin: thaw, then end it.
        let Ok(lifeline) = self.lifeline.get_mut() else { return };
        let _ = Command::new("kill").args(["-CONT", &lifeline.0.id().to_string()]).status();
        let _ = lifeline.0.kill();
        let _ = lifeline.0.wait();
    }
}

fn wait_until_answering(endpoint: &str) {
    let addr = endpoint.trim_start_matches("http://");
    for _ in 0..100 {
        if std::net::TcpStream::connect(addr).is_ok() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("moto at {endpoint} did not answer within 5 s");
}

/// Static test credentials: moto accepts any.
pub fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_dynamodb::config::SharedCredentialsProvider::new(Credentials::for_tests()))
        .http_client(signup::aws::https_client())
        .build()
}

impl Moto {
    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&sdk_config(&self.endpoint))
    }

    pub fn sns(&self) -> aws_sdk_sns::Client {
        aws_sdk_sns::Client::new(&sdk_config(&self.endpoint))
    }

    /// Stores `value` as a new Secrets Manager secret; returns its ARN.
    pub async fn secret(&self, name: &str, value: &str) -> String {
        let client = aws_sdk_secretsmanager::Client::new(&sdk_config(&self.endpoint));
        let created =
            client.create_secret().name(name).secret_string(value).send().await.expect("moto stores the secret");
        created.arn().expect("a new secret has an ARN").to_owned()
    }

    /// A fresh table (with TTL) per call, so tests sharing the server never see each other's items.
    pub async fn fresh_store(&self) -> DynamoStore {
        self.fresh_table().await.1
    }

    /// A fresh table's name, and a store on it.
    pub async fn fresh_table(&self) -> (String, DynamoStore) {
        let table = format!("signup-test-{}-{}", std::process::id(), TABLES.fetch_add(1, Ordering::SeqCst));
        let store = DynamoStore::new(self.dynamodb(), table.clone());
        store.ensure_table().await.expect("moto creates the table");
        (table, store)
    }

    /// Every SMS moto recorded as sent through SNS: (phone number, message).
    pub async fn sent_sms(&self) -> Vec<(String, String)> {
        signup::tls::install_provider();
        let data: serde_json::Value = reqwest::get(format!("{}/moto-api/data.json", self.endpoint))
            .await
            .expect("moto answers")
            .json()
            .await
            .expect("moto's data is JSON");
        let field = |entry: &serde_json::Value, name: &str| entry[name].as_str().unwrap_or_default().to_owned();
        data["sns"]["SMS"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| (field(e, "phone_number"), field(e, "message")))
            .collect()
    }
}
