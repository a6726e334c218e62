//! Figures 3 and 4 (local API): the local API under wrk, one fresh process
//! per scenario so that each scenario's peak RSS is its own, beside the
//! fixed-body axum floor and the original stack, Django + DRF + Redis
//! (bench/django/), as a peer under the same scenarios. The register flow
//! (send, read the code from the outbox, register) is driven from here with
//! reqwest.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bench::figures::emit;
use bench::fixtures::{self, JWT_SECRET, PASSWORD};
use serde_json::json;

use super::procfs::{self, MB};

pub struct Options {
    pub bin_dir: PathBuf,
    pub duration: Duration,
    /// wrk's connections for the cheap routes; login and register use `hash_connections`.
    pub connections: usize,
    pub hash_connections: usize,
    pub scratch: PathBuf,
}

/// What the scenarios need of a server under test, ours or the peer.
trait Target {
    fn base(&self) -> String;
    /// The file its `log`-style SMS backend appends `{"mobile","code"}` lines to.
    fn outbox(&self) -> &Path;
    /// Emits its peak resident set so far as `figure`.
    fn emit_peak_rss(&self, figure: &str) -> Result<(), String>;
}

/// A server process started for one scenario, killed when dropped.
struct Server {
    child: Child,
    addr: String,
    outbox: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn memory(&self) -> Result<procfs::Memory, String> {
        procfs::memory(self.child.id())
    }
}

impl Target for Server {
    fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn outbox(&self) -> &Path {
        &self.outbox
    }

    fn emit_peak_rss(&self, figure: &str) -> Result<(), String> {
        emit(figure, self.memory()?.peak as f64 / MB, "MB VmHWM");
        Ok(())
    }
}

fn free_addr() -> Result<String, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("a free port: {e}"))?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.to_string())
}

fn start(options: &Options, binary: &str, scenario: &str) -> Result<Server, String> {
    let path = options.bin_dir.join(binary);
    let addr = free_addr()?;
    let outbox = options.scratch.join(format!("outbox-{scenario}.jsonl"));
    let log = options.scratch.join(format!("{binary}-{scenario}.log"));
    let _ = std::fs::remove_file(&outbox);
    let log = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
    let child = Command::new(&path)
        .envs([
            ("LOCAL_API_ADDR", addr.as_str()),
            ("FLOOR_ADDR", addr.as_str()),
            ("STORE", "memory"),
            ("SMS_BACKEND", "log"),
            ("SMS_OUTBOX_FILE", outbox.to_str().expect("UTF-8 scratch path")),
            ("JWT_SECRET", JWT_SECRET),
        ])
        .envs(fixtures::GENEROUS_LIMITS.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("{}: {e}; scripts/bench builds it", path.display()))?;
    let server = Server { child, addr, outbox };
    crate::wait_for_port(&server.addr, Duration::from_secs(10))?;
    Ok(server)
}

#[derive(Debug)]
struct WrkResult {
    requests_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    requests: u64,
    not_2xx: u64,
    socket_errors: bool,
}

fn wrk(
    options: &Options,
    url: &str,
    connections: usize,
    script: Option<&str>,
    env: &[(&str, String)],
) -> Result<WrkResult, String> {
    wrk_for(options.duration, url, connections, script, env)
}

/// wrk's threads: two, or one per connection when fewer.
fn wrk_threads(connections: usize) -> usize {
    connections.min(2)
}

fn wrk_for(
    duration: Duration,
    url: &str,
    connections: usize,
    script: Option<&str>,
    env: &[(&str, String)],
) -> Result<WrkResult, String> {
    let threads = wrk_threads(connections);
    let mut command = Command::new("wrk");
    command
        .args(["--latency", "-t", &threads.to_string(), "-c", &connections.to_string()])
        .args(["-d", &format!("{}s", duration.as_secs().max(1))])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())));
    if let Some(script) = script {
        command.args(["-s", crate::workspace_root().join("bench/wrk").join(script).to_str().expect("UTF-8 path")]);
    }
    let output =
        command.arg(url).output().map_err(|e| format!("wrk: {e}; scripts/bench installs it (apt-get install wrk)"))?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        return Err(format!("wrk failed: {text}{}", String::from_utf8_lossy(&output.stderr)));
    }
    parse_wrk(&text).ok_or_else(|| format!("cannot read wrk's output:\n{text}"))
}

/// `1.23ms`, `456.00us`, `1.01s` → milliseconds.
fn wrk_duration_ms(text: &str) -> Option<f64> {
    let (number, factor) = if let Some(n) = text.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else {
        return None;
    };
    number.parse::<f64>().ok().map(|n| n * factor)
}

