//! Figures 1 and 4 (functions): each function binary, and the bare probe,
//! started as Lambda starts it (environment, Runtime API) against the
//! emulator, with DynamoDB on moto.
//!
//! Cold start is exec → first `GET /next`; first response is the time from
//! handing out the first event to its answer. Then one process per function
//! answers `events` events in a row and its peak RSS (`VmHWM`) is read.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bench::figures::emit;
use bench::fixtures::{self, JWT_SECRET};
use signup::auth::{CodeHasher, PasswordHasher};
use signup::store::DynamoStore;

use super::emulator::Emulator;
use super::moto::Moto;
use super::procfs::{self, MB};

const TABLE: &str = "signup";
/// Mobile families: codes seeded for register, numbers texted by send-sms.
const REGISTER_FAMILY: u8 = 8;
const SEND_FAMILY: u8 = 7;

/// moto answers one request at a time and slows as its tables grow, so
/// the bounds that keep a Lambda function from waiting on a stuck DynamoDB
/// (2 s a call by default) would end the 1,000-event runs on moto's pace,
/// not the function's: here they are wide.
const MOTO_BOUNDS: &[(&str, &str)] = &[
    ("DYNAMODB_ATTEMPT_TIMEOUT_MS", "30000"),
    ("DYNAMODB_TIMEOUT_MS", "30000"),
    ("DYNAMODB_CONNECT_TIMEOUT_MS", "5000"),
    ("SMS_TIMEOUT_MS", "30000"),
];

/// One binary under test and what it is fed.
struct Subject {
    /// The figures' name.
    name: &'static str,
    /// The file under the binaries' directory.
    binary: &'static str,
    /// Whether it is given `PROBE_SECRET_ARN` (the probe then reads one
    /// secret at init, as send-sms, register and login do).
    probe_secret: bool,
    /// Lambda's memory setting in template.yaml (only reported to the process).
    memory_mb: u32,
    env: &'static [(&'static str, &'static str)],
    /// The first event of each cold start and its expected status.
    cold_event: &'static str,
    cold_status: u64,
    /// The event repeated to measure memory, and its expected status.
    warm_event: &'static str,
    warm_status: u64,
    /// Whether the body's mobile is replaced by a fresh number per event.
    fresh_mobile: Option<u8>,
}

const SUBJECTS: &[Subject] = &[
    Subject {
        name: "send-sms",
        binary: "send-sms",
        probe_secret: false,
        memory_mb: 256,
        env: &[("SMS_BACKEND", "sns")],
        cold_event: "send-sms/post-success.json",
        cold_status: 200,
        warm_event: "send-sms/post-success.json",
        warm_status: 200,
        fresh_mobile: Some(SEND_FAMILY),
    },
    Subject {
        name: "check-mobile",
        binary: "check-mobile",
        probe_secret: false,
        memory_mb: 128,
        env: &[],
        cold_event: "check-mobile/unregistered.json",
        cold_status: 200,
        warm_event: "check-mobile/unregistered.json",
        warm_status: 200,
        fresh_mobile: None,
    },
    Subject {
        name: "register",
        binary: "register",
        probe_secret: false,
        memory_mb: 1024,
        env: &[],
        cold_event: "register/success.json",
        cold_status: 201,
        warm_event: "register/success.json",
        warm_status: 201,
        fresh_mobile: Some(REGISTER_FAMILY),
    },
    Subject {
        name: "login",
        binary: "login",
        probe_secret: false,
        memory_mb: 1024,
        env: &[],
        // An unknown user first: the answer waits for the dummy hash.
        cold_event: "login/unknown-user.json",
        cold_status: 401,
        warm_event: "login/success.json",
        warm_status: 200,
        fresh_mobile: None,
    },
    Subject {
        name: "probe",
        binary: "probe",
        probe_secret: false,
        memory_mb: 128,
        env: &[],
        cold_event: "check-mobile/unregistered.json",
        cold_status: 200,
        warm_event: "check-mobile/unregistered.json",
        warm_status: 200,
        fresh_mobile: None,
    },
    Subject {
        name: "probe_secret",
        binary: "probe",
        probe_secret: true,
        memory_mb: 128,
        env: &[],
        cold_event: "check-mobile/unregistered.json",
        cold_status: 200,
        warm_event: "check-mobile/unregistered.json",
        warm_status: 200,
        fresh_mobile: None,
    },
];

pub struct Options {
    pub bin_dir: PathBuf,
    pub runs: usize,
    pub events: usize,
}

