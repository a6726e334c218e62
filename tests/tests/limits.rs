//! The abuse limits, each row of the table proven over HTTP on both stores
//! (`…::in_memory` and `…::on_dynamodb`, through moto), each test printing
//! its figure (`cargo test --test limits -- --nocapture` shows them).
//!
//! Every test first moves the clock to one minute past midnight, China time
//! (16:01 UTC): every window then has most of its length left, so nothing
//! rolls over by chance and the printed waits are the same on every run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use integration_tests::api::{Reply, StoreChoice, TestApi};
use integration_tests::sms::{Behaviour, RecordingSms};
use serde_json::{json, Value};
use signup::clock::Clock;

/// The tests of this file run one at a time, so that the login lock's
/// timings do not share the machine's cores with a 50-way race.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// `scenario(store)` as two tests, `in_memory` and `on_dynamodb`.
macro_rules! on_both_stores {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn in_memory() {
                let _alone = super::ONE_AT_A_TIME.lock().await;
                super::$name(super::StoreChoice::Memory).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_dynamodb() {
                let _alone = super::ONE_AT_A_TIME.lock().await;
                super::$name(super::StoreChoice::Moto).await;
            }
        }
    };
}

const PASSWORD: &str = "password123";
const CHINA_UTC_OFFSET: i64 = 8 * 3600;

fn label(store: &StoreChoice) -> &'static str {
    match store {
        StoreChoice::Memory => "memory",
        StoreChoice::Moto | StoreChoice::Dynamo { .. } => "DynamoDB",
        StoreChoice::Custom(_) => "custom",
    }
}

/// The `i`th of a run of distinct valid numbers.
fn mobile(i: usize) -> String {
    format!("138{i:08}")
}

/// Seconds from `now` to the next midnight in China (UTC+8).
fn to_china_midnight(now: i64) -> i64 {
    86_400 - (now + CHINA_UTC_OFFSET).rem_euclid(86_400)
}

/// Seconds from `now` to the end of its wall-clock slot of `length` seconds.
fn to_slot_end(now: i64, length: i64) -> i64 {
    length - now.rem_euclid(length)
}

/// The API on `store` with `vars` set (every other limit off), its clock at
/// 00:01 China time.
async fn start(store: StoreChoice, vars: &[(&str, &str)]) -> TestApi {
    let builder = vars.iter().fold(TestApi::builder().store(store), |b, (name, value)| b.var(name, value));
    let api = builder.start().await;
    api.clock.advance(to_china_midnight(api.clock.now()) + 60);
    api
}

async fn send(api: &TestApi, mobile: &str) -> Reply {
    api.post("/user/sms", json!({ "mobile": mobile })).await
}

async fn login(api: &TestApi, username: &str, password: &str) -> Reply {
    api.post("/user/login", json!({ "username": username, "password": password })).await
}

async fn register(api: &TestApi, mobile: &str, code: &str) -> Reply {
    api.post("/user/register", json!({ "mobile": mobile, "password": PASSWORD, "sms_code": code })).await
}

/// A code of the right shape that is not `code`.
fn wrong(code: &str) -> String {
    code.chars().map(|c| if c == '9' { '0' } else { char::from(c as u8 + 1) }).collect()
}

/// The same request `n` times at once, the `i`th built by `body(i)`.
async fn concurrently(api: &Arc<TestApi>, n: usize, path: &str, body: impl Fn(usize) -> Value) -> Vec<Reply> {
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (api, path, body) = (api.clone(), path.to_owned(), body(i));
            tokio::spawn(async move { api.post(&path, body).await })
        })
        .collect();
    let mut replies = Vec::new();
    for task in tasks {
        replies.push(task.await.expect("a request task"));
    }
    replies
}

fn count(replies: &[Reply], outcome: (u16, &str)) -> usize {
    replies.iter().filter(|r| r.outcome() == outcome).count()
}

/// A POST of `body` sent as `content_type`: its status and `code`.
async fn post_as(api: &TestApi, path: &str, content_type: &str, body: String) -> (u16, String) {
    let request = api.http.post(api.url(path)).header("content-type", content_type).body(body);
    let response = request.send().await.expect("the API answers");
    let status = response.status().as_u16();
    let reply: Value = response.json().await.unwrap_or_default();
    (status, reply["code"].as_str().unwrap_or("-").to_owned())
}

