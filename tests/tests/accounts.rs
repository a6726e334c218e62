//! Beyond sign-up: a code per purpose, `POST /user/login/sms`,
//! `POST /user/password/reset` and `GET /user/me`, on both stores.

use integration_tests::api::{StoreChoice, TestApi, TEST_JWT_SECRET};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::json;
use signup::auth::Claims;

const MOBILE: &str = "13812345678";
const PASSWORD: &str = "password123";
const NEW_PASSWORD: &str = "a-new-password";

async fn api(store: StoreChoice) -> TestApi {
    TestApi::builder().store(store).start().await
}

/// A registered user; the clock is then past the resend interval.
async fn registered(api: &TestApi) -> serde_json::Value {
    let session = api.register(MOBILE, PASSWORD).await;
    api.clock.advance(60);
    session
}

fn token(body: &serde_json::Value) -> &str {
    body["token"].as_str().expect("a token")
}

macro_rules! on_both_stores {
    ($($case:ident),* $(,)?) => {
        mod memory {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() { super::$case(super::api(integration_tests::api::StoreChoice::Memory).await).await; })*
        }
        mod dynamodb {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() { super::$case(super::api(integration_tests::api::StoreChoice::Moto).await).await; })*
        }
    };
}

async fn a_login_code_logs_a_registered_user_in_once(api: TestApi) {
    let registration = registered(&api).await;
    let code = api.send_code_for(MOBILE, "login").await;
    let login = api.post("/user/login/sms", json!({ "mobile": MOBILE, "sms_code": code })).await;
    assert_eq!(login.status, 200, "{}", login.body);
    assert_eq!(login.body["id"], registration["id"]);
    assert_eq!(login.body["username"], MOBILE);
    assert!(login.body["expires_in"].is_i64());
    assert_eq!(api.me(token(&login.body)).await.status, 200);
    let again = api.post("/user/login/sms", json!({ "mobile": MOBILE, "sms_code": code })).await;
    assert_eq!(again.outcome(), (400, "invalid_sms_code"), "a code is used once");
}

async fn a_code_works_only_for_the_purpose_it_was_sent_for(api: TestApi) {
    registered(&api).await;
    let login_code = api.send_code_for(MOBILE, "login").await;
    let reset = json!({ "mobile": MOBILE, "sms_code": login_code, "password": NEW_PASSWORD });
    assert_eq!(api.post("/user/password/reset", reset).await.outcome(), (400, "invalid_sms_code"));
    api.clock.advance(60);
    let reset_code = api.send_code_for(MOBILE, "reset_password").await;
    let login = json!({ "mobile": MOBILE, "sms_code": reset_code });
    assert_eq!(api.post("/user/login/sms", login).await.outcome(), (400, "invalid_sms_code"));
    let reset = json!({ "mobile": MOBILE, "sms_code": reset_code, "password": NEW_PASSWORD });
    assert_eq!(api.post("/user/password/reset", reset).await.status, 200, "the reset code still works for its purpose");

    // A sign-up code never meets these routes: it is only ever sent to a
    // free number, and the store refuses a login or reset code to one.
}

async fn login_and_reset_codes_go_only_to_registered_numbers_and_sign_up_codes_only_to_free_ones(api: TestApi) {
    for purpose in ["login", "reset_password"] {
        let reply = api.post("/user/sms", json!({ "mobile": MOBILE, "purpose": purpose })).await;
        assert_eq!(reply.outcome(), (404, "mobile_not_registered"), "{purpose}");
        assert_eq!(reply.body["field"], "mobile");
    }
    assert!(api.sms.attempted().is_empty(), "no SMS to an unknown number");
    let reply = api.post("/user/login/sms", json!({ "mobile": MOBILE, "sms_code": "123456" })).await;
    assert_eq!(reply.outcome(), (404, "mobile_not_registered"));
    let reset = json!({ "mobile": MOBILE, "sms_code": "123456", "password": NEW_PASSWORD });
    assert_eq!(api.post("/user/password/reset", reset).await.outcome(), (404, "mobile_not_registered"));
    let bad = api.post("/user/sms", json!({ "mobile": MOBILE, "purpose": "signup" })).await;
    assert_eq!((bad.outcome(), &bad.body["field"]), ((400, "invalid_request"), &json!("purpose")));
}

async fn the_interval_counts_every_purpose_together(api: TestApi) {
    registered(&api).await;
    api.send_code_for(MOBILE, "login").await;
    let reply = api.post("/user/sms", json!({ "mobile": MOBILE, "purpose": "reset_password" })).await;
    assert_eq!(reply.outcome(), (429, "sms_too_frequent"));
}

