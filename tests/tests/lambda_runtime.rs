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
use signup::auth::CodeHasher;
use signup::clock::{Clock, SystemClock};

const SECRET: &str = "lambda-runtime-test-secret-32-bytes-long";

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

fn start_watch(port: u16, table: &str, log_dir: &Path) -> Watch {
    let log = log_dir.join("cargo-lambda-watch.log");
    let out = std::fs::File::create(&log).unwrap();
    let env = [
        ("STORE", "dynamodb"),
        ("TABLE_NAME", table),
        ("AWS_ENDPOINT_URL", moto().endpoint.as_str()),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("JWT_SECRET", SECRET),
        ("SMS_BACKEND", "sns"),
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
    let codes = CodeHasher::from_secret(&SECRET.as_bytes().to_vec().into());
    let cases = cases();
    for case in &cases {
        seed(&store, &codes, case, SystemClock.now()).await;
    }
    let log_dir = std::env::temp_dir().join(format!("signup-lambda-watch-{}", std::process::id()));
    std::fs::create_dir_all(&log_dir).unwrap();
    let port = free_port();
    let watch = start_watch(port, &table, &log_dir);

    let mut failures = Vec::new();
    for case in &cases {
        let file = case.path();
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
    // The functions logged JSON access lines, with masked numbers only.
    let log = watch.log_text();
    assert!(log.contains(r#""target":"access""#), "JSON access lines in Lambda mode:\n{log}");
    assert!(!log.contains("13800000008"), "a whole number reached the log:\n{log}");
}