fn owned((status, code): (u16, &str)) -> (u16, String) {
    (status, code.to_owned())
}

/// A refusal that ends by itself: `retry_after` in the body, the same in
/// `Retry-After`, equal to `expected`.
fn assert_waits(reply: &Reply, expected: i64) {
    assert_eq!(reply.body["retry_after"], expected, "{}", reply.body);
    assert_eq!(reply.header("retry-after"), Some(expected.to_string().as_str()), "Retry-After equals the body's");
}

on_both_stores!(a_number_gets_its_daily_codes_then_429_until_china_midnight);
async fn a_number_gets_its_daily_codes_then_429_until_china_midnight(store: StoreChoice) {
    let store_label = label(&store);
    let api = start(store, &[("SMS_MAX_PER_MOBILE_PER_DAY", "3"), ("SMS_RESEND_INTERVAL_SECONDS", "0")]).await;
    for _ in 0..3 {
        assert_eq!(send(&api, &mobile(1)).await.status, 200);
    }
    let refused = send(&api, &mobile(1)).await;
    assert_eq!(refused.outcome(), (429, "sms_daily_limit"));
    assert_eq!(refused.body["field"], "mobile");
    let midnight = to_china_midnight(api.clock.now());
    assert_waits(&refused, midnight);
    assert_eq!(send(&api, &mobile(2)).await.status, 200, "another number has its own count");
    assert_eq!(api.sms.attempted().len(), 4, "the refused send texted nothing");
    api.clock.advance(midnight);
    assert_eq!(send(&api, &mobile(1)).await.status, 200, "a new China day, a new count");
    println!(
        "[{store_label}] SMS_MAX_PER_MOBILE_PER_DAY=3: 3 sent, the 4th 429 sms_daily_limit with retry_after \
         {midnight} s (= Retry-After = seconds to China midnight), another number 200, after midnight 200"
    );
}

on_both_stores!(fifty_concurrent_sends_from_one_address_text_exactly_the_hourly_limit);
async fn fifty_concurrent_sends_from_one_address_text_exactly_the_hourly_limit(store: StoreChoice) {
    let store_label = label(&store);
    let api = Arc::new(start(store, &[("SMS_MAX_PER_IP_PER_HOUR", "20")]).await);
    let replies = concurrently(&api, 50, "/user/sms", |i| json!({ "mobile": mobile(i) })).await;
    let (sent, refused) = (count(&replies, (200, "-")), count(&replies, (429, "sms_ip_limit")));
    assert_eq!((sent, refused), (20, 30), "{:?}", replies.iter().map(Reply::outcome).collect::<Vec<_>>());
    let texted = api.sms.attempted().len();
    assert_eq!(texted, 20);
    let hour_end = to_slot_end(api.clock.now(), 3_600);
    for reply in replies.iter().filter(|r| r.status == 429) {
        assert_waits(reply, hour_end);
    }
    api.clock.advance(hour_end);
    assert_eq!(send(&api, &mobile(99)).await.status, 200, "the next clock hour has its own count");
    println!(
        "[{store_label}] 50 concurrent sends to 50 numbers from one address, SMS_MAX_PER_IP_PER_HOUR=20: \
         {sent} sent ({texted} texted), {refused} refused (429 sms_ip_limit, Retry-After {hour_end} s = to the end \
         of the clock hour)"
    );
}

on_both_stores!(fifty_concurrent_sends_text_exactly_the_daily_budget);
async fn fifty_concurrent_sends_text_exactly_the_daily_budget(store: StoreChoice) {
    let store_label = label(&store);
    let api = Arc::new(start(store, &[("SMS_DAILY_BUDGET", "10")]).await);
    let replies = concurrently(&api, 50, "/user/sms", |i| json!({ "mobile": mobile(i) })).await;
    let (sent, refused) = (count(&replies, (200, "-")), count(&replies, (503, "sms_budget_exhausted")));
    assert_eq!((sent, refused), (10, 40), "{:?}", replies.iter().map(Reply::outcome).collect::<Vec<_>>());
    let texted = api.sms.attempted().len();
    assert_eq!(texted, 10);
    let midnight = to_china_midnight(api.clock.now());
    for reply in replies.iter().filter(|r| r.status == 503) {
        assert_waits(reply, midnight);
    }
    api.clock.advance(midnight);
    assert_eq!(send(&api, &mobile(99)).await.status, 200, "the next China day has a new budget");
    println!(
        "[{store_label}] 50 concurrent sends to 50 numbers, SMS_DAILY_BUDGET=10: {sent} sent ({texted} texted), \
         {refused} refused (503 sms_budget_exhausted, retry_after {midnight} s = to China midnight)"
    );
}