async fn a_reset_changes_the_password_and_voids_every_older_token(api: TestApi) {
    let registration = registered(&api).await;
    let login = api.post("/user/login", json!({ "username": MOBILE, "password": PASSWORD })).await;
    let old_tokens = [token(&registration).to_owned(), token(&login.body).to_owned()];
    for old in &old_tokens {
        assert_eq!(api.me(old).await.status, 200);
    }
    let code = api.send_code_for(MOBILE, "reset_password").await;
    let reset = api
        .post(
            "/user/password/reset",
            json!({ "mobile": MOBILE, "sms_code": code, "password": NEW_PASSWORD, "password2": NEW_PASSWORD }),
        )
        .await;
    assert_eq!(reset.status, 200, "{}", reset.body);
    assert_eq!(reset.body["id"], registration["id"]);
    for old in &old_tokens {
        assert_eq!(api.me(old).await.outcome(), (401, "invalid_token"), "a token from before the reset");
    }
    let me = api.me(token(&reset.body)).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body, json!({ "id": registration["id"], "username": MOBILE, "mobile": "138****5678" }));
    let old_password = api.post("/user/login", json!({ "username": MOBILE, "password": PASSWORD })).await;
    assert_eq!(old_password.outcome(), (401, "invalid_credentials"));
    let new_password = api.post("/user/login", json!({ "username": MOBILE, "password": NEW_PASSWORD })).await;
    assert_eq!(new_password.status, 200);
}

async fn fifty_concurrent_resets_with_one_code_change_the_password_once(api: TestApi) {
    registered(&api).await;
    let code = api.send_code_for(MOBILE, "reset_password").await;
    let api = std::sync::Arc::new(api);
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let (api, code) = (api.clone(), code.clone());
            tokio::spawn(async move {
                let body = json!({ "mobile": MOBILE, "sms_code": code, "password": format!("new-password-{i}") });
                let reply = api.post("/user/password/reset", body).await;
                (reply.status, reply.body)
            })
        })
        .collect();
    let mut winners = Vec::new();
    let mut others = Vec::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        match status {
            200 => winners.push(body),
            _ => others.push((status, body["code"].as_str().unwrap_or("-").to_owned())),
        }
    }
    println!("50 concurrent resets with one code: {} changed the password, {} refused", winners.len(), others.len());
    assert_eq!(winners.len(), 1, "{others:?}");
    assert!(others.iter().all(|(s, c)| *s == 400 && c == "invalid_sms_code"), "{others:?}");
    assert_eq!(api.me(token(&winners[0])).await.status, 200, "the one token issued by the reset is good");
}

async fn me_refuses_a_missing_malformed_foreign_or_expired_token_alike(api: TestApi) {
    let registration = registered(&api).await;
    let good = token(&registration).to_owned();
    let claims = |exp: i64| Claims {
        sub: registration["id"].as_str().unwrap().to_owned(),
        username: MOBILE.into(),
        iat: 0,
        exp,
        ver: 0,
    };
    let far = 4_000_000_000;
    let foreign =
        encode(&Header::default(), &claims(far), &EncodingKey::from_secret(b"another-secret-of-32-bytes-at-least"))
            .unwrap();
    let hs384 =
        encode(&Header::new(Algorithm::HS384), &claims(far), &EncodingKey::from_secret(TEST_JWT_SECRET.as_bytes()))
            .unwrap();
    let unsigned = format!("{}.", good.rsplit_once('.').unwrap().0);
    for (what, reply) in [
        ("no header", api.get("/user/me").await),
        ("not bearer", {
            let request = api.http.get(api.url("/user/me")).header("authorization", format!("Basic {good}"));
            integration_tests::api::Reply::read(request.send().await.unwrap()).await
        }),
        ("garbage", api.me("not-a-token").await),
        ("another key", api.me(&foreign).await),
        ("another algorithm", api.me(&hs384).await),
        ("no signature", api.me(&unsigned).await),
    ] {
        assert_eq!(reply.outcome(), (401, "invalid_token"), "{what}");
    }
    assert_eq!(api.me(&good).await.status, 200);
    api.clock.advance(86_400 + signup::auth::LEEWAY_SECONDS);
    assert_eq!(api.me(&good).await.outcome(), (401, "invalid_token"), "expired");
}

on_both_stores!(
    a_login_code_logs_a_registered_user_in_once,
    a_code_works_only_for_the_purpose_it_was_sent_for,
    login_and_reset_codes_go_only_to_registered_numbers_and_sign_up_codes_only_to_free_ones,
    the_interval_counts_every_purpose_together,
    a_reset_changes_the_password_and_voids_every_older_token,
    fifty_concurrent_resets_with_one_code_change_the_password_once,
    me_refuses_a_missing_malformed_foreign_or_expired_token_alike,
);
