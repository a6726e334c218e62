//! What every route shares: error shape, unknown routes, methods, body size, CORS.

use integration_tests::api::TestApi;
use serde_json::json;

#[tokio::test]
async fn unknown_route_is_404_not_found_in_the_error_shape() {
    let api = TestApi::memory().await;
    for path in ["/user/unknown", "/user/mobile/", "/api/user/login"] {
        let reply = api.get(path).await;
        assert_eq!(reply.outcome(), (404, "not_found"), "{path}");
        assert!(reply.body["message"].is_string());
        assert_eq!(reply.header("content-type"), Some("application/json; charset=utf-8"));
    }
}

#[tokio::test]
async fn wrong_method_is_405_with_allow() {
    let api = TestApi::memory().await;
    let reply = api.get("/user/register/").await;
    assert_eq!(reply.outcome(), (405, "method_not_allowed"));
    assert_eq!(reply.header("allow"), Some("POST"));
    let reply = api.post("/user/mobile/13812345678", json!({})).await;
    assert_eq!((reply.status, reply.header("allow")), (405, Some("GET")));
}

#[tokio::test]
async fn body_over_16_kib_is_413_and_changes_nothing() {
    let api = TestApi::memory().await;
    let big = format!(r#"{{"mobile":"13812345678","padding":"{}"}}"#, "x".repeat(16 * 1024));
    for path in ["/user/sms", "/user/register", "/user/login"] {
        assert_eq!(api.post_raw(path, big.clone()).await.outcome(), (413, "payload_too_large"), "{path}");
    }
    assert!(api.sms.attempted().is_empty());
}

#[tokio::test]
async fn cors_preflight_is_answered_for_listed_origins_only() {
    let api = TestApi::builder().cors("http://localhost:5173").start().await;
    let preflight = |origin: &'static str| {
        api.http
            .request(reqwest::Method::OPTIONS, api.url("/user/sms"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let allowed = preflight("http://localhost:5173").await.unwrap();
    assert_eq!(allowed.status(), 204);
    assert_eq!(allowed.headers()["access-control-allow-origin"], "http://localhost:5173");
    assert!(allowed.headers()["access-control-allow-methods"].to_str().unwrap().contains("POST"));
    let refused = preflight("http://evil.example").await.unwrap();
    assert!(!refused.headers().contains_key("access-control-allow-origin"));

    let actual = api
        .http
        .get(api.url("/user/mobile/13812345678"))
        .header("origin", "http://localhost:5173")
        .send()
        .await
        .unwrap();
    assert_eq!(actual.headers()["access-control-allow-origin"], "http://localhost:5173");
    // Header names in the list are case-insensitive (Fetch standard).
    let exposed = actual.headers()["access-control-expose-headers"].to_str().unwrap().to_ascii_lowercase();
    assert!(exposed.contains("retry-after"), "{exposed}");
}
