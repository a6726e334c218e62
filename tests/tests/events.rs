//! Every file in `events/` through its function's handler, in-process, as
//! the Lambda runtime would hand it over (`lambda_http` parses the event).

use std::sync::Arc;

use integration_tests::api::{TEST_JWT_SECRET, TEST_SMS_CODE_SECRET};
use integration_tests::events::{cases, files, seed};
use integration_tests::sms::RecordingSms;
use signup::auth::{CodeHasher, TokenSigner};
use signup::clock::{Clock, SystemClock};
use signup::config::{Mode, Settings};
use signup::http::{Endpoint, ROUTES};
use signup::store::MemoryStore;
use signup::Services;

fn endpoint_of(function: &str) -> Endpoint {
    ROUTES
        .iter()
        .map(|r| r.endpoint)
        .find(|e| e.function() == function)
        .unwrap_or_else(|| panic!("no function {function}"))
}

#[test]
fn every_event_file_is_in_the_table_and_every_row_has_a_file() {
    let listed: Vec<String> = {
        let mut l: Vec<String> = cases().into_iter().map(|c| c.file).collect();
        l.sort();
        l
    };
    assert_eq!(listed, files());
    for case in cases() {
        assert!(
            case.file.starts_with(&format!("{}/", case.function)),
            "{} lies under its function's folder",
            case.file
        );
    }
}

#[tokio::test]
async fn every_event_file_gets_its_documented_status_and_code_from_its_function() {
    let mut failures = Vec::new();
    for case in cases() {
        let vars = [("JWT_SECRET", TEST_JWT_SECRET), ("SMS_CODE_SECRET", TEST_SMS_CODE_SECRET), ("SMS_BACKEND", "sns")];
        let settings =
            Settings::from_lookup(Mode::Lambda, |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string()))
                .expect("Lambda settings");
        let store = Arc::new(MemoryStore::default());
        let codes = CodeHasher::from_secret(&settings.sms_code_secret);
        let tokens = TokenSigner::new(&settings.jwt_secret, settings.jwt_ttl_seconds);
        let token = seed(store.as_ref(), &codes, &tokens, &case, SystemClock.now()).await;
        let services = Services::builder(settings)
            .store(store)
            .sms(Arc::new(RecordingSms::default()))
            .build()
            .await
            .expect("services from test parts");

        let request = signup::lambda::request_from_event(case.event_with(token.as_deref()))
            .unwrap_or_else(|e| panic!("{}: not an API Gateway event: {e}", case.file));
        let response = signup::lambda::handle(&services, endpoint_of(&case.function), request).await.unwrap();
        let status = response.status().as_u16();
        let body: serde_json::Value = match response.body() {
            lambda_http::Body::Text(t) => serde_json::from_str(t).unwrap(),
            other => panic!("{}: body {other:?}", case.file),
        };
        let code = body["code"].as_str().map(str::to_owned);
        if (status, &code) != (case.status, &case.code) {
            failures.push(format!("{}: expected {} {:?}, got {status} {body}", case.file, case.status, case.code));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
