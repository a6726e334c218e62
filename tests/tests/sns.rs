//! The SNS backend through moto, which records every SMS it is asked to send.

use std::sync::Arc;

use integration_tests::api::TestApi;
use integration_tests::moto::moto;
use serde_json::json;
use signup::sms::SnsSender;

#[tokio::test]
async fn code_texted_through_sns_reaches_the_number_and_registers_the_user() {
    let api = TestApi::builder().sms(Arc::new(SnsSender::new(moto().sns()))).start().await;
    // A number no other test in this process uses: moto's record is shared.
    let mobile = "15912340001";
    assert_eq!(api.post("/user/sms", json!({ "mobile": mobile })).await.status, 200);
    let sent = moto().sent_sms().await;
    let (_, message) =
        sent.iter().rev().find(|(to, _)| to == "+8615912340001").expect("SNS was asked to text the E.164 number");
    assert!(message.contains("5分钟内有效"), "{message}");
    let code: String = message.chars().filter(char::is_ascii_digit).take(6).collect();
    let reply =
        api.post("/user/register", json!({ "mobile": mobile, "password": "password123", "sms_code": code })).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
}
