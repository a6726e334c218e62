//! A panic inside a handler costs that one request a 500 `internal_error`;
//! the next request is served, by the local API and by the Lambda handler
//! alike. The panic comes from an SMS backend that panics on its first
//! send, handed to the service by the test: no route or feature of the
//! service itself can panic on purpose.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use integration_tests::api::{TestApi, TEST_JWT_SECRET, TEST_SMS_CODE_SECRET};
use integration_tests::sms::RecordingSms;
use integration_tests::workspace_root;
use serde_json::json;
use signup::config::{Mode, Settings};
use signup::domain::{Mobile, Purpose, SmsCode};
use signup::lambda::{function, Function};
use signup::sms::{SmsError, SmsSender};
use signup::store::MemoryStore;
use signup::Services;

/// Panics on its first send, delivers (to nobody) after.
#[derive(Default)]
struct PanicsOnce(AtomicBool);

#[async_trait::async_trait]
impl SmsSender for PanicsOnce {
    async fn send_code(&self, _: &Mobile, _: &SmsCode, _: i64, _: Purpose) -> Result<(), SmsError> {
        if !self.0.swap(true, Ordering::SeqCst) {
            panic!("a bug in an SMS backend");
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_panicking_handler_answers_500_and_the_local_api_serves_the_next_request() {
    let api = TestApi::builder().sms(Arc::new(PanicsOnce::default())).start().await;
    let reply = api.post("/user/sms", json!({ "mobile": "13812340001" })).await;
    assert_eq!(reply.outcome(), (500, "internal_error"), "{}", reply.body);
    assert!(!reply.body.to_string().contains("a bug in"), "the panic stays out of the answer: {}", reply.body);
    // The same server, the next requests.
    assert_eq!(api.get("/user/mobile/13812340002").await.status, 200);
    api.register("13812340002", "password123").await;
}

/// The Lambda function's response to one event file.
async fn invoke(function: &Function<function::SendSms>, file: &str) -> (u16, serde_json::Value) {
    let event = std::fs::read_to_string(workspace_root().join("events").join(file)).unwrap();
    let request = lambda_http::request::from_str(&event).expect("an API Gateway event");
    let response = function.handle(request).await.expect("the handler always answers");
    let body = match response.body() {
        lambda_http::Body::Text(text) => serde_json::from_str(text).unwrap(),
        other => panic!("body {other:?}"),
    };
    (response.status().as_u16(), body)
}

#[tokio::test]
async fn a_panicking_handler_answers_500_and_the_lambda_function_serves_the_next_event() {
    let vars = [("JWT_SECRET", TEST_JWT_SECRET), ("SMS_CODE_SECRET", TEST_SMS_CODE_SECRET), ("SMS_BACKEND", "sns")];
    let settings =
        Settings::from_lookup(Mode::Lambda, |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string()))
            .expect("Lambda settings");
    let sms = Arc::new(RecordingSms::forwarding_to(Arc::new(PanicsOnce::default())));
    let services = Services::builder(settings)
        .store(Arc::new(MemoryStore::default()))
        .sms(sms.clone())
        .build()
        .await
        .expect("services from test parts");
    let function = Function::<function::SendSms>::new(services);

    let (status, body) = invoke(&function, "send-sms/post-success.json").await;
    assert_eq!((status, body["code"].as_str()), (500, Some("internal_error")), "{body}");
    let (status, body) = invoke(&function, "send-sms/base64-body.json").await;
    assert_eq!(status, 200, "the next event is served: {body}");
    assert_eq!(sms.sent().len(), 1);
}

#[test]
fn release_builds_unwind_so_that_a_panic_costs_one_request() {
    let manifest = std::fs::read_to_string(workspace_root().join("Cargo.toml")).unwrap();
    let release = manifest.split("[profile.release]").nth(1).expect("a [profile.release] section");
    let release = release.split("\n[").next().unwrap();
    let panic = release.lines().find(|l| l.trim_start().starts_with("panic")).map(str::trim);
    assert_eq!(panic, Some(r#"panic = "unwind""#), "[profile.release] of the workspace");
}
