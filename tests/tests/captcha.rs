//! The captcha before any SMS, against local Geetest v4 and Turnstile
//! servers that check each request as the providers do
//! (`tests/src/captcha.rs`). Missing: 400 `captcha_required`; rejected: 400
//! `captcha_failed`; provider slow or failing: 503 `captcha_unavailable`
//! (fail closed); passed: the code is texted. Nothing is spent first.

use std::sync::Arc;
use std::time::{Duration, Instant};

use integration_tests::api::{Reply, StoreChoice, TestApi};
use integration_tests::captcha::{FakeGeetest, FakeTurnstile, Mode, GEETEST_CAPTCHA_ID, TURNSTILE_SECRET_KEY};
use serde_json::{json, Value};

const MOBILE: &str = "13812345678";

async fn api_with(vars: Vec<(&'static str, String)>) -> TestApi {
    api_on(StoreChoice::Memory, vars).await
}

async fn api_on(store: StoreChoice, vars: Vec<(&'static str, String)>) -> TestApi {
    vars.iter().fold(TestApi::builder().store(store), |b, (name, value)| b.var(name, value)).start().await
}

async fn send(api: &TestApi, captcha: Option<Value>) -> Reply {
    let body = match captcha {
        Some(captcha) => json!({ "mobile": MOBILE, "captcha": captcha }),
        None => json!({ "mobile": MOBILE }),
    };
    api.post("/user/sms", body).await
}

#[tokio::test]
async fn geetest_passed_captcha_is_validated_as_geetest_wants_and_texts_the_code() {
    let geetest = FakeGeetest::start().await;
    let api = api_with(geetest.vars()).await;
    let reply = send(&api, Some(geetest.solve())).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(api.sms.attempted().len(), 1);
    let received = geetest.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].query["captcha_id"], GEETEST_CAPTCHA_ID);
    assert_eq!(received[0].form["sign_token"].len(), 64, "hex HMAC-SHA256");
}

#[tokio::test]
async fn turnstile_passed_challenge_is_verified_with_secret_and_client_address_and_texts_the_code() {
    let turnstile = FakeTurnstile::start().await;
    let api = api_with(turnstile.vars()).await;
    let reply = send(&api, Some(turnstile.solve())).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(api.sms.attempted().len(), 1);
    let received = turnstile.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].form["secret"], TURNSTILE_SECRET_KEY);
    assert_eq!(received[0].form["remoteip"], "127.0.0.1");
}

#[tokio::test]
async fn missing_captcha_is_400_captcha_required_and_asks_no_provider() {
    let (geetest, turnstile) = (FakeGeetest::start().await, FakeTurnstile::start().await);
    for vars in [geetest.vars(), turnstile.vars()] {
        let api = api_with(vars).await;
        let reply = send(&api, None).await;
        assert_eq!(reply.outcome(), (400, "captcha_required"));
        assert_eq!(reply.body["field"], "captcha");
        assert!(api.sms.attempted().is_empty());
    }
    assert!(geetest.received().is_empty() && turnstile.received().is_empty());
}

#[tokio::test]
async fn rejected_captcha_is_400_captcha_failed_and_texts_nothing() {
    let geetest = FakeGeetest::start().await;
    let api = api_with(geetest.vars()).await;
    let solved = geetest.solve();
    assert_eq!(send(&api, Some(geetest.forged())).await.outcome(), (400, "captcha_failed"), "never solved");
    assert_eq!(send(&api, Some(solved.clone())).await.status, 200);
    api.clock.advance(60);
    assert_eq!(send(&api, Some(solved)).await.outcome(), (400, "captcha_failed"), "a replayed answer");

    let turnstile = FakeTurnstile::start().await;
    let api_t = api_with(turnstile.vars()).await;
    let token = turnstile.solve();
    assert_eq!(send(&api_t, Some(json!({ "token": "forged" }))).await.outcome(), (400, "captcha_failed"));
    assert_eq!(send(&api_t, Some(token.clone())).await.status, 200);
    api_t.clock.advance(60);
    assert_eq!(send(&api_t, Some(token)).await.outcome(), (400, "captcha_failed"), "a replayed token");
    assert_eq!(api.sms.attempted().len() + api_t.sms.attempted().len(), 2, "only the two passes texted");
}

#[tokio::test]
async fn a_wrong_captcha_key_or_secret_is_refused_by_the_provider() {
    let geetest = FakeGeetest::start().await;
    let mut vars = geetest.vars();
    vars.retain(|(name, _)| *name != "GEETEST_CAPTCHA_KEY");
    vars.push(("GEETEST_CAPTCHA_KEY", "not-the-key".into()));
    let api = api_with(vars).await;
    assert_eq!(send(&api, Some(geetest.solve())).await.outcome(), (400, "captcha_failed"), "sign_token mismatch");

    let turnstile = FakeTurnstile::start().await;
    let mut vars = turnstile.vars();
    vars.retain(|(name, _)| *name != "TURNSTILE_SECRET_KEY");
    vars.push(("TURNSTILE_SECRET_KEY", "not-the-secret".into()));
    let api_t = api_with(vars).await;
    assert_eq!(send(&api_t, Some(turnstile.solve())).await.outcome(), (400, "captcha_failed"), "invalid-input-secret");
    assert!(api.sms.attempted().is_empty() && api_t.sms.attempted().is_empty());
}

