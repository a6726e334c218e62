//! `GET /user/mobile/{mobile}`.

use integration_tests::api::TestApi;
use serde_json::json;

#[tokio::test]
async fn unregistered_mobile_is_200_and_not_registered() {
    let api = TestApi::memory().await;
    let reply = api.get("/user/mobile/13812345678/").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, json!({ "mobile": "13812345678", "registered": false, "message": "ok" }));
    assert_eq!(reply.header("content-type"), Some("application/json; charset=utf-8"));
}

#[tokio::test]
async fn decorated_mobile_is_answered_in_its_normal_form() {
    let api = TestApi::memory().await;
    let reply = api.get("/user/mobile/%2B86%20138-1234-5678").await;
    assert_eq!((reply.status, &reply.body["mobile"]), (200, &json!("13812345678")));
}

#[tokio::test]
async fn registered_mobile_is_409_mobile_registered() {
    let api = TestApi::memory().await;
    api.register("13812345678", "password123").await;
    let reply = api.get("/user/mobile/13812345678").await;
    assert_eq!(reply.outcome(), (409, "mobile_registered"));
    assert_eq!(reply.body["message"], "手机号已经被注册过");
    assert_eq!(reply.body["field"], "mobile");
}

#[tokio::test]
async fn malformed_mobiles_are_400_invalid_mobile() {
    let api = TestApi::memory().await;
    // Too short, wrong second digit, letters, full-width digits (percent-encoded UTF-8).
    for raw in [
        "1381234567",
        "12812345678",
        "138abcd5678",
        "%EF%BC%91%EF%BC%93%EF%BC%98%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96%EF%BC%97%EF%BC%98",
    ] {
        let reply = api.get(&format!("/user/mobile/{raw}")).await;
        assert_eq!(reply.outcome(), (400, "invalid_mobile"), "{raw}");
        assert_eq!(reply.body["field"], "mobile");
        assert_eq!(reply.body["message"], "手机号码格式有误");
    }
}