on_both_stores!(register_and_login_share_one_attempt_counter_per_address);
async fn register_and_login_share_one_attempt_counter_per_address(store: StoreChoice) {
    let store_label = label(&store);
    let api = start(store, &[("AUTH_MAX_ATTEMPTS_PER_IP_PER_10_MIN", "4")]).await;
    let (user, other) = (mobile(1), mobile(2));
    let code = api.send_code(&user).await;
    assert_eq!(register(&api, &user, &code).await.status, 201, "attempt 1: register");
    assert_eq!(login(&api, &user, "wrong-password").await.status, 401, "attempt 2: login");
    let other_code = api.send_code(&other).await;
    assert_eq!(register(&api, &other, &wrong(&other_code)).await.status, 400, "attempt 3: register");
    assert_eq!(login(&api, &user, "wrong-password").await.status, 401, "attempt 4: login");
    let slot_end = to_slot_end(api.clock.now(), 600);
    for refused in [login(&api, &user, PASSWORD).await, register(&api, &other, &other_code).await] {
        assert_eq!(refused.outcome(), (429, "too_many_attempts"), "the right password and the right code too");
        assert_waits(&refused, slot_end);
    }
    api.clock.advance(slot_end);
    assert_eq!(login(&api, &user, PASSWORD).await.status, 200, "the next 10-minute slot");
    assert_eq!(api.sms.attempted().len(), 2, "sending codes is not an attempt");
    println!(
        "[{store_label}] AUTH_MAX_ATTEMPTS_PER_IP_PER_10_MIN=4: register, login, register, login used the 4; \
         the 5th (right password) and 6th (right code) 429 too_many_attempts, Retry-After {slot_end} s = to the \
         end of the 10-minute slot; then 200"
    );
}

on_both_stores!(fifty_concurrent_logins_from_one_address_are_checked_exactly_up_to_the_limit);
async fn fifty_concurrent_logins_from_one_address_are_checked_exactly_up_to_the_limit(store: StoreChoice) {
    let store_label = label(&store);
    let api = Arc::new(start(store, &[("AUTH_MAX_ATTEMPTS_PER_IP_PER_10_MIN", "30")]).await);
    // Fifty usernames, so the per-username lock (off here anyway) plays no part.
    let replies =
        concurrently(&api, 50, "/user/login", |i| json!({ "username": mobile(i), "password": "wrong-password" })).await;
    let (checked, refused) =
        (count(&replies, (401, "invalid_credentials")), count(&replies, (429, "too_many_attempts")));
    assert_eq!((checked, refused), (30, 20), "{:?}", replies.iter().map(Reply::outcome).collect::<Vec<_>>());
    println!(
        "[{store_label}] 50 concurrent logins from one address, AUTH_MAX_ATTEMPTS_PER_IP_PER_10_MIN=30: \
         {checked} checked (401), {refused} refused (429 too_many_attempts)"
    );
}

