//! The four real function binaries under `cargo lambda watch` (the Lambda
//! runtime emulator), pointed at moto, each event file sent with
//! `cargo lambda invoke`: proves the binaries start in Lambda mode, parse
//! API Gateway events and answer in the Lambda response format.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use integration_tests::events::{cases, seed};
use integration_tests::moto::moto;
use integration_tests::workspace_root;
use signup::auth::{CodeHasher, TokenSigner};
use signup::clock::{Clock, SystemClock};

const JWT_SECRET: &str = "lambda-runtime-test-secret-32-bytes-long";
const CODE_SECRET: &str = "lambda-runtime-code-key-32-bytes-or-more";

fn cargo_lambda() -> PathBuf {
    let path = workspace_root().join(".venv/bin/cargo-lambda");
    assert!(
        path.exists(),
        "cargo-lambda is needed but {} does not exist: run scripts/setup (pip install -r requirements-test.txt into .venv)",
        path.display()
    );
    path
}

/// `cargo lambda watch` and the function processes it starts, all ended on drop.
struct Watch {
    child: Child,
    log: PathBuf,
}

impl Drop for Watch {
    fn drop(&mut self) {
        // The emulator catches SIGTERM and keeps running, and starts each
        // function in a process group of its own: kill the whole tree.
        let mut tree = vec![self.child.id()];
        let mut i = 0;
        while i < tree.len() {
            tree.extend(children_of(tree[i]));
            i += 1;
        }
        let _ = Command::new("kill").arg("-KILL").args(tree.iter().map(u32::to_string)).status();
        let _ = self.child.wait();
    }
}

/// Processes whose parent is `pid`, from /proc.
fn children_of(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|child| {
            // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces.
            std::fs::read_to_string(format!("/proc/{child}/stat"))
                .ok()
                .and_then(|stat| {
                    stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().nth(1).map(str::to_owned))
                })
                .flatten()
                .is_some_and(|ppid| ppid == pid.to_string())
        })
        .collect()
}

impl Watch {
    fn log_text(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut text);
        }
        text
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The ARNs of the functions' secrets, which live in moto's Secrets Manager.
struct SecretArns {
    jwt: String,
    code: String,
}

fn start_watch(port: u16, table: &str, arns: &SecretArns, log_dir: &Path) -> Watch {
    let log = log_dir.join("cargo-lambda-watch.log");
    let out = std::fs::File::create(&log).unwrap();
    let env = [
        ("STORE", "dynamodb"),
        ("TABLE_NAME", table),
        ("AWS_ENDPOINT_URL", moto().endpoint.as_str()),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("JWT_SECRET_ARN", arns.jwt.as_str()),
        ("SMS_CODE_SECRET_ARN", arns.code.as_str()),
        ("SMS_BACKEND", "sns"),
        // The most a colleague could turn on: still no event, body or secret in the log.
        ("RUST_LOG", "trace"),
    ];
    let env_args: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut command = Command::new(cargo_lambda());
    command
        .args(["lambda", "watch", "--ignore-changes", "--quiet", "-A", "127.0.0.1", "-P", &port.to_string()])
        .args(env_args.iter().flat_map(|e| ["--env-var", e.as_str()]))
        .current_dir(workspace_root())
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out);
    let watch = Watch { child: command.spawn().expect("cargo lambda watch starts"), log };
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "cargo lambda watch did not listen:\n{}",
            watch.log_text()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    watch
}