fn parse_wrk(text: &str) -> Option<WrkResult> {
    let field = |prefix: &str| text.lines().map(str::trim).find_map(|l| l.strip_prefix(prefix)).map(str::trim);
    let requests = text.lines().find(|l| l.contains("requests in"))?.split_whitespace().next()?.parse().ok()?;
    Some(WrkResult {
        requests_per_s: field("Requests/sec:")?.parse().ok()?,
        p50_ms: wrk_duration_ms(field("50%")?)?,
        p99_ms: wrk_duration_ms(field("99%")?)?,
        requests,
        not_2xx: field("Non-2xx or 3xx responses:").and_then(|n| n.parse().ok()).unwrap_or(0),
        socket_errors: field("Socket errors:").is_some(),
    })
}

/// The scenario's figures, and the server's peak RSS as `rss_figure`.
fn report(
    name: &str,
    connections: usize,
    result: &WrkResult,
    server: &dyn Target,
    rss_figure: &str,
) -> Result<(), String> {
    report_as(name, &format!("req/s, wrk {connections} connections"), "ms", result, server, rss_figure)
}

fn report_as(
    name: &str,
    rate_unit: &str,
    latency_unit: &str,
    result: &WrkResult,
    server: &dyn Target,
    rss_figure: &str,
) -> Result<(), String> {
    emit(format!("throughput.{name}.rps"), result.requests_per_s, rate_unit);
    emit(format!("throughput.{name}.p50"), result.p50_ms, latency_unit);
    emit(format!("throughput.{name}.p99"), result.p99_ms, latency_unit);
    if result.not_2xx > 0 {
        emit(format!("throughput.{name}.non_2xx"), result.not_2xx as f64, &format!("of {} responses", result.requests));
    }
    if result.socket_errors {
        eprintln!("bench: {name}: wrk reported socket errors");
    }
    server.emit_peak_rss(rss_figure)
}

/// Which scenarios a `bench throughput` call runs, so that the benchmark
/// command can measure the argon2 bound right before the hashing ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The floor, check-mobile free and taken, send and the floor in turn.
    Cheap,
    /// Login and the register flow, each followed by the Django peer's.
    Hashing,
    /// The Django + DRF + Redis peer under the cheap scenarios.
    Peer,
    All,
}

impl Part {
    pub fn parse(name: &str) -> Result<Self, String> {
        match name {
            "cheap" => Ok(Self::Cheap),
            "hashing" => Ok(Self::Hashing),
            "peer" => Ok(Self::Peer),
            "all" => Ok(Self::All),
            other => Err(format!("throughput part {other}: expected cheap, hashing, peer or all")),
        }
    }

    fn runs(self, part: Part) -> bool {
        self == Part::All || self == part
    }
}

pub async fn run(options: &Options, part: Part) -> Result<(), String> {
    let client = reqwest::Client::new();
    if part.runs(Part::Cheap) {
        cheap(options, &client).await?;
    }
    if part.runs(Part::Hashing) {
        hashing(options, &client).await?;
    }
    if part.runs(Part::Peer) {
        django(options, &client).await?;
    }
    Ok(())
}

async fn cheap(options: &Options, client: &reqwest::Client) -> Result<(), String> {
    let c = options.connections;

    // The floor right before check-mobile, and send in turn with a floor of
    // its own: this machine's speed drifts by a fifth within minutes, so a
    // ratio is taken between runs seconds apart, not the length of the part.
    floor(options, "floor", "rss.floor.peak")?;

    let api = start(options, "local-api", "check_mobile_free")?;
    emit("rss.local_api.idle", api.memory()?.now as f64 / MB, "MB VmRSS after start");
    let free = fixtures::mobile_number(3, 1);
    let result = wrk(options, &format!("{}/user/mobile/{free}/", api.base()), c, None, &[])?;
    expect_all_2xx("check_mobile_free", &result)?;
    report("check_mobile_free", c, &result, &api, "rss.local_api.check_mobile_free.peak")?;
    drop(api);

    let api = start(options, "local-api", "check_mobile_taken")?;
    let taken = fixtures::mobile_number(3, 2);
    register_one(client, &api, &taken).await?;
    let result = wrk(options, &format!("{}/user/mobile/{taken}/", api.base()), c, None, &[])?;
    if result.not_2xx != result.requests {
        return Err(format!(
            "check_mobile_taken: {} of {} answers were not 409",
            result.requests - result.not_2xx,
            result.requests
        ));
    }
    report("check_mobile_taken", c, &result, &api, "rss.local_api.check_mobile_taken.peak")?;
    drop(api);

    send_beside_floor(options)
}