on_both_stores!(five_wrong_passwords_lock_the_username_until_the_window_ends_the_right_one_too);
async fn five_wrong_passwords_lock_the_username_until_the_window_ends_the_right_one_too(store: StoreChoice) {
    let store_label = label(&store);
    let api = start(store, &[("LOGIN_MAX_FAILURES", "5"), ("LOGIN_LOCK_SECONDS", "900")]).await;
    let user = mobile(1);
    api.register(&user, PASSWORD).await;
    for _ in 0..4 {
        assert_eq!(login(&api, &user, "wrong-password").await.outcome(), (401, "invalid_credentials"));
    }
    let fifth = login(&api, &user, "wrong-password").await;
    assert_eq!(fifth.outcome(), (429, "login_locked"), "the failure that fills the window already says so");
    let window_end = to_slot_end(api.clock.now(), 900);
    assert_waits(&fifth, window_end);
    let right = login(&api, &user, PASSWORD).await;
    assert_eq!(right.outcome(), (429, "login_locked"), "the right password is refused while locked");
    assert_waits(&right, window_end);
    assert_eq!(login(&api, &mobile(2), "wrong-password").await.status, 401, "another username is not locked");

    api.clock.advance(window_end);
    assert_eq!(login(&api, &user, PASSWORD).await.status, 200, "the next window");
    // A right password gives its count back: four failures, then any number
    // of good logins, and the lock is still one failure away.
    for _ in 0..4 {
        assert_eq!(login(&api, &user, "wrong-password").await.status, 401);
    }
    for _ in 0..3 {
        assert_eq!(login(&api, &user, PASSWORD).await.status, 200, "a good login does not count as a failure");
    }
    assert_eq!(login(&api, &user, "wrong-password").await.outcome(), (429, "login_locked"));
    println!(
        "[{store_label}] LOGIN_MAX_FAILURES=5, LOGIN_LOCK_SECONDS=900: wrong 1-4 401, the 5th 429 login_locked, \
         the right password 429 login_locked (Retry-After {window_end} s = to the end of the 900-s window), \
         then 200; 4 failures + 3 good logins + 1 failure = locked"
    );
}

/// One login as raw bytes: status, `Retry-After`, body, and how long it took.
async fn login_bytes(api: &TestApi, username: &str, password: &str) -> (u16, Option<String>, Vec<u8>, Duration) {
    let started = Instant::now();
    let response = api
        .http
        .post(api.url("/user/login"))
        .json(&json!({ "username": username, "password": password }))
        .send()
        .await
        .expect("the API answers");
    let status = response.status().as_u16();
    let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    let body = response.bytes().await.expect("a whole body").to_vec();
    (status, retry_after, body, started.elapsed())
}

/// The median of `values`.
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

on_both_stores!(an_unknown_or_non_mobile_username_locks_exactly_like_a_real_one);
async fn an_unknown_or_non_mobile_username_locks_exactly_like_a_real_one(store: StoreChoice) {
    let store_label = label(&store);
    // Sixteen failures, so that each username gives sixteen timings of a checked try.
    let api = start(store, &[("LOGIN_MAX_FAILURES", "16")]).await;
    let user = mobile(1);
    api.register(&user, PASSWORD).await;
    // One warm-up login, so that no username pays for making the dummy hash.
    login(&api, "warm-up", "wrong-password").await;

    let usernames = [user.as_str(), "13900000000", "admin"];
    // In rounds, one try of each username, the first of each round taking
    // turns, so that whatever else loads the machine falls on the three alike.
    let mut tries: [Vec<_>; 3] = Default::default();
    for round in 0..20 {
        for k in (0..3).map(|k| (k + round) % 3) {
            tries[k].push(login_bytes(&api, usernames[k], "wrong-password").await);
        }
    }
    for (username, tries) in usernames.iter().zip(&tries) {
        let outcomes: Vec<u16> = tries.iter().map(|t| t.0).collect();
        assert_eq!(outcomes, [[401; 15].as_slice(), &[429; 5]].concat(), "{username}");
    }
    let answers: Vec<Vec<_>> =
        tries.iter().map(|t| t.iter().map(|(status, retry, body, _)| (status, retry, body)).collect()).collect();
    for (username, answer) in usernames.iter().zip(&answers).skip(1) {
        // The clock stands still, so even retry_after is the same: every byte is.
        assert_eq!(answer, &answers[0], "{username} is answered byte for byte like the registered {user}");
    }
    // The first sixteen tries were checked with argon2; the last four were refused before it.
    let ms = |t: &(u16, Option<String>, Vec<u8>, Duration)| t.3.as_secs_f64() * 1000.0;
    let registered = median(tries[0][..16].iter().map(ms).collect());
    let mut figures = Vec::new();
    for (username, own) in usernames.iter().zip(&tries) {
        let checked = median(own[..16].iter().map(ms).collect());
        let locked = median(own[16..].iter().map(ms).collect());
        let ratio = checked / registered;
        assert!(
            locked * 2.0 < checked,
            "{username}: a locked try ({locked:.1} ms) does no argon2 work; a checked one takes {checked:.1} ms"
        );
        assert!(
            (0.5..2.0).contains(&ratio),
            "{username}: a checked try takes {ratio:.2} times the registered user's: the same argon2 work"
        );
        figures.push(format!(
            "{username}: checked {checked:.1} ms ({ratio:.2}x the registered user's), locked {locked:.1} ms"
        ));
    }
    let body = String::from_utf8(answers[0][16].2.clone()).unwrap();
    println!(
        "[{store_label}] registered, unknown and non-mobile usernames, LOGIN_MAX_FAILURES=16, 20 wrong passwords \
         each: 401 x15 then 429 x5, every answer byte-identical across the three ({body}); medians {}",
        figures.join("; ")
    );
}

