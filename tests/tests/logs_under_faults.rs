//! The logs at `debug`, every crate included, through the whole flow, every
//! refusal and every injected fault: no password, code, token, secret,
//! Cloopen signature or whole phone number, while each failure is still
//! logged with what an operator needs (the SDK's error code and request
//! id). This file is its own test binary so that it owns the global log
//! subscriber.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use integration_tests::api::{StoreChoice, TestApi, TEST_JWT_SECRET, TEST_SMS_CODE_SECRET};
use integration_tests::cloopen::{Answer, FakeCloopen, ACCOUNT_SID, AUTH_TOKEN};
use integration_tests::faults::{Fault, FaultyPort};
use integration_tests::log_capture::Captured;
use integration_tests::moto::{moto, sdk_config, Moto};
use serde_json::json;
use signup::domain::{Mobile, Purpose, SmsCode};
use signup::sms::{CloopenSender, SmsError, SmsSender, SnsSender};

/// Cloopen, except that its first send after `panic_next` is set panics.
struct MaybePanics {
    inner: CloopenSender,
    panic_next: AtomicBool,
}

#[async_trait::async_trait]
impl SmsSender for MaybePanics {
    async fn send_code(
        &self,
        mobile: &Mobile,
        code: &SmsCode,
        ttl_minutes: i64,
        purpose: Purpose,
    ) -> Result<(), SmsError> {
        if self.panic_next.swap(false, Ordering::SeqCst) {
            panic!("an SMS backend bug, with the code {}", code.expose());
        }
        self.inner.send_code(mobile, code, ttl_minutes, purpose).await
    }
}

