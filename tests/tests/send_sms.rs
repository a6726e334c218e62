//! `POST /user/sms` and its alias `GET /user/sms/{mobile}`.

use std::sync::Arc;

use integration_tests::api::{StoreChoice, TestApi};
use integration_tests::sms::Behaviour;
use serde_json::json;

const MOBILE: &str = "13812345678";

fn body() -> serde_json::Value {
    json!({ "mobile": MOBILE })
}

#[tokio::test]
async fn send_is_200_with_validity_and_interval_and_texts_one_code() {
    let api = TestApi::memory().await;
    let reply = api.post("/user/sms", body()).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["expires_in"], 300);
    assert_eq!(reply.body["resend_after"], 60);
    assert!(reply.body["message"].is_string());
    let sent = api.sms.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, MOBILE);
    assert!(sent[0].1.len() == 6 && sent[0].1.bytes().all(|b| b.is_ascii_digit()));
}

#[tokio::test]
async fn get_alias_with_trailing_slash_sends_a_code_when_sending_by_get_is_on() {
    let api = TestApi::builder().var("SMS_SEND_BY_GET", "true").start().await;
    let reply = api.get(&format!("/user/sms/{MOBILE}/")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(api.sms.sent().len(), 1);
}

#[tokio::test]
async fn configured_code_length_and_validity_are_used() {
    let api = TestApi::builder().var("SMS_CODE_LENGTH", "4").var("SMS_CODE_TTL_SECONDS", "120").start().await;
    let reply = api.post("/user/sms", body()).await;
    assert_eq!(reply.body["expires_in"], 120);
    assert_eq!(api.sms.last_code(MOBILE).unwrap().len(), 4);
}

#[tokio::test]
async fn second_send_within_interval_is_429_with_retry_after() {
    let api = TestApi::memory().await;
    api.post("/user/sms", body()).await;
    api.clock.advance(20);
    let reply = api.post("/user/sms", body()).await;
    assert_eq!(reply.outcome(), (429, "sms_too_frequent"));
    assert_eq!(reply.header("retry-after"), Some("40"));
    assert_eq!(reply.body["retry_after"], 40);
    assert_eq!(api.sms.attempted().len(), 1, "no second SMS is spent");
}

#[tokio::test]
async fn send_after_the_interval_replaces_the_previous_code() {
    let api = TestApi::memory().await;
    let first = api.send_code(MOBILE).await;
    // Two random codes are equal one time in a million: send again until they differ.
    let mut second = first.clone();
    for _ in 0..5 {
        api.clock.advance(60);
        second = api.send_code(MOBILE).await;
        if second != first {
            break;
        }
    }
    assert_ne!(first, second, "five new codes in a row equal to the first");
    let register = |code: String| json!({ "mobile": MOBILE, "password": "password123", "sms_code": code });
    assert_eq!(api.post("/user/register", register(first)).await.outcome(), (400, "invalid_sms_code"));
    assert_eq!(api.post("/user/register", register(second)).await.status, 201);
}

#[tokio::test]
async fn send_to_a_registered_mobile_is_409_and_texts_nothing() {
    let api = TestApi::memory().await;
    api.register(MOBILE, "password123").await;
    api.clock.advance(3600);
    let before = api.sms.attempted().len();
    let reply = api.post("/user/sms", body()).await;
    assert_eq!(reply.outcome(), (409, "mobile_registered"));
    assert_eq!(api.sms.attempted().len(), before);
}

#[tokio::test]
async fn get_alias_is_405_allow_post_by_default_and_texts_nothing() {
    let api = TestApi::memory().await;
    let reply = api.get(&format!("/user/sms/{MOBILE}")).await;
    assert_eq!(reply.outcome(), (405, "method_not_allowed"));
    assert_eq!(reply.header("allow"), Some("POST"));
    assert!(api.sms.attempted().is_empty());
}

#[tokio::test]
async fn invalid_or_missing_mobile_is_400_and_texts_nothing() {
    let api = TestApi::builder().var("SMS_SEND_BY_GET", "true").start().await;
    assert_eq!(api.post("/user/sms", json!({ "mobile": "12345" })).await.outcome(), (400, "invalid_mobile"));
    assert_eq!(api.get("/user/sms/12345").await.outcome(), (400, "invalid_mobile"));
    let missing = api.post("/user/sms", json!({})).await;
    assert_eq!((missing.outcome(), &missing.body["field"]), ((400, "invalid_request"), &json!("mobile")));
    assert!(api.sms.attempted().is_empty());
}

#[tokio::test]
async fn provider_refusal_is_502_the_user_may_retry_at_once_and_the_unsent_code_is_useless() {
    let api = TestApi::memory().await;
    api.sms.set(Behaviour::Refuse);
    assert_eq!(api.post("/user/sms", body()).await.outcome(), (502, "sms_send_failed"));
    let unsent = api.sms.attempted()[0].1.clone();
    let reply =
        api.post("/user/register", json!({ "mobile": MOBILE, "password": "password123", "sms_code": unsent })).await;
    assert_eq!(reply.outcome(), (400, "invalid_sms_code"));
    api.sms.set(Behaviour::Deliver);
    assert_eq!(api.post("/user/sms", body()).await.status, 200, "the interval was released");
}

#[tokio::test]
async fn provider_timeout_is_502_and_releases_the_interval() {
    let api = TestApi::builder().var("SMS_TIMEOUT_MS", "200").start().await;
    api.sms.set(Behaviour::Hang);
    let started = std::time::Instant::now();
    assert_eq!(api.post("/user/sms", body()).await.outcome(), (502, "sms_send_failed"));
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    api.sms.set(Behaviour::Deliver);
    assert_eq!(api.post("/user/sms", body()).await.status, 200);
}

#[tokio::test]
async fn storage_failure_is_503_and_no_sms_is_sent() {
    // A real DynamoDB client aimed at a port where nothing listens.
    let unreachable = aws_sdk_dynamodb::Client::new(&integration_tests::moto::sdk_config("http://127.0.0.1:9"));
    let store = Arc::new(signup::store::DynamoStore::new(unreachable, "signup"));
    let api = TestApi::builder().store(StoreChoice::Custom(store)).start().await;
    let reply = api.post("/user/sms", body()).await;
    assert_eq!(reply.outcome(), (503, "service_unavailable"));
    assert!(!reply.body["message"].as_str().unwrap().contains("127.0.0.1"), "no internal detail leaks");
    assert!(api.sms.attempted().is_empty());
    assert_eq!(api.get("/user/mobile/13812345678").await.outcome(), (503, "service_unavailable"));
}

async fn fifty_concurrent_sends_text_one_code(api: TestApi) {
    let api = Arc::new(api);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let api = api.clone();
            tokio::spawn(async move { api.post("/user/sms", body()).await.outcome().0 })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 49, "{statuses:?}");
    assert_eq!(api.sms.attempted().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_sends_to_one_mobile_text_one_code_in_memory() {
    fifty_concurrent_sends_text_one_code(TestApi::memory().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_sends_to_one_mobile_text_one_code_on_dynamodb() {
    fifty_concurrent_sends_text_one_code(TestApi::moto().await).await;
}