on_both_stores!(fifty_concurrent_wrong_passwords_for_one_username_lock_it_exactly);
async fn fifty_concurrent_wrong_passwords_for_one_username_lock_it_exactly(store: StoreChoice) {
    let store_label = label(&store);
    let api = Arc::new(start(store, &[("LOGIN_MAX_FAILURES", "5")]).await);
    let user = mobile(1);
    api.register(&user, PASSWORD).await;
    let replies =
        concurrently(&api, 50, "/user/login", |_| json!({ "username": user, "password": "wrong-password" })).await;
    let (checked, locked) = (count(&replies, (401, "invalid_credentials")), count(&replies, (429, "login_locked")));
    assert_eq!((checked, locked), (4, 46), "{:?}", replies.iter().map(Reply::outcome).collect::<Vec<_>>());
    assert_eq!(login(&api, &user, PASSWORD).await.outcome(), (429, "login_locked"));
    println!(
        "[{store_label}] 50 concurrent wrong passwords for one username, LOGIN_MAX_FAILURES=5: {checked} x 401, \
         {locked} x 429 login_locked (5 argon2 checks in all); the right password then 429"
    );
}

on_both_stores!(wrong_codes_count_across_new_codes_until_the_number_is_refused_for_the_day);
async fn wrong_codes_count_across_new_codes_until_the_number_is_refused_for_the_day(store: StoreChoice) {
    let store_label = label(&store);
    let api = start(store, &[("SMS_CODE_MAX_FAILURES_PER_MOBILE_PER_DAY", "20")]).await;
    let user = mobile(1);
    // Four codes, each burnt by its five wrong tries (SMS_CODE_MAX_ATTEMPTS=5).
    for round in 0..4 {
        let code = api.send_code(&user).await;
        for attempt in 1..=5 {
            let expected = if attempt < 5 { (400, "invalid_sms_code") } else { (429, "sms_code_attempts_exceeded") };
            assert_eq!(register(&api, &user, &wrong(&code)).await.outcome(), expected, "code {round}, try {attempt}");
        }
        api.clock.advance(60);
    }
    let fifth_code = api.send_code(&user).await;
    let refused = register(&api, &user, &fifth_code).await;
    assert_eq!(refused.outcome(), (429, "sms_code_attempts_exceeded"), "the right code too, once 20 are spent");
    assert_eq!(refused.body["field"], "sms_code");
    let midnight = to_china_midnight(api.clock.now());
    assert_waits(&refused, midnight);

    api.clock.advance(midnight);
    let next_day_code = api.send_code(&user).await;
    assert_eq!(register(&api, &user, &next_day_code).await.status, 201, "the next China day");
    println!(
        "[{store_label}] SMS_CODE_MAX_FAILURES_PER_MOBILE_PER_DAY=20: 4 codes x 5 wrong tries = 20 failures; \
         the right 5th code 429 sms_code_attempts_exceeded (Retry-After {midnight} s = to China midnight); \
         the next day 201"
    );
}

