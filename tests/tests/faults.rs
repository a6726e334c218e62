//! Faults of every outside party: DynamoDB refusing connections, accepting
//! them and never answering, or stopped in the middle of a run; Cloopen
//! answering an error or hanging; SNS refusing. Every answer comes within
//! its bound, the API serves again once the fault is gone, and a read of the
//! whole table finds nothing half-written. Each test prints its figures.

use std::sync::Arc;
use std::time::{Duration, Instant};

use integration_tests::api::{Reply, StoreChoice, TestApi, TEST_SMS_CODE_SECRET};
use integration_tests::cloopen::{Answer, FakeCloopen, AUTH_TOKEN};
use integration_tests::faults::{Fault, FaultyPort};
use integration_tests::moto::{moto, sdk_config, Moto};
use integration_tests::table::{Expected, Findings, Snapshot};
use serde_json::{json, Value};
use signup::auth::CodeHasher;
use signup::sms::{CloopenSender, SmsSender, SnsSender};
use tokio::task::JoinSet;

/// Every route must answer within this, whatever DynamoDB does.
const BOUND: Duration = Duration::from_secs(3);
const PASSWORD: &str = "password123";
const CODE_TTL_SECONDS: i64 = 300;

fn code_hasher() -> CodeHasher {
    CodeHasher::from_secret(&TEST_SMS_CODE_SECRET.as_bytes().to_vec().into())
}

/// A local API on `table` at `endpoint`, through the service's own bounded DynamoDB client.
fn api_on(endpoint: &str, table: &str) -> integration_tests::api::Builder {
    TestApi::builder()
        .var("SMS_CODE_SECRET", TEST_SMS_CODE_SECRET)
        .store(StoreChoice::Dynamo { endpoint: endpoint.to_owned(), table: table.to_owned() })
}

/// One request; the reply and how long it took. A reply that takes over
/// 10 s fails the test outright.
async fn timed(api: &TestApi, method: &str, path: &str, body: Option<Value>) -> (Reply, Duration) {
    let started = Instant::now();
    let request = async {
        match body {
            Some(body) => api.post(path, body).await,
            None if method == "GET" => api.get(path).await,
            None => unreachable!("a POST carries a body"),
        }
    };
    let reply = tokio::time::timeout(Duration::from_secs(10), request)
        .await
        .unwrap_or_else(|_| panic!("{method} {path} did not answer within 10 s"));
    (reply, started.elapsed())
}

/// A request to every route that reads or writes DynamoDB, for `mobile`
/// (with `code` as the code where one is asked for).
fn store_routes(mobile: &str, code: &str) -> Vec<(&'static str, &'static str, String, Option<Value>)> {
    vec![
        ("check mobile", "GET", format!("/user/mobile/{mobile}"), None),
        ("send code", "POST", "/user/sms".into(), Some(json!({ "mobile": mobile }))),
        (
            "register",
            "POST",
            "/user/register".into(),
            Some(json!({ "mobile": mobile, "password": PASSWORD, "sms_code": code })),
        ),
        ("login", "POST", "/user/login".into(), Some(json!({ "username": mobile, "password": PASSWORD }))),
    ]
}

async fn scan(client: &aws_sdk_dynamodb::Client, table: &str, api: &TestApi, unanswered: &[String]) -> Findings {
    let hasher = code_hasher();
    let delivered = api.sms.sent();
    let expected = Expected {
        code_hasher: &hasher,
        delivered: &delivered,
        unanswered_sends: unanswered,
        verdicts: 0,
        code_ttl_seconds: CODE_TTL_SECONDS,
    };
    Snapshot::read(client, table).await.check(&expected)
}