fn invoke(port: u16, function: &str, file: &Path) -> Result<serde_json::Value, String> {
    let output = Command::new(cargo_lambda())
        .args(["lambda", "invoke", function, "--output-format", "json", "-A", "127.0.0.1", "-P", &port.to_string()])
        .arg("--data-file")
        .arg(file)
        .current_dir(workspace_root())
        .output()
        .map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!("exit {}: {stdout}{}", output.status, String::from_utf8_lossy(&output.stderr)));
    }
    serde_json::from_str(stdout.trim()).map_err(|e| format!("{e}: {stdout}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_file_gets_its_documented_status_from_the_real_binaries() {
    let (table, store) = moto().fresh_table().await;
    let codes = CodeHasher::from_secret(&CODE_SECRET.as_bytes().to_vec().into());
    let run = std::process::id();
    let arns = SecretArns {
        jwt: moto().secret(&format!("signup-jwt-{run}"), JWT_SECRET).await,
        code: moto().secret(&format!("signup-code-{run}"), CODE_SECRET).await,
    };
    let tokens = TokenSigner::new(&JWT_SECRET.as_bytes().to_vec().into(), 3_600);
    let cases = cases();
    let mut files = Vec::new();
    let events_dir = std::env::temp_dir().join(format!("signup-events-{}", std::process::id()));
    std::fs::create_dir_all(&events_dir).unwrap();
    for (i, case) in cases.iter().enumerate() {
        // An event that must carry a fresh token is sent from a copy that does.
        files.push(match seed(&store, &codes, &tokens, case, SystemClock.now()).await {
            Some(token) => {
                let copy = events_dir.join(format!("{i}.json"));
                std::fs::write(&copy, case.event_with(Some(&token)).to_string()).unwrap();
                copy
            }
            None => case.path(),
        });
    }
    let log_dir = std::env::temp_dir().join(format!("signup-lambda-watch-{}", std::process::id()));
    std::fs::create_dir_all(&log_dir).unwrap();
    let port = free_port();
    let watch = start_watch(port, &table, &arns, &log_dir);

    let mut failures = Vec::new();
    for (case, file) in cases.iter().zip(files) {
        let port_copy = port;
        let function = case.function.clone();
        let reply = tokio::task::spawn_blocking(move || invoke(port_copy, &function, &file)).await.unwrap();
        match reply {
            Ok(response) => {
                let status = response["statusCode"].as_u64().unwrap_or(0) as u16;
                let body: serde_json::Value =
                    serde_json::from_str(response["body"].as_str().unwrap_or("null")).unwrap_or_default();
                let code = body["code"].as_str().map(str::to_owned);
                if (status, &code) != (case.status, &case.code) {
                    failures.push(format!("{}: expected {} {:?}, got {response}", case.file, case.status, case.code));
                }
            }
            Err(e) => failures.push(format!("{}: invoke failed: {e}", case.file)),
        }
    }
    assert!(failures.is_empty(), "{}\n--- cargo lambda watch log ---\n{}", failures.join("\n"), watch.log_text());
    // The functions logged JSON access lines, with masked numbers only, and
    // at RUST_LOG=trace no event, password, code or secret.
    let log = watch.log_text();
    assert!(log.contains(r#""target":"access""#), "JSON access lines in Lambda mode:\n{log}");
    let mut secrets = vec![JWT_SECRET.to_owned(), CODE_SECRET.to_owned()];
    secrets.extend(cases.iter().flat_map(|case| event_values(&case.json())));
    for secret in &secrets {
        assert!(!log.contains(secret.as_str()), "{secret:?} reached the log at RUST_LOG=trace:\n{log}");
    }
    println!(
        "{} events through the real binaries, secrets read from Secrets Manager (moto) by ARN; \
         at RUST_LOG=trace the log ({} lines) holds none of {} passwords, codes, numbers and keys",
        cases.len(),
        log.lines().count(),
        secrets.len()
    );
}

/// The passwords, codes and whole numbers an event carries, in its body or path.
fn event_values(event: &serde_json::Value) -> Vec<String> {
    use base64::Engine as _;
    let raw = event["body"].as_str().unwrap_or_default();
    let text = if event["isBase64Encoded"].as_bool() == Some(true) {
        String::from_utf8(base64::engine::general_purpose::STANDARD.decode(raw).unwrap_or_default()).unwrap_or_default()
    } else {
        raw.to_owned()
    };
    let body: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let mut values: Vec<String> = ["password", "password2", "sms_code"]
        .iter()
        .filter_map(|field| body[*field].as_str().map(str::to_owned))
        .filter(|v| v.len() >= 6)
        .collect();
    // Numbers as the log could show them whole: their last eleven digits.
    let numbers = [&body["mobile"], &body["username"], &event["pathParameters"]["mobile"]];
    for number in numbers.into_iter().filter_map(|n| n.as_str()) {
        let digits: String = number.chars().filter(char::is_ascii_digit).collect();
        if digits.len() >= 11 {
            values.push(digits[digits.len() - 11..].to_owned());
        }
    }
    values
}