on_both_stores!(fifty_concurrent_wrong_codes_count_exactly_to_the_daily_limit);
async fn fifty_concurrent_wrong_codes_count_exactly_to_the_daily_limit(store: StoreChoice) {
    let store_label = label(&store);
    let vars = [("SMS_CODE_MAX_FAILURES_PER_MOBILE_PER_DAY", "20"), ("SMS_CODE_MAX_ATTEMPTS", "100")];
    let api = Arc::new(start(store, &vars).await);
    let user = mobile(1);
    let code = api.send_code(&user).await;
    let bad = wrong(&code);
    let replies =
        concurrently(&api, 50, "/user/register", |_| json!({ "mobile": user, "password": PASSWORD, "sms_code": bad }))
            .await;
    let (checked, refused) =
        (count(&replies, (400, "invalid_sms_code")), count(&replies, (429, "sms_code_attempts_exceeded")));
    assert_eq!((checked, refused), (20, 30), "{:?}", replies.iter().map(Reply::outcome).collect::<Vec<_>>());
    assert_eq!(register(&api, &user, &code).await.outcome(), (429, "sms_code_attempts_exceeded"));
    println!(
        "[{store_label}] 50 concurrent wrong codes for one number, SMS_CODE_MAX_FAILURES_PER_MOBILE_PER_DAY=20 \
         (SMS_CODE_MAX_ATTEMPTS=100): {checked} checked (400 invalid_sms_code), {refused} refused (429 \
         sms_code_attempts_exceeded); the right code then 429"
    );
}

on_both_stores!(a_refused_send_spends_no_counter);
async fn a_refused_send_spends_no_counter(store: StoreChoice) {
    let store_label = label(&store);
    let limits = [("SMS_MAX_PER_MOBILE_PER_DAY", "1"), ("SMS_MAX_PER_IP_PER_HOUR", "1"), ("SMS_DAILY_BUDGET", "1")];
    let api = start(store, &limits).await;
    let registered = mobile(1);
    api.register(&registered, PASSWORD).await;
    // A new China day and hour: every counter starts again at 0.
    api.clock.advance(to_china_midnight(api.clock.now()) + 60);

    let mut refusals = Vec::new();
    for raw in ["12345", "2381234567", "+1 415 555 0100"] {
        refusals.push(owned(send(&api, raw).await.outcome()));
    }
    refusals.push(owned(api.post("/user/sms", json!({})).await.outcome()));
    for _ in 0..3 {
        refusals.push(owned(send(&api, &registered).await.outcome()));
    }
    let not_json = r#"{"mobile":"13800000002"}"#;
    refusals.push(post_as(&api, "/user/sms", "text/plain", not_json.to_owned()).await);
    refusals.push(owned(api.get(&format!("/user/sms/{}", mobile(2))).await.outcome()));
    api.sms.set(Behaviour::Refuse);
    for _ in 0..3 {
        refusals.push(owned(send(&api, &mobile(2)).await.outcome()));
    }
    api.sms.set(Behaviour::Deliver);
    let expected: Vec<(u16, &str)> = [
        [(400, "invalid_mobile"); 3].as_slice(),
        &[(400, "invalid_request")],
        &[(409, "mobile_registered"); 3],
        &[(415, "unsupported_media_type"), (405, "method_not_allowed")],
        &[(502, "sms_send_failed"); 3],
    ]
    .concat();
    assert_eq!(refusals, expected.into_iter().map(owned).collect::<Vec<_>>());

    assert_eq!(send(&api, &mobile(2)).await.status, 200, "every counter still had its 1");
    assert_eq!(send(&api, &mobile(3)).await.outcome(), (429, "sms_ip_limit"), "and the limits are live");
    println!(
        "[{store_label}] every SMS limit at 1: {} refused requests (3 x 400 invalid_mobile, 400 invalid_request, \
         3 x 409, 415, 405, 3 x 502 sms_send_failed) spent nothing; the next send 200, the one after 429 \
         sms_ip_limit",
        refusals.len()
    );
}