const PASSWORD: &str = "correct-horse-battery";
const WRONG_PASSWORD: &str = "wrong-password-guess";
const WRONG_CODE: &str = "909090";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_debug_the_flow_every_refusal_and_every_fault_log_no_secret() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .json()
        .without_time()
        .with_max_level(tracing_subscriber::filter::LevelFilter::DEBUG)
        .with_writer(move || writer.clone())
        .init();

    let fake = FakeCloopen::start().await;
    let (table, _) = moto().fresh_table().await;
    let port = FaultyPort::forwarding_to(&moto().endpoint).await;
    let cloopen = CloopenSender::new(fake.settings(AUTH_TOKEN), Duration::from_millis(1_000)).unwrap();
    let sms = Arc::new(MaybePanics { inner: cloopen, panic_next: AtomicBool::new(false) });
    let api = TestApi::builder()
        .var("SMS_CODE_SECRET", TEST_SMS_CODE_SECRET)
        .var("SMS_TIMEOUT_MS", "1000")
        .store(StoreChoice::Dynamo { endpoint: port.endpoint.clone(), table })
        .sms(sms.clone())
        .start()
        .await;
    let (user, other, third) = ("13812345678", "13912345670", "15012345671");
    let mut tokens = Vec::new();

    // The whole flow, and every refusal on the way.
    assert_eq!(api.get(&format!("/user/mobile/{user}")).await.status, 200);
    let code = api.send_code(user).await;
    assert_eq!(api.post("/user/sms", json!({ "mobile": user })).await.status, 429);
    let refusals = [
        json!({ "mobile": user, "password": "short", "sms_code": code }),
        json!({ "mobile": user, "password": PASSWORD, "sms_code": WRONG_CODE }),
        json!({ "mobile": user, "password": PASSWORD, "password2": WRONG_PASSWORD, "sms_code": code }),
        json!({ "mobile": "1381234567", "password": PASSWORD, "sms_code": code }),
    ];
    for body in refusals {
        assert_eq!(api.post("/user/register", body).await.status, 400);
    }
    tokens.push(api.register_with_code(user, PASSWORD, &code).await["token"].as_str().unwrap().to_owned());
    let login = api.post("/user/login", json!({ "username": user, "password": PASSWORD })).await;
    tokens.push(login.body["token"].as_str().unwrap().to_owned());
    assert_eq!(api.post("/user/login", json!({ "username": user, "password": WRONG_PASSWORD })).await.status, 401);
    assert_eq!(api.post("/user/login", json!({ "username": other, "password": WRONG_PASSWORD })).await.status, 401);
    assert_eq!(api.get(&format!("/user/mobile/{user}")).await.status, 409);
    assert_eq!(api.post("/user/sms", json!({ "mobile": user })).await.status, 409);
    assert_eq!(api.post_raw("/user/register", format!("{{\"password\":\"{PASSWORD}\"")).await.status, 400);
    assert_eq!(api.get("/user/nothing-here").await.status, 404);

    // Every fault.
    fake.answer(Answer::Error { code: "160038", message: "短信验证码发送过频繁" });
    assert_eq!(api.post("/user/sms", json!({ "mobile": other })).await.status, 502);
    fake.answer(Answer::Hang);
    assert_eq!(api.post("/user/sms", json!({ "mobile": other })).await.status, 502);
    fake.answer(Answer::Success);
    sms.panic_next.store(true, Ordering::SeqCst);
    assert_eq!(api.post("/user/sms", json!({ "mobile": other })).await.status, 500);
    for fault in [Fault::Refuse, Fault::Hang] {
        port.set(fault).await;
        assert_eq!(api.get(&format!("/user/mobile/{third}")).await.status, 503);
        assert_eq!(api.post("/user/sms", json!({ "mobile": third })).await.status, 503);
        let register = json!({ "mobile": third, "password": PASSWORD, "sms_code": WRONG_CODE });
        assert_eq!(api.post("/user/register", register).await.status, 503);
        assert_eq!(api.post("/user/login", json!({ "username": user, "password": PASSWORD })).await.status, 503);
    }
    port.set(Fault::None).await;

    // SNS refusing connections, and refusing the publish.
    let strict = Moto::start(&[("INITIAL_NO_AUTH_ACTION_COUNT", "0")]);
    let refusing = FaultyPort::forwarding_to(&moto().endpoint).await;
    refusing.set(Fault::Refuse).await;
    for endpoint in [&refusing.endpoint, &strict.endpoint] {
        let sns = SnsSender::new(signup::aws::sns_client(&sdk_config(endpoint), Duration::from_millis(1_000)));
        let api = TestApi::builder().store(StoreChoice::Moto).sms(Arc::new(sns)).start().await;
        assert_eq!(api.post("/user/sms", json!({ "mobile": third })).await.status, 502);
    }

    let text = captured.text();
    let lines = text.lines().count();
    // Each failure is logged with what finds it: the kind, the SDK's error code, its request id.
    for expected in
        ["connection failed", "no answer within the time allowed", "provider refused the message", "request id "]
    {
        assert!(text.contains(expected), "no log line says {expected:?}:\n{text}");
    }
    assert!(text.contains("the handler panicked at"), "the panic is logged:\n{text}");

    let mut secrets: Vec<String> = vec![
        PASSWORD.into(),
        WRONG_PASSWORD.into(),
        WRONG_CODE.into(),
        TEST_JWT_SECRET.into(),
        TEST_SMS_CODE_SECRET.into(),
        AUTH_TOKEN.into(),
        "sig=".into(),
        format!("{ACCOUNT_SID}:"),
    ];
    secrets.extend(tokens);
    secrets.extend(api.sms.attempted().into_iter().map(|(_, code)| code));
    for mobile in [user, other, third] {
        secrets.push(mobile.into());
        secrets.push(format!("+86{mobile}"));
    }
    for secret in &secrets {
        assert!(!text.contains(secret.as_str()), "the log contains {secret:?}:\n{text}");
    }
    println!(
        "logs at debug, every crate: {lines} lines over the whole flow, 11 refusals and 13 requests under 7 faults; \
         none holds any of {} secrets (passwords, codes, tokens, keys, the Cloopen signature, whole numbers)",
        secrets.len()
    );
}