/// DynamoDB behind a faulty port: a user has a code in hand, then the fault
/// starts; every route answers 503 within the bound; the fault ends and the
/// same user registers with the same code, and another signs up from scratch.
async fn every_route_under(fault: Fault, label: &str) {
    let (table, _) = moto().fresh_table().await;
    let port = FaultyPort::forwarding_to(&moto().endpoint).await;
    let api = api_on(&port.endpoint, &table).start().await;
    let (before, after) = (if fault == Fault::Hang { "13700000001" } else { "13700000002" }, "13700000003");
    let code = api.send_code(before).await;

    port.set(fault).await;
    let mut slowest = Duration::ZERO;
    let mut calls = 0;
    for mobile in [before, after] {
        for (name, method, path, body) in store_routes(mobile, &code) {
            let (reply, took) = timed(&api, method, &path, body).await;
            assert_eq!(reply.outcome(), (503, "service_unavailable"), "{label}: {name} for {mobile}: {}", reply.body);
            assert!(took < BOUND, "{label}: {name} took {took:?}");
            slowest = slowest.max(took);
            calls += 1;
        }
    }

    port.set(Fault::None).await;
    let started = Instant::now();
    api.register_with_code(before, PASSWORD, &code).await;
    let recovered = started.elapsed();
    api.register(after, PASSWORD).await;
    let login = api.post("/user/login", json!({ "username": after, "password": PASSWORD })).await;
    assert_eq!(login.status, 200, "{label}: serving again: {}", login.body);

    let findings = scan(&moto().dynamodb(), &table, &api, &[]).await;
    assert!(findings.violations.is_empty() && findings.late_writes.is_empty(), "{label}: {findings:?}");
    println!(
        "{label}: 503 on every route ({calls} calls), slowest {:.2} s (bound {} s); \
         once it was back the held code registered in {:.2} s; table: nothing half-written",
        slowest.as_secs_f64(),
        BOUND.as_secs(),
        recovered.as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_refusing_connections_answers_503_on_every_route_within_3_s_and_serving_resumes() {
    every_route_under(Fault::Refuse, "DynamoDB refusing connections").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_accepting_and_never_answering_answers_503_on_every_route_within_3_s_and_serving_resumes() {
    every_route_under(Fault::Hang, "DynamoDB hanging").await;
}

/// What one user of the stopped-moto run saw.
#[derive(Default)]
struct Journey {
    mobile: String,
    answers: Vec<(&'static str, u16, Duration)>,
    registered: bool,
    logged_in: bool,
}

/// Sign-up as a careful client does it: a 503 is tried again shortly, a 429
/// after its Retry-After (here: the test's clock moves on), a 409 on
/// register means an earlier try did register.
async fn sign_up(api: Arc<TestApi>, mobile: String, deadline: Instant) -> Journey {
    let mut journey = Journey { mobile: mobile.clone(), ..Journey::default() };
    let mut code = None;
    while Instant::now() < deadline && !journey.logged_in {
        let (step, method, path, body) = match (&code, journey.registered) {
            (None, _) => ("send", "POST", "/user/sms", json!({ "mobile": mobile })),
            (Some(code), false) => (
                "register",
                "POST",
                "/user/register",
                json!({ "mobile": mobile, "password": PASSWORD, "sms_code": code }),
            ),
            (Some(_), true) => ("login", "POST", "/user/login", json!({ "username": mobile, "password": PASSWORD })),
        };
        let (reply, took) = timed(&api, method, path, Some(body)).await;
        journey.answers.push((step, reply.status, took));
        match (step, reply.status) {
            ("send", 200) => code = api.sms.last_code(&mobile),
            ("send", 429) => api.clock.advance(reply.body["retry_after"].as_i64().unwrap_or(60)),
            ("register", 201 | 409) => journey.registered = true,
            // The code in hand was replaced by a send that landed late: ask again.
            ("register", 400) => code = None,
            ("login", 200) => journey.logged_in = true,
            (_, 503) => tokio::time::sleep(Duration::from_millis(100)).await,
            (step, status) => panic!("{mobile}: {step} answered {status}: {}", reply.body),
        }
    }
    journey
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_stopped_in_the_middle_of_a_run_costs_503s_within_3_s_and_leaves_nothing_half_written() {
    let private = Moto::start(&[]);
    let (table, _) = private.fresh_table().await;
    let api = Arc::new(api_on(&private.endpoint, &table).start().await);
    const USERS: usize = 8;
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut runs = JoinSet::new();
    for i in 0..USERS {
        let (api, mobile) = (api.clone(), format!("1370000{:04}", 100 + i));
        // Staggered, so that the freeze finds users at every step, and some not yet started.
        runs.spawn(async move {
            tokio::time::sleep(Duration::from_millis(100 * i as u64)).await;
            sign_up(api, mobile, deadline).await
        });
    }
    // Mid-run: the first users are between steps, others mid-request.
    tokio::time::sleep(Duration::from_millis(300)).await;
    private.freeze();
    let frozen = Duration::from_millis(2_500);
    tokio::time::sleep(frozen).await;
    private.thaw();

    let journeys: Vec<Journey> = runs.join_all().await;
    let answers: Vec<_> = journeys.iter().flat_map(|j| j.answers.iter()).collect();
    let slowest = answers.iter().map(|(_, _, took)| *took).max().unwrap_or_default();
    let unavailable = answers.iter().filter(|(_, status, _)| *status == 503).count();
    for journey in &journeys {
        assert!(journey.logged_in, "{} never completed once moto was back: {:?}", journey.mobile, journey.answers);
    }
    assert!(slowest < BOUND, "an answer took {slowest:?}");
    assert!(unavailable > 0, "the freeze fell between requests: nothing was tested");

    let unanswered: Vec<String> = journeys
        .iter()
        .filter(|j| j.answers.iter().any(|(step, status, _)| *step == "send" && *status == 503))
        .map(|j| j.mobile.clone())
        .collect();
    let findings = scan(&private.dynamodb(), &table, &api, &unanswered).await;
    assert!(findings.violations.is_empty(), "{findings:?}");
    let held_back = answers.iter().filter(|(step, status, _)| *step == "send" && *status == 429).count();
    let late_registrations = answers.iter().filter(|(step, status, _)| *step == "register" && *status == 409).count();
    println!(
        "moto stopped {:.1} s mid-run, {USERS} concurrent sign-ups: {} answers, {unavailable} of them 503, \
         slowest {:.2} s; all {USERS} registered and logged in once it was back; table: nothing half-written \
         ({} code(s) nobody holds, from sends that answered 503 and landed late); {held_back} send(s) held back \
         by such a late write until Retry-After, {late_registrations} register(s) found a late-landed registration (409)",
        frozen.as_secs_f64(),
        answers.len(),
        slowest.as_secs_f64(),
        findings.late_writes.len()
    );
}

/// A send through `sender` that fails: 502 within the bound, and the table
/// keeps no code and no interval for that number.
async fn failed_send_leaves_nothing(
    api: &TestApi,
    table: &str,
    mobile: &str,
    label: &str,
    bound: Duration,
) -> Duration {
    let (reply, took) = timed(api, "POST", "/user/sms", Some(json!({ "mobile": mobile }))).await;
    assert_eq!(reply.outcome(), (502, "sms_send_failed"), "{label}: {}", reply.body);
    assert!(took < bound, "{label}: took {took:?}");
    let findings = scan(&moto().dynamodb(), table, api, &[]).await;
    assert!(findings.violations.is_empty(), "{label}: {findings:?}");
    let snapshot = Snapshot::read(&moto().dynamodb(), table).await;
    assert!(!snapshot.codes.iter().any(|c| c.mobile == mobile), "{label}: a code or interval was left: {snapshot:?}");
    took
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloopen_answering_an_error_or_hanging_answers_502_and_leaves_no_code_and_no_interval() {
    let fake = FakeCloopen::start().await;
    let (table, _) = moto().fresh_table().await;
    let timeout = Duration::from_millis(1_000);
    let sender: Arc<dyn SmsSender> = Arc::new(CloopenSender::new(fake.settings(AUTH_TOKEN), timeout).unwrap());
    let api = api_on(&moto().endpoint, &table).var("SMS_TIMEOUT_MS", "1000").sms(sender).start().await;

    let mut figures = Vec::new();
    for (answer, mobile, label) in [
        (Answer::Error { code: "160038", message: "短信验证码发送过频繁" }, "13700000201", "Cloopen answering 160038"),
        (Answer::Hang, "13700000202", "Cloopen hanging"),
    ] {
        fake.answer(answer);
        let took = failed_send_leaves_nothing(&api, &table, mobile, label, BOUND).await;
        // Nothing holds the number back: it is texted at once when Cloopen works.
        fake.answer(Answer::Success);
        api.register(mobile, PASSWORD).await;
        figures.push(format!("{label}: 502 in {:.2} s", took.as_secs_f64()));
    }
    let findings = scan(&moto().dynamodb(), &table, &api, &[]).await;
    assert!(findings.violations.is_empty(), "{findings:?}");
    println!(
        "{} (SMS_TIMEOUT_MS=1000); no code, no interval left; the number was texted and registered right after",
        figures.join("; ")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sns_refusing_answers_502_and_leaves_no_code_and_no_interval() {
    let (table, _) = moto().fresh_table().await;
    let timeout = Duration::from_millis(1_000);

    // The SNS endpoint refuses connections, then comes back.
    let port = FaultyPort::forwarding_to(&moto().endpoint).await;
    port.set(Fault::Refuse).await;
    let sns = SnsSender::new(signup::aws::sns_client(&sdk_config(&port.endpoint), timeout));
    let api = api_on(&moto().endpoint, &table).var("SMS_TIMEOUT_MS", "1000").sms(Arc::new(sns)).start().await;
    let refused = failed_send_leaves_nothing(&api, &table, "13700000301", "SNS refusing connections", BOUND).await;
    port.set(Fault::None).await;
    assert_eq!(api.post("/user/sms", json!({ "mobile": "13700000301" })).await.status, 200, "texted once SNS is back");

    // SNS answers, and refuses the publish (moto enforcing signatures: 403).
    let strict = Moto::start(&[("INITIAL_NO_AUTH_ACTION_COUNT", "0")]);
    let sns = SnsSender::new(signup::aws::sns_client(&sdk_config(&strict.endpoint), timeout));
    let (table, _) = moto().fresh_table().await;
    let api = api_on(&moto().endpoint, &table).var("SMS_TIMEOUT_MS", "1000").sms(Arc::new(sns)).start().await;
    let mobile = "13700000302";
    let rejected = failed_send_leaves_nothing(&api, &table, mobile, "SNS refusing the publish", BOUND).await;
    let again = api.post("/user/sms", json!({ "mobile": mobile })).await;
    assert_eq!(again.outcome(), (502, "sms_send_failed"), "tried again at once, not held back by an interval");
    println!(
        "SNS refusing connections: 502 in {:.2} s; SNS refusing the publish: 502 in {:.2} s; \
         no code, no interval left (the next send was tried at once)",
        refused.as_secs_f64(),
        rejected.as_secs_f64()
    );
}