on_both_stores!(a_request_refused_before_its_check_spends_no_attempt);
async fn a_request_refused_before_its_check_spends_no_attempt(store: StoreChoice) {
    let store_label = label(&store);
    let limits = [("AUTH_MAX_ATTEMPTS_PER_IP_PER_10_MIN", "1"), ("SMS_CODE_MAX_FAILURES_PER_MOBILE_PER_DAY", "1")];
    let api = start(store, &limits).await;
    let user = mobile(1);
    api.register(&user, PASSWORD).await;
    api.clock.advance(to_slot_end(api.clock.now(), 600));
    let other = mobile(2);
    let code = api.send_code(&other).await;

    let refused = [
        api.post("/user/login", json!({ "username": user })).await,
        api.post_raw("/user/login", "not json").await,
        api.post("/user/register", json!({ "mobile": "12345", "password": PASSWORD, "sms_code": code })).await,
        api.post("/user/register", json!({ "mobile": other, "password": "short", "sms_code": code })).await,
        register(&api, &other, "abcdef").await,
        register(&api, &other, "12345").await,
    ];
    let outcomes: Vec<(u16, &str)> = refused.iter().map(Reply::outcome).collect();
    assert_eq!(
        outcomes,
        [
            (400, "invalid_request"),
            (400, "invalid_request"),
            (400, "invalid_mobile"),
            (400, "invalid_password"),
            (400, "invalid_sms_code"),
            (400, "invalid_sms_code")
        ]
    );
    assert_eq!(register(&api, &other, &code).await.status, 201, "the attempt and the code failure were both unspent");
    assert_eq!(login(&api, &user, PASSWORD).await.outcome(), (429, "too_many_attempts"), "the limit of 1 is live");
    println!(
        "[{store_label}] AUTH_MAX_ATTEMPTS_PER_IP_PER_10_MIN=1, SMS_CODE_MAX_FAILURES_PER_MOBILE_PER_DAY=1: {} \
         malformed requests (400) spent nothing; the next register 201, the login after it 429 too_many_attempts",
        refused.len()
    );
}

on_both_stores!(a_get_or_a_non_json_post_never_sends);
async fn a_get_or_a_non_json_post_never_sends(store: StoreChoice) {
    let store_label = label(&store);
    let api = start(store, &[]).await;
    let get = api.get(&format!("/user/sms/{}", mobile(1))).await;
    assert_eq!(get.outcome(), (405, "method_not_allowed"));
    assert_eq!(get.header("allow"), Some("POST"));
    // What a cross-site <form> or a "simple" fetch can send without a preflight.
    let mut refused = 0;
    for content_type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
        for path in ["/user/sms", "/user/register", "/user/login"] {
            let body =
                json!({ "mobile": mobile(1), "username": mobile(1), "password": PASSWORD, "sms_code": "123456" });
            let outcome = post_as(&api, path, content_type, body.to_string()).await;
            assert_eq!(outcome, (415, "unsupported_media_type".to_owned()), "{path} {content_type}");
            refused += 1;
        }
    }
    assert!(api.sms.attempted().is_empty());
    let with_charset =
        post_as(&api, "/user/sms", "application/json; charset=UTF-8", json!({ "mobile": mobile(1) }).to_string());
    assert_eq!(with_charset.await.0, 200, "JSON with a charset is JSON");
    println!(
        "[{store_label}] GET /user/sms/{{mobile}}: 405 Allow: POST; {refused} cross-site-shaped POSTs (text/plain, \
         form, multipart to sms/register/login): 415 unsupported_media_type; 0 texted"
    );
}

on_both_stores!(x_forwarded_for_is_ignored_unless_trusted_and_then_its_last_entry_counts);
async fn x_forwarded_for_is_ignored_unless_trusted_and_then_its_last_entry_counts(store: StoreChoice) {
    let store_label = label(&store);
    let post_from = |api: &TestApi, forwarded: &str, to: String| {
        api.http.post(api.url("/user/sms")).header("x-forwarded-for", forwarded).json(&json!({ "mobile": to })).send()
    };
    // Untrusted: every send is 127.0.0.1's, whatever the header says.
    let api = start(store.clone(), &[("SMS_MAX_PER_IP_PER_HOUR", "2")]).await;
    let mut untrusted = Vec::new();
    for (i, forwarded) in ["198.51.100.1", "198.51.100.2", "198.51.100.3"].into_iter().enumerate() {
        untrusted.push(post_from(&api, forwarded, mobile(i)).await.unwrap().status().as_u16());
    }
    assert_eq!(untrusted, [200, 200, 429]);

    // Trusted: the last entry (the one our own proxy wrote) is the address.
    let builder = TestApi::builder().store(store).var("SMS_MAX_PER_IP_PER_HOUR", "1").trust_x_forwarded_for();
    let api = builder.start().await;
    let mut trusted = Vec::new();
    for (i, forwarded) in
        ["198.51.100.1", "198.51.100.1", "198.51.100.2", "203.0.113.7, 198.51.100.2"].into_iter().enumerate()
    {
        trusted.push(post_from(&api, forwarded, mobile(i)).await.unwrap().status().as_u16());
    }
    assert_eq!(trusted, [200, 429, 200, 429], "a client-written first entry changes nothing");
    println!(
        "[{store_label}] X-Forwarded-For, SMS_MAX_PER_IP_PER_HOUR=2 untrusted: 3 different headers {untrusted:?}; \
         limit 1 with TRUST_X_FORWARDED_FOR: A, A, B, \"C, B\" {trusted:?}"
    );
}