pub async fn run(options: &Options) -> Result<(), String> {
    let moto = Moto::start()?;
    let secrets = secret_arns(&moto).await?;
    let store = Arc::new(DynamoStore::new(aws_sdk_dynamodb::Client::new(&moto.sdk_config()), TABLE));
    store.ensure_table().await.map_err(|e| format!("creating the table on moto: {e}"))?;
    seed(store, options.runs + options.events).await;
    let emulator = Emulator::start().await.map_err(|e| format!("emulator: {e}"))?;

    let binaries: Vec<_> = SUBJECTS.iter().map(|subject| options.bin_dir.join(subject.binary)).collect();
    if let Some(missing) = binaries.iter().find(|binary| !binary.exists()) {
        return Err(format!("{} is missing: scripts/bench builds it", missing.display()));
    }
    // Cold starts in rounds of one run per subject, so that whatever drifts
    // during the section (moto's state, the machine) weighs on every subject
    // alike; the ratios to the probes were the figures that moved most
    // between runs when each subject had its 20 runs in a row.
    let mut samples: Vec<Samples> = SUBJECTS.iter().map(|_| Samples::default()).collect();
    for _ in 0..options.runs {
        for ((subject, binary), samples) in SUBJECTS.iter().zip(&binaries).zip(&mut samples) {
            emulator.load(vec![samples.fresh(subject, subject.cold_event)?]);
            let started = Instant::now();
            let mut child = spawn(binary, subject, &emulator, &moto, &secrets)?;
            let answers = emulator.answers(1, Duration::from_secs(30)).await;
            let _ = child.kill();
            let _ = child.wait();
            let answer = answers.map_err(|e| format!("{}: {e}", subject.name))?.remove(0);
            check(subject.name, &answer, subject.cold_status)?;
            let first_next = emulator.first_next().expect("an answer implies a /next");
            samples.cold.push(first_next.duration_since(started));
            samples.first_response.push(answer.answered_at.duration_since(answer.handed_at));
        }
    }

    for ((subject, binary), mut samples) in SUBJECTS.iter().zip(&binaries).zip(samples) {
        let name = subject.name;
        let (median, max) = median_max(&mut samples.cold);
        emit(format!("cold_start.{name}.median"), ms(median), "ms exec→first /next");
        emit(format!("cold_start.{name}.max"), ms(max), &format!("ms of {} runs", options.runs));
        let (median, _) = median_max(&mut samples.first_response);
        emit(format!("first_response.{name}.median"), ms(median), &format!("ms ({})", subject.cold_event));

        let events =
            (0..options.events).map(|_| samples.fresh(subject, subject.warm_event)).collect::<Result<Vec<_>, _>>()?;
        emulator.load(events);
        let started = Instant::now();
        let mut child = spawn(binary, subject, &emulator, &moto, &secrets)?;
        let answers = emulator.answers(options.events, Duration::from_secs(30)).await;
        let memory = procfs::memory(child.id());
        let elapsed = started.elapsed();
        let _ = child.kill();
        let _ = child.wait();
        for answer in answers.map_err(|e| format!("{name}: {e}"))? {
            check(name, &answer, subject.warm_status)?;
        }
        let memory = memory?;
        let unit = format!("MB VmHWM after {} × {}", options.events, subject.warm_event);
        emit(format!("rss.{name}.peak"), memory.peak as f64 / MB, &unit);
        emit(format!("rss.{name}.events_per_s"), options.events as f64 / elapsed.as_secs_f64(), "events/s in a row");
    }
    Ok(())
}

/// One subject's cold-start figures, and the numbers its events have used.
#[derive(Default)]
struct Samples {
    used: u64,
    cold: Vec<Duration>,
    first_response: Vec<Duration>,
}

impl Samples {
    /// `file`'s event, with a number of the subject's family not used before.
    fn fresh(&mut self, subject: &Subject, file: &str) -> Result<String, String> {
        let mobile = subject.fresh_mobile.map(|family| {
            self.used += 1;
            fixtures::mobile_number(family, self.used)
        });
        event(file, mobile.as_deref())
    }
}

fn check(name: &str, answer: &super::emulator::Answer, want: u64) -> Result<(), String> {
    if answer.error || answer.status_code() != Some(want) {
        return Err(format!("{name}: expected status {want}, got {}", answer.body));
    }
    Ok(())
}

