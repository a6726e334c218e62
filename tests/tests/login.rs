//! `POST /user/login`.

use integration_tests::api::TestApi;
use serde_json::json;

const MOBILE: &str = "13812345678";
const PASSWORD: &str = "password123";

async fn api_with_user() -> TestApi {
    let api = TestApi::memory().await;
    api.register(MOBILE, PASSWORD).await;
    api
}

#[tokio::test]
async fn username_and_password_log_in_with_a_token() {
    let api = api_with_user().await;
    let reply = api.post("/user/login/", json!({ "username": MOBILE, "password": PASSWORD })).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["username"], MOBILE);
    assert!(reply.body["token"].as_str().unwrap().split('.').count() == 3);
    assert_eq!(reply.body["expires_in"], 86_400);
}

#[tokio::test]
async fn mobile_field_and_decorated_numbers_also_log_in() {
    let api = api_with_user().await;
    for body in [
        json!({ "mobile": MOBILE, "password": PASSWORD }),
        json!({ "username": "+86 138 1234 5678", "password": PASSWORD }),
    ] {
        assert_eq!(api.post("/user/login", body.clone()).await.status, 200, "{body}");
    }
}

#[tokio::test]
async fn wrong_password_unknown_user_and_non_mobile_username_get_the_same_401() {
    let api = api_with_user().await;
    let replies = [
        api.post("/user/login", json!({ "username": MOBILE, "password": "password124" })).await,
        api.post("/user/login", json!({ "username": "13900000000", "password": PASSWORD })).await,
        api.post("/user/login", json!({ "username": "admin", "password": PASSWORD })).await,
    ];
    for reply in &replies {
        assert_eq!(reply.outcome(), (401, "invalid_credentials"));
        assert_eq!(reply.body, replies[0].body, "identical bodies reveal nothing");
    }
}

#[tokio::test]
async fn missing_fields_and_malformed_json_are_400_invalid_request() {
    let api = api_with_user().await;
    let no_password = api.post("/user/login", json!({ "username": MOBILE })).await;
    assert_eq!(
        (no_password.outcome(), no_password.body["field"].as_str()),
        ((400, "invalid_request"), Some("password"))
    );
    let no_user = api.post("/user/login", json!({ "password": PASSWORD })).await;
    assert_eq!((no_user.outcome(), no_user.body["field"].as_str()), ((400, "invalid_request"), Some("username")));
    assert_eq!(api.post_raw("/user/login", "not json").await.outcome(), (400, "invalid_request"));
}
