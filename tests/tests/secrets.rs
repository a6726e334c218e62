//! Lambda secrets from Secrets Manager (moto's), by ARN, at cold start:
//! exactly the ones a function needs, a clear refusal when one cannot be
//! read, and a rotated value picked up by the next cold start.

use std::collections::HashMap;
use std::sync::Arc;

use integration_tests::api::TestApi;
use integration_tests::moto::{moto, sdk_config};
use integration_tests::sms::RecordingSms;
use secrecy::ExposeSecret as _;
use serde_json::json;
use signup::aws::SecretsManager;
use signup::config::{Mode, SecretVar, Settings, JWT_SECRET, SMS_CODE_SECRET};
use signup::store::{MemoryStore, Store};

const JWT_V1: &str = "jwt-key-version-one-of-32-bytes-or-more";
const CODE_V1: &str = "code-key-version-one-of-32-bytes-or-more";
const CODE_V2: &str = "code-key-version-two-of-32-bytes-or-more";

async fn cold_start(
    needs: &[SecretVar],
    vars: &HashMap<&str, String>,
) -> Result<Settings, signup::config::ConfigError> {
    let secrets = SecretsManager::new(&sdk_config(&moto().endpoint));
    Settings::resolve(Mode::Lambda, needs, |k| vars.get(k).cloned(), &secrets).await
}

#[tokio::test]
async fn a_cold_start_reads_its_secrets_by_arn_and_names_one_it_cannot_read() {
    let run = std::process::id();
    let vars = HashMap::from([
        ("JWT_SECRET_ARN", moto().secret(&format!("jwt-{run}"), JWT_V1).await),
        ("SMS_CODE_SECRET_ARN", moto().secret(&format!("code-{run}"), CODE_V1).await),
    ]);
    let settings = cold_start(&[JWT_SECRET, SMS_CODE_SECRET], &vars).await.expect("both secrets are read");
    assert_eq!(settings.jwt_secret.expose_secret(), JWT_V1.as_bytes());
    assert_eq!(settings.sms_code_secret.expose_secret(), CODE_V1.as_bytes());

    let gone = HashMap::from([("SMS_CODE_SECRET_ARN", format!("{}-gone", vars["SMS_CODE_SECRET_ARN"]))]);
    let err = cold_start(&[SMS_CODE_SECRET], &gone).await.expect_err("a missing secret stops the cold start");
    assert_eq!(err.var, "SMS_CODE_SECRET_ARN");
    let text = err.to_string();
    assert!(text.contains("(ResourceNotFoundException), request id "), "{text}");

    // Two together come in one BatchGetSecretValue, which answers each on its own.
    let one_gone =
        HashMap::from([("JWT_SECRET_ARN", vars["JWT_SECRET_ARN"].clone()), gone.into_iter().next().unwrap()]);
    let err = cold_start(&[JWT_SECRET, SMS_CODE_SECRET], &one_gone).await.expect_err("one missing secret is enough");
    assert_eq!(err.var, "SMS_CODE_SECRET_ARN");
    let text = err.to_string();
    assert!(text.contains("refused by the service (ResourceNotFoundException), request id "), "{text}");
}

#[tokio::test]
async fn a_rotated_code_key_is_read_at_the_next_cold_start_and_a_code_texted_before_it_no_longer_matches() {
    let run = std::process::id();
    let arn = moto().secret(&format!("rotating-code-{run}"), CODE_V1).await;
    let vars = HashMap::from([("SMS_CODE_SECRET_ARN", arn.clone())]);
    let before = cold_start(&[SMS_CODE_SECRET], &vars).await.unwrap();
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk_config(&moto().endpoint));
    secrets.put_secret_value().secret_id(&arn).secret_string(CODE_V2).send().await.expect("moto rotates");
    let after = cold_start(&[SMS_CODE_SECRET], &vars).await.unwrap();
    assert_eq!(before.sms_code_secret.expose_secret(), CODE_V1.as_bytes(), "a warm instance keeps its key");
    assert_eq!(after.sms_code_secret.expose_secret(), CODE_V2.as_bytes(), "the next cold start has the new one");

    // A code texted by an instance with the old key, entered on one with the new key.
    let store: Arc<dyn Store> = Arc::new(MemoryStore::default());
    let sms = Arc::new(RecordingSms::default());
    let api = |code_key: &str| {
        TestApi::builder()
            .var("SMS_CODE_SECRET", code_key)
            .store(integration_tests::api::StoreChoice::Custom(store.clone()))
            .sms(sms.clone())
            .start()
    };
    let old = api(CODE_V1).await;
    let code = old.send_code("13812340077").await;
    let new = api(CODE_V2).await;
    let body = json!({ "mobile": "13812340077", "password": "password123", "sms_code": code });
    let reply = new.post("/user/register", body).await;
    assert_eq!(reply.outcome(), (400, "invalid_sms_code"), "a code in flight does not survive a rotation");
}