#[tokio::test]
async fn an_answer_in_the_other_providers_shape_is_400_invalid_request() {
    let turnstile = FakeTurnstile::start().await;
    let api = api_with(turnstile.vars()).await;
    let geetest_shaped = json!({ "lot_number": "a", "captcha_output": "b", "pass_token": "c", "gen_time": "d" });
    let reply = send(&api, Some(geetest_shaped)).await;
    assert_eq!((reply.outcome(), &reply.body["field"]), ((400, "invalid_request"), &json!("captcha")));
    assert!(turnstile.received().is_empty());
}

/// Sends with the provider in `mode`, `CAPTCHA_TIMEOUT_MS=300`: the answer
/// and how long it took.
async fn send_while(mode: Mode, geetest: &FakeGeetest, turnstile: &FakeTurnstile) -> [(Reply, Duration); 2] {
    geetest.set(mode);
    turnstile.set(mode);
    let mut answers = Vec::new();
    for (vars, captcha) in [(geetest.vars(), geetest.solve()), (turnstile.vars(), turnstile.solve())] {
        let mut vars = vars;
        vars.push(("CAPTCHA_TIMEOUT_MS", "300".into()));
        let api = api_with(vars).await;
        let started = Instant::now();
        let reply = send(&api, Some(captcha)).await;
        let elapsed = started.elapsed();
        assert!(api.sms.attempted().is_empty(), "fail closed: no SMS");
        answers.push((reply, elapsed));
    }
    answers.try_into().unwrap_or_else(|_| unreachable!())
}

#[tokio::test]
async fn a_hanging_provider_is_503_captcha_unavailable_within_the_timeout() {
    let (geetest, turnstile) = (FakeGeetest::start().await, FakeTurnstile::start().await);
    let answers = send_while(Mode::Hang, &geetest, &turnstile).await;
    for ((reply, elapsed), provider) in answers.iter().zip(["Geetest", "Turnstile"]) {
        assert_eq!(reply.outcome(), (503, "captcha_unavailable"), "{provider}");
        assert!(*elapsed >= Duration::from_millis(300), "{provider}: waited the timeout, {elapsed:?}");
        assert!(*elapsed < Duration::from_millis(1_300), "{provider}: no longer than the timeout, {elapsed:?}");
        println!("{provider} hanging, CAPTCHA_TIMEOUT_MS=300: 503 captcha_unavailable after {elapsed:.0?}, 0 texted");
    }
}

#[tokio::test]
async fn a_failing_provider_is_503_captcha_unavailable() {
    let (geetest, turnstile) = (FakeGeetest::start().await, FakeTurnstile::start().await);
    let answers = send_while(Mode::Fail500, &geetest, &turnstile).await;
    for ((reply, elapsed), provider) in answers.iter().zip(["Geetest", "Turnstile"]) {
        assert_eq!(reply.outcome(), (503, "captcha_unavailable"), "{provider}");
        assert!(reply.body["retry_after"].is_null());
        println!("{provider} answering HTTP 500: 503 captcha_unavailable after {elapsed:.0?}, 0 texted");
    }
}

#[tokio::test]
async fn an_unreachable_provider_is_503_captcha_unavailable() {
    // A port where nothing listens.
    let geetest = FakeGeetest::start().await;
    let mut vars = geetest.vars();
    vars.retain(|(name, _)| *name != "GEETEST_API_URL");
    vars.push(("GEETEST_API_URL", "http://127.0.0.1:9".into()));
    let api = api_with(vars).await;
    assert_eq!(send(&api, Some(geetest.solve())).await.outcome(), (503, "captcha_unavailable"));
    assert!(api.sms.attempted().is_empty());
}

/// Ten sends whose captcha fails (forged, missing, provider down), then one
/// that passes, with every SMS limit at 1: the last one still texts.
async fn failed_captchas_spend_no_counter(store: StoreChoice, store_label: &str) {
    let geetest = FakeGeetest::start().await;
    let mut vars = geetest.vars();
    for limit in ["SMS_MAX_PER_MOBILE_PER_DAY", "SMS_MAX_PER_IP_PER_HOUR", "SMS_DAILY_BUDGET"] {
        vars.push((limit, "1".into()));
    }
    vars.push(("CAPTCHA_TIMEOUT_MS", "300".into()));
    let api = Arc::new(api_on(store, vars).await);
    let mut refused = Vec::new();
    for _ in 0..6 {
        refused.push(send(&api, Some(geetest.forged())).await.outcome().0);
    }
    for _ in 0..2 {
        refused.push(send(&api, None).await.outcome().0);
    }
    geetest.set(Mode::Fail500);
    for _ in 0..2 {
        refused.push(send(&api, Some(geetest.solve())).await.outcome().0);
    }
    geetest.set(Mode::Check);
    assert_eq!(refused, [400, 400, 400, 400, 400, 400, 400, 400, 503, 503]);
    assert_eq!(send(&api, Some(geetest.solve())).await.status, 200, "no counter was spent by the ten");
    assert_eq!(api.sms.attempted().len(), 1);
    let again = api.post("/user/sms", json!({ "mobile": "13800000002", "captcha": geetest.solve() })).await;
    assert_eq!(again.outcome(), (429, "sms_ip_limit"), "the limit of 1 is live");
    println!("[{store_label}] every SMS limit at 1: 10 failed captchas (6 x 400 captcha_failed, 2 x 400 captcha_required, 2 x 503) then a passing one: 200, texted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_captchas_spend_no_counter_in_memory() {
    failed_captchas_spend_no_counter(StoreChoice::Memory, "memory").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_captchas_spend_no_counter_on_dynamodb() {
    failed_captchas_spend_no_counter(StoreChoice::Moto, "DynamoDB").await;
}