/// An API Gateway v2 event for `POST /user/sms` from `source_ip`, carrying
/// a client-written `X-Forwarded-For` that must not matter.
fn send_event(to: &str, source_ip: &str, forwarded: &str) -> lambda_http::Request {
    let path = integration_tests::workspace_root().join("events/send-sms/post-success.json");
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    event["body"] = json!(json!({ "mobile": to }).to_string());
    event["isBase64Encoded"] = json!(false);
    event["headers"]["content-type"] = json!("application/json");
    event["headers"]["x-forwarded-for"] = json!(forwarded);
    event["headers"].as_object_mut().unwrap().remove("content-length");
    event["requestContext"]["http"]["sourceIp"] = json!(source_ip);
    lambda_http::request::from_str(&event.to_string()).expect("an API Gateway v2 event")
}

on_both_stores!(in_lambda_each_source_ip_has_its_own_count);
async fn in_lambda_each_source_ip_has_its_own_count(store: StoreChoice) {
    let store_label = label(&store);
    let store: Arc<dyn signup::store::Store> = match store {
        StoreChoice::Memory => Arc::new(signup::store::MemoryStore::default()),
        _ => Arc::new(integration_tests::moto::moto().fresh_store().await),
    };
    let vars = [
        ("JWT_SECRET", integration_tests::api::TEST_JWT_SECRET),
        ("SMS_CODE_SECRET", integration_tests::api::TEST_JWT_SECRET),
        ("SMS_BACKEND", "sns"),
        ("SMS_MAX_PER_IP_PER_HOUR", "1"),
    ];
    let lookup = |k: &str| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string());
    let settings =
        signup::config::Settings::from_lookup(signup::config::Mode::Lambda, lookup).expect("Lambda settings");
    let sms = Arc::new(RecordingSms::default());
    let services = signup::Services::builder(settings).store(store).sms(sms.clone()).build().await.unwrap();
    let mut statuses = Vec::new();
    for (to, source_ip, forwarded) in [
        (mobile(1), "203.0.113.10", "203.0.113.10"),
        (mobile(2), "203.0.113.10", "198.51.100.99"),
        (mobile(3), "198.51.100.20", "203.0.113.10"),
        (mobile(4), "198.51.100.20", "198.51.100.21"),
    ] {
        let request = send_event(&to, source_ip, forwarded);
        let response = signup::lambda::handle(&services, signup::http::Endpoint::SendSms, request).await.unwrap();
        let body: Value = match response.body() {
            lambda_http::Body::Text(text) => serde_json::from_str(text).unwrap(),
            other => panic!("body {other:?}"),
        };
        statuses.push((response.status().as_u16(), body["code"].as_str().unwrap_or("-").to_owned()));
    }
    let expected = [(200, "-"), (429, "sms_ip_limit"), (200, "-"), (429, "sms_ip_limit")];
    assert_eq!(statuses, expected.map(|(s, c)| (s, c.to_owned())));
    assert_eq!(sms.attempted().len(), 2);
    println!(
        "[{store_label}] Lambda, SMS_MAX_PER_IP_PER_HOUR=1: sourceIp A, A (spoofed X-Forwarded-For), B, B: \
         {statuses:?}: one count per sourceIp, X-Forwarded-For ignored"
    );
}
