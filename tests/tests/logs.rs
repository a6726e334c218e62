//! The logs: one line per request with the masked mobile, and never a
//! password, code, token, secret or whole number. (This file is its own test
//! binary so that it can own the global log subscriber.)

use integration_tests::api::{TestApi, TEST_JWT_SECRET};
use integration_tests::log_capture::Captured;
use serde_json::json;

#[tokio::test]
async fn a_whole_sign_up_logs_one_line_per_request_and_no_secret() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt().json().without_time().with_writer(move || writer.clone()).init();

    let api = TestApi::memory().await;
    let (mobile, password) = ("13812345678", "my-secret-password");
    api.get(&format!("/user/mobile/{mobile}")).await;
    let code = api.send_code(mobile).await;
    let wrong = api.post("/user/register", json!({ "mobile": mobile, "password": "short", "sms_code": code })).await;
    assert_eq!(wrong.status, 400);
    let registered = api.register_with_code(mobile, password, &code).await;
    let login = api.post("/user/login", json!({ "username": mobile, "password": password })).await;
    let bad_login = api.post("/user/login", json!({ "username": mobile, "password": "wrong-password" })).await;
    assert_eq!((login.status, bad_login.status), (200, 401));

    let text = captured.text();
    let access: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|l| l["target"] == "access")
        .collect();
    assert_eq!(access.len(), 6, "one access line per request:\n{text}");
    for line in &access {
        // Status and latency are the line's own; route and the masked number
        // come from the request's span, which every line inside it carries.
        let (fields, span) = (&line["fields"], &line["span"]);
        assert_eq!(span["mobile"], "138****5678", "{line}");
        assert!(fields["status"].is_u64() && fields["latency_ms"].is_number() && span["route"].is_string(), "{line}");
    }
    let token = registered["token"].as_str().unwrap();
    for secret in [
        password,
        "wrong-password",
        code.as_str(),
        token,
        login.body["token"].as_str().unwrap(),
        TEST_JWT_SECRET,
        mobile,
    ] {
        assert!(!text.contains(secret), "the log contains {secret:?}:\n{text}");
    }
}