/// The functions' two keys as Secrets Manager secrets on moto, as in
/// Lambda: each function reads the ones it needs at cold start, by ARN.
async fn secret_arns(moto: &Moto) -> Result<[(&'static str, String); 2], String> {
    let client = aws_sdk_secretsmanager::Client::new(&moto.sdk_config());
    let mut arns = Vec::new();
    for name in ["bench-jwt-secret", "bench-sms-code-secret"] {
        let created = client
            .create_secret()
            .name(name)
            .secret_string(JWT_SECRET)
            .send()
            .await
            .map_err(|e| format!("creating {name} on moto: {e}"))?;
        arns.push(created.arn().unwrap_or(name).to_owned());
    }
    let [jwt, code] = <[String; 2]>::try_from(arns).map_err(|_| "two secrets".to_owned())?;
    Ok([("JWT_SECRET_ARN", jwt), ("SMS_CODE_SECRET_ARN", code)])
}

fn spawn(
    binary: &Path,
    subject: &Subject,
    emulator: &Emulator,
    moto: &Moto,
    secrets: &[(&'static str, String)],
) -> Result<std::process::Child, String> {
    let memory = subject.memory_mb.to_string();
    let runtime_api = emulator.addr.to_string();
    let log_group = format!("/aws/lambda/{}", subject.name);
    let lambda: &[(&str, &str)] = &[
        ("AWS_LAMBDA_RUNTIME_API", &runtime_api),
        ("AWS_LAMBDA_FUNCTION_NAME", subject.name),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", &memory),
        ("AWS_LAMBDA_LOG_GROUP_NAME", &log_group),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "2026/01/01/[$LATEST]0123456789abcdef"),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
        ("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH", "true"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_SESSION_TOKEN", "test"),
        ("AWS_ENDPOINT_URL", &moto.endpoint),
        ("_HANDLER", "bootstrap"),
        ("LAMBDA_TASK_ROOT", "/var/task"),
        ("LAMBDA_RUNTIME_DIR", "/var/runtime"),
        ("LANG", "en_US.UTF-8"),
        ("TZ", ":UTC"),
        ("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin"),
        ("STORE", "dynamodb"),
        ("TABLE_NAME", TABLE),
    ];
    let probe_secret = subject.probe_secret.then(|| ("PROBE_SECRET_ARN", secrets[0].1.as_str()));
    let secrets = secrets.iter().map(|(name, arn)| (*name, arn.as_str())).chain(probe_secret);
    Command::new(binary)
        .env_clear()
        .envs(
            lambda
                .iter()
                .chain(subject.env)
                .chain(fixtures::GENEROUS_LIMITS)
                .chain(MOTO_BOUNDS)
                .copied()
                .chain(secrets),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("{}: {e}", binary.display()))
}

/// The users the login events name, and a code for every number register will use.
async fn seed(store: Arc<DynamoStore>, registrations: usize) {
    let now = signup::clock::Clock::now(&signup::clock::SystemClock);
    let password = fixtures::password();
    let hash = PasswordHasher::default().hash(&password).await.expect("argon2 hashes");
    // The user of login/success.json.
    let user = signup::domain::Mobile::parse("13900000001").expect("a valid mobile");
    fixtures::seed_user(store.as_ref(), user, &hash, now).await;
    let codes = CodeHasher::from_secret(&JWT_SECRET.as_bytes().to_vec().into());
    // At moto's pace the functions before register, and register's own
    // 1,020 events, take longer than a code lives (300 s); the function
    // checks expiry against its own clock, as it must. So the codes are
    // stamped as sent 20 minutes from now: still valid when their turn comes.
    let sent = now + 20 * 60;
    // One at a time: moto answers concurrent transactions with 500s.
    for n in 1..=registrations as u64 {
        fixtures::seed_code(store.as_ref(), &codes, &fixtures::mobile(REGISTER_FAMILY, n), sent).await;
    }
}

/// An event file, with its body's `mobile` replaced when asked.
fn event(file: &str, mobile: Option<&str>) -> Result<String, String> {
    let path = crate::workspace_root().join("events").join(file);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let Some(mobile) = mobile else { return Ok(text) };
    let mut event: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{file}: {e}"))?;
    let mut body: serde_json::Value =
        serde_json::from_str(event["body"].as_str().unwrap_or_default()).map_err(|e| format!("{file} body: {e}"))?;
    body["mobile"] = mobile.into();
    event["body"] = body.to_string().into();
    event["isBase64Encoded"] = false.into();
    Ok(event.to_string())
}

fn median_max(samples: &mut [Duration]) -> (Duration, Duration) {
    samples.sort();
    (samples[samples.len() / 2], samples[samples.len() - 1])
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