/// Rounds of wrk that send and the floor take in turn.
const SEND_ROUNDS: usize = 5;
// send.lua's thread digit numbers every round's threads apart: one digit.
const _: () = assert!(SEND_ROUNDS * 2 <= 10, "send.lua numbers wrk's threads with one digit");

/// Send and the floor in alternating rounds (`SEND_ROUNDS` each, splitting
/// the scenario's duration), both servers up throughout, each going first in
/// every other round: a slow or fast phase of the machine then weighs on both.
/// Run one after the other, even a few seconds apart, the two fell in
/// different phases, and send measured 0.35 to 0.45 of the floor on one
/// build. Requests/s is over all of a side's rounds; p50 and p99 are the
/// median of its rounds' own, and `p99_max` the highest of them.
fn send_beside_floor(options: &Options) -> Result<(), String> {
    let c = options.connections;
    let round = Duration::from_secs((options.duration.as_secs() / SEND_ROUNDS as u64).max(1));
    let floor = start(options, "floor", "floor_beside_send")?;
    let api = start(options, "local-api", "send")?;
    let (floor_url, send_url) = (format!("{}/", floor.base()), format!("{}/user/sms/", api.base()));
    let (mut floors, mut sends) = (Vec::new(), Vec::new());
    for i in 0..SEND_ROUNDS {
        let floor_first = i % 2 == 0;
        for floor_turn in [floor_first, !floor_first] {
            if floor_turn {
                floors.push(wrk_for(round, &floor_url, c, None, &[])?);
            } else {
                // Each round's wrk threads number on from the last round's,
                // so that no number is texted twice.
                let first_thread = (i * wrk_threads(c)).to_string();
                let result = wrk_for(round, &send_url, c, Some("send.lua"), &[("BENCH_FIRST_THREAD", first_thread)])?;
                expect_all_2xx("send", &result)?;
                sends.push(result);
            }
        }
    }
    let rate_unit = format!("req/s, wrk {c} connections, {SEND_ROUNDS} rounds of {} s taken in turn", round.as_secs());
    let latency_unit = format!("ms, the median of {SEND_ROUNDS} rounds'");
    for (name, rounds, server, rss_figure) in [
        ("floor_beside_send", &floors, &floor as &dyn Target, "rss.floor_beside_send.peak"),
        ("send", &sends, &api, "rss.local_api.send.peak"),
    ] {
        let all = combine(rounds).ok_or_else(|| format!("{name}: a round answered nothing"))?;
        report_as(name, &rate_unit, &latency_unit, &all, server, rss_figure)?;
        let highest = rounds.iter().map(|r| r.p99_ms).fold(f64::MIN, f64::max);
        emit(format!("throughput.{name}.p99_max"), highest, &format!("ms, the highest of {SEND_ROUNDS} rounds' p99"));
    }
    Ok(())
}

