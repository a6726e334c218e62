//! When the day's SMS budget runs out, one error-level line says so, not one
//! per refused request; on both stores. (This file is its own test binary so
//! that it can own the global log subscriber.)

use std::io::Write;
use std::sync::{Arc, Mutex};

use integration_tests::api::{StoreChoice, TestApi};
use serde_json::json;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// The JSON lines written since the last call.
    fn take(&self) -> Vec<serde_json::Value> {
        let bytes = std::mem::take(&mut *self.0.lock().unwrap());
        String::from_utf8(bytes).unwrap().lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }
}

/// 50 concurrent sends against a budget of 10; the error lines naming
/// `sms_budget_exhausted`, and how many sends were refused.
async fn exhaust_the_budget(store: StoreChoice, captured: &Captured) -> (Vec<serde_json::Value>, usize) {
    let api = Arc::new(TestApi::builder().store(store).var("SMS_DAILY_BUDGET", "10").start().await);
    captured.take();
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let api = api.clone();
            tokio::spawn(async move { api.post("/user/sms", json!({ "mobile": format!("138{i:08}") })).await.status })
        })
        .collect();
    let mut refused = 0;
    for task in tasks {
        if task.await.unwrap() == 503 {
            refused += 1;
        }
    }
    assert_eq!(api.sms.attempted().len(), 10);
    let alerts = captured
        .take()
        .into_iter()
        .filter(|line| line["level"] == "ERROR" && line.to_string().contains("sms_budget_exhausted"))
        .collect();
    (alerts, refused)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exhausted_budget_logs_one_error_line_not_one_per_refusal() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt().json().without_time().with_writer(move || writer.clone()).init();

    for (store, name) in [(StoreChoice::Memory, "memory"), (StoreChoice::Moto, "DynamoDB")] {
        let (alerts, refused) = exhaust_the_budget(store, &captured).await;
        assert_eq!(refused, 40);
        assert_eq!(alerts.len(), 1, "{name}: one alert for {refused} refusals: {alerts:#?}");
        assert_eq!(alerts[0]["fields"]["code"], "sms_budget_exhausted");
        assert_eq!(alerts[0]["fields"]["budget"], 10);
        println!(
            "[{name}] 50 concurrent sends, SMS_DAILY_BUDGET=10: {refused} refused with 503 sms_budget_exhausted, \
             {} error-level log line: {}",
            alerts.len(),
            alerts[0]["fields"]["message"]
        );
    }
}
