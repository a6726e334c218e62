//! The Cloopen backend against a local server that checks requests as Cloopen does.

use std::sync::Arc;
use std::time::Duration;

use integration_tests::api::TestApi;
use integration_tests::cloopen::{Answer, FakeCloopen, AUTH_TOKEN};
use serde_json::json;
use signup::domain::{Mobile, Purpose, SmsCode};
use signup::sms::{CloopenSender, SmsError, SmsSender};

fn mobile() -> Mobile {
    Mobile::parse("13812345678").unwrap()
}

fn code() -> SmsCode {
    SmsCode::parse("024680", 6).unwrap()
}

fn sender(fake: &FakeCloopen, token: &str) -> CloopenSender {
    CloopenSender::new(fake.settings(token), Duration::from_millis(500)).unwrap()
}

#[tokio::test]
async fn signed_request_is_accepted_with_the_code_and_minutes_as_template_data() {
    let fake = FakeCloopen::start().await;
    sender(&fake, AUTH_TOKEN).send_code(&mobile(), &code(), 5, Purpose::Register).await.expect("Cloopen accepts");
    let received = fake.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].to, "13812345678");
    assert_eq!(received[0].datas, ["024680", "5"]);
}

#[tokio::test]
async fn wrong_auth_token_fails_the_signature_check_with_111109() {
    let fake = FakeCloopen::start().await;
    let err = sender(&fake, "not-the-token").send_code(&mobile(), &code(), 5, Purpose::Register).await.unwrap_err();
    assert!(matches!(&err, SmsError::Rejected { code, .. } if code == "111109"), "{err:?}");
    assert!(fake.received().is_empty());
}

#[tokio::test]
async fn cloopen_error_status_is_a_rejection_carrying_its_code() {
    let fake = FakeCloopen::start().await;
    fake.answer(Answer::Error { code: "160038", message: "短信验证码发送过频繁" });
    let err = sender(&fake, AUTH_TOKEN).send_code(&mobile(), &code(), 5, Purpose::Register).await.unwrap_err();
    assert!(matches!(&err, SmsError::Rejected { code, .. } if code == "160038"), "{err:?}");
}

#[tokio::test]
async fn a_hanging_cloopen_times_out() {
    let fake = FakeCloopen::start().await;
    fake.answer(Answer::Hang);
    let started = std::time::Instant::now();
    let err = sender(&fake, AUTH_TOKEN).send_code(&mobile(), &code(), 5, Purpose::Register).await.unwrap_err();
    assert!(matches!(err, SmsError::Timeout(_)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn unreachable_cloopen_is_a_transport_error() {
    let mut settings = FakeCloopen::start().await.settings(AUTH_TOKEN);
    settings.base_url = "http://127.0.0.1:9".into();
    let err = CloopenSender::new(settings, Duration::from_millis(500))
        .unwrap()
        .send_code(&mobile(), &code(), 5, Purpose::Register)
        .await;
    assert!(matches!(err, Err(SmsError::Transport(_))), "{err:?}");
}

#[tokio::test]
async fn through_the_api_a_cloopen_refusal_is_502_and_a_retry_may_follow_at_once() {
    let fake = FakeCloopen::start().await;
    let api = TestApi::builder().sms(Arc::new(sender(&fake, AUTH_TOKEN))).start().await;
    fake.answer(Answer::Error { code: "160038", message: "短信验证码发送过频繁" });
    let body = json!({ "mobile": "13812345678" });
    assert_eq!(api.post("/user/sms", body.clone()).await.outcome(), (502, "sms_send_failed"));
    fake.answer(Answer::Success);
    assert_eq!(api.post("/user/sms", body).await.status, 200);
    // The code Cloopen texted registers the user.
    let texted = fake.received().last().unwrap().datas[0].clone();
    let reply = api
        .post("/user/register", json!({ "mobile": "13812345678", "password": "password123", "sms_code": texted }))
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
}