/// Rounds of one scenario as one: requests/s over their summed durations
/// (each round's is its requests ÷ its rate), p50 and p99 the median of the
/// rounds' own, responses and failures summed. None when there are no
/// rounds or a round answered nothing (its duration is unknown).
fn combine(rounds: &[WrkResult]) -> Option<WrkResult> {
    if rounds.is_empty() || rounds.iter().any(|r| r.requests == 0 || r.requests_per_s <= 0.0) {
        return None;
    }
    let requests: u64 = rounds.iter().map(|r| r.requests).sum();
    let seconds: f64 = rounds.iter().map(|r| r.requests as f64 / r.requests_per_s).sum();
    let median = |of: fn(&WrkResult) -> f64| {
        let mut values: Vec<f64> = rounds.iter().map(of).collect();
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    Some(WrkResult {
        requests_per_s: requests as f64 / seconds,
        p50_ms: median(|r| r.p50_ms),
        p99_ms: median(|r| r.p99_ms),
        requests,
        not_2xx: rounds.iter().map(|r| r.not_2xx).sum(),
        socket_errors: rounds.iter().any(|r| r.socket_errors),
    })
}

/// The fixed-body floor under the cheap routes' wrk, as figure `name`.
fn floor(options: &Options, name: &str, rss_figure: &str) -> Result<(), String> {
    let floor = start(options, "floor", name)?;
    let result = wrk(options, &format!("{}/", floor.base()), options.connections, None, &[])?;
    report(name, options.connections, &result, &floor, rss_figure)
}

/// Login and the register flow, each followed at once by the Django peer's
/// same scenario: its p99 is the one login's is read against, and this
/// machine's speed drifts by a fifth within minutes.
async fn hashing(options: &Options, client: &reqwest::Client) -> Result<(), String> {
    let h = options.hash_connections;
    let api = start(options, "local-api", "login")?;
    let user = fixtures::mobile_number(3, 3);
    register_one(client, &api, &user).await?;
    let hashing = HashingCpu::start(&api)?;
    let result = wrk(
        options,
        &format!("{}/user/login/", api.base()),
        h,
        Some("login.lua"),
        &[("BENCH_USERNAME", user.clone())],
    )?;
    let spent = hashing.stop()?;
    expect_all_2xx("login", &result)?;
    report("login", h, &result, &api, "rss.local_api.login.peak")?;
    // wrk stops with up to one hash under way per hashing thread, in the
    // CPU but not in the requests. Counted here as whole hashes, so that
    // the error makes a hash look cheaper, the bound higher and the ratio
    // lower (about 2 hashes in 1,200, 0.2%). The requests still queued are
    // dropped with their connections, and the pool skips a hash whose
    // request has gone; one a thread took in the moment before that would
    // err the other way, by less than a hash.
    emit_hash_cpu("login", "login", spent, result.requests + spent.threads as u64)?;
    drop(api);

    let peer = Peer::start(options, client, "login").await?;
    register_one(client, &peer, &user).await?;
    django_wrk(options, &peer, "login", "/user/login/", h, Some("login.lua"), &[("BENCH_USERNAME", user)])?;
    peer.stop()?;

    let api = start(options, "local-api", "register_flow")?;
    let hashing = HashingCpu::start(&api)?;
    // Every flow under way finishes before this returns: one hash per flow counted.
    let flows = register_flow(options, client, &api, "register_flow", "rss.local_api.register_flow.peak").await?;
    emit_hash_cpu("register_flow", "register", hashing.stop()?, flows)?;
    drop(api);

    let peer = Peer::start(options, client, "register_flow").await?;
    register_flow(options, client, &peer, "django.register_flow", "rss.django.register_flow.peak").await?;
    peer.emit_redis_peak("register_flow")?;
    peer.stop()
}

/// The CPU time the local API's hashing threads spend through a scenario:
/// what one hash costs under that very load, read against the same
/// seconds' throughput (`derived.*_of_bound_in_scenario`), so that a slow
/// or fast phase of the machine moves both alike.
struct HashingCpu {
    pid: u32,
    before: procfs::ThreadsCpu,
}

impl HashingCpu {
    fn start(server: &Server) -> Result<Self, String> {
        let pid = server.child.id();
        Ok(Self { pid, before: procfs::threads_cpu(pid, signup::auth::HASHING_THREAD_NAME)? })
    }

    /// The hashing threads at the end, and the CPU they ran since `start`.
    fn stop(self) -> Result<procfs::ThreadsCpu, String> {
        let after = procfs::threads_cpu(self.pid, signup::auth::HASHING_THREAD_NAME)?;
        Ok(procfs::ThreadsCpu { threads: after.threads, ns: after.ns.saturating_sub(self.before.ns) })
    }
}

/// Emits `throughput.<name>.hash_cpu`: the CPU the hashing threads `spent`,
/// per hash, for `hashes` hashes (one per `request`).
fn emit_hash_cpu(name: &str, request: &str, spent: procfs::ThreadsCpu, hashes: u64) -> Result<(), String> {
    if hashes == 0 || spent.ns == 0 {
        return Err(format!("{name}: no hashing thread ran ({hashes} hashes, {} ns)", spent.ns));
    }
    let unit = format!("µs of CPU on the hashing threads per {request} (schedstat), through the scenario");
    emit(format!("throughput.{name}.hash_cpu"), spent.ns as f64 / 1e3 / hashes as f64, &unit);
    Ok(())
}

fn expect_all_2xx(name: &str, result: &WrkResult) -> Result<(), String> {
    match result.not_2xx {
        0 => Ok(()),
        n => Err(format!(
            "{name}: {n} of {} answers were not 2xx: the figure would not measure the route",
            result.requests
        )),
    }
}

async fn post(client: &reqwest::Client, url: String, body: serde_json::Value) -> Result<(u16, Duration), String> {
    let started = Instant::now();
    let response = client.post(&url).json(&body).send().await.map_err(|e| format!("{url}: {e}"))?;
    let status = response.status().as_u16();
    response.bytes().await.map_err(|e| format!("{url}: {e}"))?;
    Ok((status, started.elapsed()))
}

/// The last code the outbox holds for `mobile`.
fn code_in_outbox(outbox: &Path, mobile: &str) -> Option<String> {
    let text = std::fs::read_to_string(outbox).ok()?;
    text.lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find_map(|line| (line["mobile"] == mobile).then(|| line["code"].as_str().map(str::to_owned)).flatten())
}

/// Registers `mobile` through the API, as a visitor would.
async fn register_one(client: &reqwest::Client, server: &dyn Target, mobile: &str) -> Result<(), String> {
    let (status, _) = post(client, format!("{}/user/sms/", server.base()), json!({ "mobile": mobile })).await?;
    if status != 200 {
        return Err(format!("seeding {mobile}: send answered {status}"));
    }
    let code = code_in_outbox(server.outbox(), mobile).ok_or(format!("no code for {mobile} in the outbox"))?;
    let body = json!({ "mobile": mobile, "password": PASSWORD, "sms_code": code });
    match post(client, format!("{}/user/register/", server.base()), body).await? {
        (201, _) => Ok(()),
        (status, _) => Err(format!("seeding {mobile}: register answered {status}")),
    }
}

/// Codes as the server appended them to its outbox, read when a visitor
/// asks for one. The local API and the peer both write a send's line
/// before answering it, so the visitor holding the answer finds its code
/// in one read of the lines added since the last, and nothing polls the
/// file: a follower waking every millisecond cost the machine more CPU
/// than the register flow's sends, CPU the hashing threads then lacked.
struct Outbox {
    path: PathBuf,
    read: Mutex<OutboxRead>,
}

#[derive(Default)]
struct OutboxRead {
    file: Option<std::fs::File>,
    /// Bytes after the last whole line read.
    pending: Vec<u8>,
    codes: HashMap<String, String>,
}

impl Outbox {
    fn new(path: PathBuf) -> Self {
        Self { path, read: Mutex::new(OutboxRead::default()) }
    }

    async fn code(&self, mobile: &str) -> String {
        loop {
            if let Some(code) = self.take(mobile) {
                return code;
            }
            // Not written yet, against the servers' promise: look again.
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// The code for `mobile`, reading the lines added since the last call.
    /// A read of a few hundred bytes of a file in the page cache: it blocks
    /// this worker for microseconds, less than handing it to another thread.
    fn take(&self, mobile: &str) -> Option<String> {
        use std::io::Read as _;
        let mut read = self.read.lock().unwrap_or_else(|p| p.into_inner());
        let OutboxRead { file, pending, codes } = &mut *read;
        if let Some(code) = codes.remove(mobile) {
            return Some(code);
        }
        if file.is_none() {
            *file = std::fs::File::open(&self.path).ok();
        }
        // Reads on from where the last read stopped.
        if file.as_mut()?.read_to_end(pending).is_ok_and(|n| n > 0) {
            let complete = pending.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
            for line in pending[..complete].split(|b| *b == b'\n') {
                if let Ok(line) = serde_json::from_slice::<serde_json::Value>(line) {
                    if let (Some(m), Some(c)) = (line["mobile"].as_str(), line["code"].as_str()) {
                        codes.insert(m.to_owned(), c.to_owned());
                    }
                }
            }
            pending.drain(..complete);
        }
        codes.remove(mobile)
    }
}

/// `hash_connections` visitors each send, read the code, register, again
/// and again for the scenario's duration; figures as `throughput.<name>.*`
/// and the server's peak RSS as `rss_figure`.
async fn register_flow(
    options: &Options,
    client: &reqwest::Client,
    server: &dyn Target,
    name: &str,
    rss_figure: &str,
) -> Result<u64, String> {
    let outbox = Arc::new(Outbox::new(server.outbox().to_owned()));
    let deadline = Instant::now() + options.duration;
    let started = Instant::now();
    let mut visitors = tokio::task::JoinSet::new();
    for visitor in 0..options.hash_connections as u64 {
        let (client, outbox, base, name) = (client.clone(), outbox.clone(), server.base(), name.to_owned());
        visitors.spawn(async move {
            let mut register_latencies = Vec::new();
            let mut n = 0;
            while Instant::now() < deadline {
                let mobile = fixtures::mobile_number(6, visitor * 10_000_000 + n);
                n += 1;
                let (status, _) = post(&client, format!("{base}/user/sms/"), json!({ "mobile": mobile })).await?;
                if status != 200 {
                    return Err(format!("{name}: send answered {status}"));
                }
                let code = tokio::time::timeout(Duration::from_secs(10), outbox.code(&mobile))
                    .await
                    .map_err(|_| format!("{name}: no code for {mobile} in the outbox"))?;
                let body = json!({ "mobile": mobile, "password": PASSWORD, "sms_code": code });
                let (status, latency) = post(&client, format!("{base}/user/register/"), body).await?;
                if status != 201 {
                    return Err(format!("{name}: register answered {status}"));
                }
                register_latencies.push(latency);
            }
            Ok::<_, String>(register_latencies)
        });
    }
    let mut latencies = Vec::new();
    while let Some(visitor) = visitors.join_next().await {
        latencies.extend(visitor.map_err(|e| format!("{name}: {e}"))??);
    }
    let elapsed = started.elapsed();
    if latencies.is_empty() {
        return Err(format!("{name}: no visitor registered within {:?}", options.duration));
    }
    latencies.sort();
    let percentile = |p: f64| latencies[((latencies.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1000.0;
    let h = options.hash_connections;
    emit(
        format!("throughput.{name}.rps"),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        &format!("flows/s, {h} concurrent visitors"),
    );
    emit(format!("throughput.{name}.register_p50"), percentile(0.5), "ms (the register request)");
    emit(format!("throughput.{name}.register_p99"), percentile(0.99), "ms (the register request)");
    server.emit_peak_rss(rss_figure)?;
    Ok(latencies.len() as u64)
}

/// The cheap scenarios against the Django peer, after ours, with the same
/// connections, scripts and numbers (its login and register flow run in
/// `hashing`, each right after ours); a fresh peer (its own Redis and
/// SQLite file) per scenario, as the local API gets a fresh process.
async fn django(options: &Options, client: &reqwest::Client) -> Result<(), String> {
    let c = options.connections;

    let peer = Peer::start(options, client, "check_mobile_free").await?;
    let free = fixtures::mobile_number(3, 1);
    django_wrk(options, &peer, "check_mobile_free", &format!("/user/mobile/{free}/"), c, None, &[])?;
    peer.stop()?;

    let peer = Peer::start(options, client, "send").await?;
    django_wrk(options, &peer, "send", "/user/sms/", c, Some("send.lua"), &[])?;
    peer.stop()
}

/// One wrk scenario against the peer, refused unless every answer is 2xx;
/// figures as `throughput.django.<scenario>.*` and `rss.django.<scenario>.*`.
fn django_wrk(
    options: &Options,
    peer: &Peer,
    scenario: &str,
    path: &str,
    connections: usize,
    script: Option<&str>,
    env: &[(&str, String)],
) -> Result<(), String> {
    let name = format!("django.{scenario}");
    let result = wrk(options, &format!("{}{path}", peer.base()), connections, script, env)?;
    expect_all_2xx(&name, &result)?;
    report(&name, connections, &result, peer, &format!("rss.django.{scenario}.peak"))?;
    peer.emit_redis_peak(scenario)
}

/// `bench/django/run.py` under `.venv-django`'s Python: redis-server, then
/// gunicorn's master and workers, all its children. Stopped with SIGTERM
/// (run.py then stops both and waits for them) when `stop`ped or dropped,
/// so that a failed scenario leaves no redis or gunicorn behind.
struct Peer {
    child: Option<Child>,
    addr: String,
    outbox: PathBuf,
    log: PathBuf,
}

impl Peer {
    async fn start(options: &Options, client: &reqwest::Client, scenario: &str) -> Result<Peer, String> {
        let root = crate::workspace_root();
        let python = root.join(".venv-django/bin/python");
        if !python.exists() {
            return Err(format!("{}: missing; bench/django/install.sh creates it", python.display()));
        }
        let scratch = options.scratch.join(format!("django-{scenario}"));
        let _ = std::fs::remove_dir_all(&scratch);
        let outbox = options.scratch.join(format!("outbox-django-{scenario}.jsonl"));
        let _ = std::fs::remove_file(&outbox);
        let log = options.scratch.join(format!("django-{scenario}.log"));
        let log_file = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let addr = free_addr()?;
        let child = Command::new(&python)
            .arg(root.join("bench/django/run.py"))
            .args(["--addr", &addr, "--scratch", path_str(&scratch), "--outbox", path_str(&outbox)])
            .env("JWT_SECRET", JWT_SECRET)
            .current_dir(&root)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .map_err(|e| format!("{}: {e}", python.display()))?;
        let mut peer = Peer { child: Some(child), addr, outbox, log };
        peer.wait_until_listening(Duration::from_secs(60))?;
        peer.warm_up(client).await?;
        Ok(peer)
    }

    /// Redis, migrations and gunicorn's bind take seconds; a peer that dies
    /// on the way is reported at once, with its log.
    fn wait_until_listening(&mut self, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                return Err(format!("the Django peer exited with {status} while starting: {}", self.log_tail()));
            }
            if std::net::TcpStream::connect(&self.addr).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!("the Django peer did not listen on {} within {timeout:?}: {}", self.addr, self.log_tail()))
    }

    /// Gunicorn binds before its workers have loaded the app, and Django
    /// imports the URLconf, DRF and the views on a worker's first request:
    /// concurrent requests first, so that both workers have done so before
    /// anything is measured.
    async fn warm_up(&self, client: &reqwest::Client) -> Result<(), String> {
        let url = format!("{}/user/mobile/{}/", self.base(), fixtures::mobile_number(3, 1));
        for _ in 0..4 {
            let mut requests = tokio::task::JoinSet::new();
            for _ in 0..8 {
                let (client, url) = (client.clone(), url.clone());
                requests.spawn(async move { client.get(&url).send().await.map(|r| r.status().as_u16()) });
            }
            while let Some(answer) = requests.join_next().await {
                match answer.map_err(|e| e.to_string())? {
                    Ok(200) => {}
                    Ok(status) => return Err(format!("Django peer warm-up: {url} answered {status}")),
                    Err(e) => return Err(format!("Django peer warm-up: {url}: {e}")),
                }
            }
        }
        Ok(())
    }

    /// Asks run.py to stop and waits; Err when it reports that redis or
    /// gunicorn had died on its own (it exits 0 only on a clean stop).
    fn stop(mut self) -> Result<(), String> {
        match self.terminate() {
            Some(Ok(status)) if status.success() => Ok(()),
            Some(Ok(status)) => Err(format!("the Django peer exited with {status}: {}", self.log_tail())),
            Some(Err(e)) => Err(format!("stopping the Django peer: {e}")),
            None => Ok(()),
        }
    }

    /// SIGTERM (std can only send SIGKILL, which run.py could not pass on),
    /// then SIGKILL after 20 s: its children then get SIGTERM from the
    /// kernel (run.py sets PR_SET_PDEATHSIG on them).
    fn terminate(&mut self) -> Option<Result<ExitStatus, String>> {
        let mut child = self.child.take()?;
        let sent = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while sent.as_ref().is_ok_and(ExitStatus::success) && Instant::now() < deadline {
            match child.try_wait() {
                Ok(Some(status)) => return Some(Ok(status)),
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => return Some(Err(e.to_string())),
            }
        }
        let _ = child.kill();
        Some(
            child.wait().map_err(|e| e.to_string()).and_then(|status| {
                Err(format!("did not stop on SIGTERM ({status} after SIGKILL): {}", self.log_tail()))
            }),
        )
    }

    /// Gunicorn's master and workers, and redis-server, apart.
    fn processes(&self) -> Result<(Vec<u32>, Vec<u32>), String> {
        let root = self.child.as_ref().ok_or("the Django peer has stopped")?.id();
        let (redis, gunicorn) = descendants(root)?.into_iter().partition(|(_, comm)| comm == "redis-server");
        let pids = |processes: Vec<(u32, String)>| processes.into_iter().map(|(pid, _)| pid).collect();
        Ok((pids(gunicorn), pids(redis)))
    }

    /// Redis holds the codes and intervals that our API keeps in its own
    /// process: its peak apart, so that the two can be added up or not.
    fn emit_redis_peak(&self, scenario: &str) -> Result<(), String> {
        let (_, redis) = self.processes()?;
        let peak = peak_sum(&redis)?;
        emit(format!("rss.django.{scenario}.redis_peak"), peak as f64 / MB, "MB VmHWM of redis-server");
        Ok(())
    }

    /// The last lines of run.py's stderr, for an error message.
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        format!("{} ends:\n{}", self.log.display(), lines[lines.len().saturating_sub(10)..].join("\n"))
    }
}

impl Target for Peer {
    fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn outbox(&self) -> &Path {
        &self.outbox
    }

    /// VmHWM summed over gunicorn's master and workers: pages the workers
    /// share with the master count once per process, so this overstates
    /// what they take together, as a sum of RSS does.
    fn emit_peak_rss(&self, figure: &str) -> Result<(), String> {
        let (gunicorn, _) = self.processes()?;
        let unit = format!("MB VmHWM summed over {} gunicorn processes (master and workers)", gunicorn.len());
        emit(figure, peak_sum(&gunicorn)? as f64 / MB, &unit);
        Ok(())
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.terminate();
    }
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("UTF-8 scratch path")
}

fn peak_sum(pids: &[u32]) -> Result<u64, String> {
    pids.iter().map(|pid| procfs::memory(*pid).map(|m| m.peak)).sum()
}

/// Every process below `root`, with its command name, from `/proc/*/stat`.
fn descendants(root: u32) -> Result<Vec<(u32, String)>, String> {
    let mut processes = Vec::new();
    for entry in std::fs::read_dir("/proc").map_err(|e| format!("/proc: {e}"))?.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|name| name.parse::<u32>().ok()) else {
            continue;
        };
        // Gone since the listing: not one of ours, or not any more.
        if let Some((comm, parent)) =
            std::fs::read_to_string(entry.path().join("stat")).ok().and_then(|s| parse_stat(&s))
        {
            processes.push((pid, parent, comm));
        }
    }
    let mut found = Vec::new();
    let mut parents = vec![root];
    while let Some(parent) = parents.pop() {
        for (pid, _, comm) in processes.iter().filter(|(_, p, _)| *p == parent) {
            parents.push(*pid);
            found.push((*pid, comm.clone()));
        }
    }
    Ok(found)
}

/// `pid (comm) state ppid …` → (comm, ppid); comm may hold spaces and parentheses.
fn parse_stat(stat: &str) -> Option<(String, u32)> {
    let (open, close) = (stat.find('(')?, stat.rfind(')')?);
    let ppid = stat[close + 1..].split_whitespace().nth(1)?.parse().ok()?;
    Some((stat[open + 1..close].to_owned(), ppid))
}

#[cfg(test)]
mod tests {
    use super::*;

    const WRK_OUTPUT: &str = "Running 1s test @ http://127.0.0.1:3000/
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   812.34us    1.20ms  20.11ms   91.00%
    Req/Sec    40.12k     2.01k   44.00k    70.00%
  Latency Distribution
     50%  512.00us
     75%    0.90ms
     90%    1.50ms
     99%    5.02ms
  79876 requests in 1.00s, 10.21MB read
  Non-2xx or 3xx responses: 12
Requests/sec:  79801.23
Transfer/sec:     10.20MB
";

    #[test]
    fn wrk_output_gives_rate_percentiles_and_failures() {
        let r = parse_wrk(WRK_OUTPUT).unwrap();
        assert_eq!(r.requests, 79876);
        assert!((r.requests_per_s - 79801.23).abs() < 1e-6);
        assert!((r.p50_ms - 0.512).abs() < 1e-9);
        assert!((r.p99_ms - 5.02).abs() < 1e-9);
        assert_eq!(r.not_2xx, 12);
        assert!(!r.socket_errors);
    }

    fn round(requests: u64, requests_per_s: f64, p99_ms: f64) -> WrkResult {
        WrkResult { requests_per_s, p50_ms: p99_ms / 2.0, p99_ms, requests, not_2xx: 0, socket_errors: false }
    }

    #[test]
    fn rounds_combine_into_their_rate_over_their_time_and_their_median_latency() {
        // Two seconds each at 50k, 30k and 40k: 240k requests in 6 s.
        let rounds = [round(100_000, 50_000.0, 3.0), round(60_000, 30_000.0, 9.0), round(80_000, 40_000.0, 4.0)];
        let all = combine(&rounds).expect("three rounds");
        assert_eq!(all.requests, 240_000);
        assert!((all.requests_per_s - 40_000.0).abs() < 1e-6, "{all:?}");
        assert_eq!((all.p50_ms, all.p99_ms), (2.0, 4.0));
        let failed = WrkResult { not_2xx: 3, socket_errors: true, ..round(10, 10.0, 1.0) };
        let all = combine(&[round(10, 10.0, 1.0), failed]).expect("two rounds");
        assert_eq!((all.not_2xx, all.socket_errors), (3, true));
        // A round that answered nothing has no duration to add: no figure.
        assert!(combine(&[round(10, 10.0, 1.0), round(0, 0.0, 0.0)]).is_none());
        assert!(combine(&[]).is_none());
    }

    #[test]
    fn wrk_durations_convert_to_milliseconds() {
        assert_eq!(wrk_duration_ms("1.50s"), Some(1500.0));
        assert_eq!(wrk_duration_ms("2.00ms"), Some(2.0));
        assert_eq!(wrk_duration_ms("250.00us"), Some(0.25));
        assert_eq!(wrk_duration_ms("fast"), None);
    }

    #[test]
    fn proc_stat_gives_command_and_parent() {
        let stat = "4242 (redis-server (x)) S 4240 4242 17 0 -1 4194560";
        assert_eq!(parse_stat(stat), Some(("redis-server (x)".to_owned(), 4240)));
        assert_eq!(parse_stat("garbage"), None);
    }
}
