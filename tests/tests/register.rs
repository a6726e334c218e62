//! `POST /user/register`.

use std::sync::Arc;

use integration_tests::api::{TestApi, TEST_JWT_SECRET};
use serde_json::{json, Value};
use signup::auth::Claims;

const MOBILE: &str = "13812345678";
const PASSWORD: &str = "password123";

fn form(code: &str) -> Value {
    json!({ "mobile": MOBILE, "password": PASSWORD, "sms_code": code })
}

/// A code of the right shape that differs from `code`.
fn wrong(code: &str) -> String {
    code.chars().map(|c| if c == '9' { '0' } else { char::from(c as u8 + 1) }).collect()
}

#[tokio::test]
async fn valid_code_registers_and_logs_the_user_in_with_a_jwt() {
    let api = TestApi::memory().await;
    let code = api.send_code(MOBILE).await;
    let reply = api
        .post(
            "/user/register/",
            json!({ "mobile": "+86 138-1234-5678", "password": PASSWORD, "password2": PASSWORD, "sms_code": code }),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.body["username"], MOBILE);
    assert_eq!(reply.body["expires_in"], 86_400);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let token = reply.body["token"].as_str().unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_required_spec_claims(&["exp", "sub"]);
    let claims = jsonwebtoken::decode::<Claims>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(TEST_JWT_SECRET.as_bytes()),
        &validation,
    )
    .expect("token signed with the configured secret")
    .claims;
    assert_eq!(claims.sub, reply.body["id"].as_str().unwrap());
    assert_eq!(claims.username, MOBILE);
    assert_eq!(claims.exp - claims.iat, 86_400);
    let login = api.post("/user/login", json!({ "username": MOBILE, "password": PASSWORD })).await;
    assert_eq!((login.status, &login.body["id"]), (200, &reply.body["id"]));
}

#[tokio::test]
async fn each_malformed_input_gets_its_code_and_field() {
    let api = TestApi::memory().await;
    let code = api.send_code(MOBILE).await;
    let cases: Vec<(Value, &str, Option<&str>)> = vec![
        (json!({}), "invalid_request", Some("mobile")),
        (
            json!({ "mobile": 13812345678u64, "password": PASSWORD, "sms_code": code }),
            "invalid_request",
            Some("mobile"),
        ),
        (json!({ "mobile": MOBILE, "sms_code": code }), "invalid_request", Some("password")),
        (json!({ "mobile": MOBILE, "password": PASSWORD }), "invalid_request", Some("sms_code")),
        (json!({ "mobile": "1381234567", "password": PASSWORD, "sms_code": code }), "invalid_mobile", Some("mobile")),
        (json!({ "mobile": MOBILE, "password": "short", "sms_code": code }), "invalid_password", Some("password")),
        (
            json!({ "mobile": MOBILE, "password": "x".repeat(65), "sms_code": code }),
            "invalid_password",
            Some("password"),
        ),
        (
            json!({ "mobile": MOBILE, "password": PASSWORD, "password2": "password124", "sms_code": code }),
            "password_mismatch",
            Some("password2"),
        ),
        (json!({ "mobile": MOBILE, "password": PASSWORD, "sms_code": "12ab56" }), "invalid_sms_code", Some("sms_code")),
        (json!([MOBILE]), "invalid_request", None),
    ];
    for (body, expected_code, field) in cases {
        let reply = api.post("/user/register", body.clone()).await;
        assert_eq!(reply.outcome(), (400, expected_code), "{body}");
        assert_eq!(reply.body["field"].as_str(), field, "{body}");
        assert!(!reply.body["message"].as_str().unwrap_or("").is_empty());
    }
    let malformed = api.post_raw("/user/register", r#"{"mobile": "138"#).await;
    assert_eq!(malformed.outcome(), (400, "invalid_request"));
    // None of that used up the code.
    assert_eq!(api.post("/user/register", form(&code)).await.status, 201);
}

#[tokio::test]
async fn wrong_code_is_400_and_the_right_one_still_works() {
    let api = TestApi::memory().await;
    let code = api.send_code(MOBILE).await;
    assert_eq!(api.post("/user/register", form(&wrong(&code))).await.outcome(), (400, "invalid_sms_code"));
    assert_eq!(api.post("/user/register", form(&code)).await.status, 201);
}

#[tokio::test]
async fn never_sent_code_is_400() {
    let api = TestApi::memory().await;
    assert_eq!(api.post("/user/register", form("123456")).await.outcome(), (400, "invalid_sms_code"));
}

#[tokio::test]
async fn used_code_cannot_register_again() {
    let api = TestApi::memory().await;
    let code = api.send_code(MOBILE).await;
    assert_eq!(api.post("/user/register", form(&code)).await.status, 201);
    assert_eq!(api.post("/user/register", form(&code)).await.outcome(), (409, "mobile_registered"));
}

#[tokio::test]
async fn fifth_wrong_code_burns_it_and_then_even_the_right_code_is_429() {
    let api = TestApi::memory().await;
    let code = api.send_code(MOBILE).await;
    for attempt in 1..=4 {
        assert_eq!(
            api.post("/user/register", form(&wrong(&code))).await.outcome(),
            (400, "invalid_sms_code"),
            "try {attempt}"
        );
    }
    assert_eq!(api.post("/user/register", form(&wrong(&code))).await.outcome(), (429, "sms_code_attempts_exceeded"));
    assert_eq!(api.post("/user/register", form(&code)).await.outcome(), (429, "sms_code_attempts_exceeded"));
    // A new code (after the interval) starts afresh.
    api.clock.advance(60);
    let fresh = api.send_code(MOBILE).await;
    assert_eq!(api.post("/user/register", form(&fresh)).await.status, 201);
}

async fn expired_code_is_rejected(api: TestApi) {
    let code = api.send_code(MOBILE).await;
    api.clock.advance(300);
    assert_eq!(api.post("/user/register", form(&code)).await.outcome(), (400, "invalid_sms_code"));
}

#[tokio::test]
async fn expired_code_is_400_in_memory() {
    expired_code_is_rejected(TestApi::memory().await).await;
}

#[tokio::test]
async fn expired_code_is_400_on_dynamodb_though_the_item_is_still_stored() {
    expired_code_is_rejected(TestApi::moto().await).await;
}

async fn fifty_concurrent_registrations_give_one_user(api: TestApi) {
    let api = Arc::new(api);
    let code = api.send_code(MOBILE).await;
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let (api, body) =
                (api.clone(), json!({ "mobile": MOBILE, "password": format!("password-{i}"), "sms_code": code }));
            tokio::spawn(async move {
                let reply = api.post("/user/register", body).await;
                (reply.status, reply.code().to_owned())
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    let created = outcomes.iter().filter(|(s, _)| *s == 201).count();
    let clean = outcomes
        .iter()
        .filter(|(s, c)| matches!((*s, c.as_str()), (400, "invalid_sms_code") | (409, "mobile_registered")))
        .count();
    assert_eq!((created, clean), (1, 49), "{outcomes:?}");
    // Exactly one password works: the winner's.
    let mut logins = 0;
    for i in 0..50 {
        let reply = api.post("/user/login", json!({ "username": MOBILE, "password": format!("password-{i}") })).await;
        logins += usize::from(reply.status == 200);
    }
    assert_eq!(logins, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_registrations_give_one_201_and_49_clean_4xx_in_memory() {
    fifty_concurrent_registrations_give_one_user(TestApi::memory().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_registrations_give_one_201_and_49_clean_4xx_on_dynamodb() {
    fifty_concurrent_registrations_give_one_user(TestApi::moto().await).await;
}
