//! Reads a whole table item by item after a fault, and says what is half
//! written: a user whose code was not consumed, a code nobody was texted
//! (or an interval left behind by a failed send), a counter spent by a
//! request that was refused. Counters (`LIMIT#<kind>#<key>`) are checked
//! when there are any.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use signup::auth::CodeHasher;
use signup::domain::{Mobile, SmsCode};

type Item = HashMap<String, AttributeValue>;

#[derive(Debug, Default)]
pub struct Snapshot {
    /// Mobile and `created_at` of every `USER#` item.
    pub users: Vec<(String, i64)>,
    pub codes: Vec<CodeItem>,
    pub counters: Vec<Counter>,
    /// Keys of items of no known kind.
    pub unknown: Vec<String>,
}

#[derive(Debug)]
pub struct CodeItem {
    pub mobile: String,
    pub code_hash: String,
    pub code_expires_at: i64,
}

#[derive(Debug)]
pub struct Counter {
    pub kind: String,
    pub key: String,
    /// The sum of the item's numbers other than its TTL.
    pub count: i64,
}

/// What the test knows happened.
pub struct Expected<'a> {
    pub code_hasher: &'a CodeHasher,
    /// (mobile, code) of every text delivered.
    pub delivered: &'a [(String, String)],
    /// Mobiles whose send answered 503: DynamoDB may apply a write after the
    /// client stopped waiting for it, so such a mobile may hold a code that
    /// was never texted. Nobody knows that code; it is reported apart.
    pub unanswered_sends: &'a [String],
    /// Requests answered with a verdict (not a 5xx) by a route that counts
    /// attempts: the most any attempt counter may hold.
    pub verdicts: usize,
    pub code_ttl_seconds: i64,
}

/// What the scan found wrong, and the codes a late write left behind.
#[derive(Debug, Default)]
pub struct Findings {
    pub violations: Vec<String>,
    /// Mobiles holding a code written after its send had answered 503.
    pub late_writes: Vec<String>,
}

fn s(item: &Item, name: &str) -> String {
    item.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default()
}

fn n(item: &Item, name: &str) -> i64 {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok()).unwrap_or(0)
}

impl Snapshot {
    /// Every item of `table`, read with a consistent scan.
    pub async fn read(client: &aws_sdk_dynamodb::Client, table: &str) -> Self {
        let mut snapshot = Self::default();
        let mut start: Option<Item> = None;
        loop {
            let page = client
                .scan()
                .table_name(table)
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .expect("the table can be scanned");
            for item in page.items() {
                snapshot.add(item);
            }
            match page.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => return snapshot,
            }
        }
    }

    fn add(&mut self, item: &Item) {
        let pk = s(item, "pk");
        if let Some(mobile) = pk.strip_prefix("USER#") {
            self.users.push((mobile.to_owned(), n(item, "created_at")));
        } else if let Some(mobile) = pk.strip_prefix("SMS#") {
            self.codes.push(CodeItem {
                mobile: mobile.to_owned(),
                code_hash: s(item, "code_hash"),
                code_expires_at: n(item, "code_expires_at"),
            });
        } else if let Some(rest) = pk.strip_prefix("LIMIT#") {
            let (kind, key) = rest.split_once('#').unwrap_or((rest, ""));
            let count = item
                .iter()
                .filter(|(name, _)| name.as_str() != "expires_at")
                .filter_map(|(_, v)| v.as_n().ok()?.parse::<i64>().ok())
                .sum();
            self.counters.push(Counter { kind: kind.to_owned(), key: key.to_owned(), count });
        } else {
            self.unknown.push(pk);
        }
    }

    pub fn check(&self, expected: &Expected<'_>) -> Findings {
        let mut findings = Findings::default();
        let texted = |mobile: &str, hash: &str| {
            let Ok(parsed) = Mobile::parse(mobile) else { return false };
            expected.delivered.iter().any(|(m, code)| {
                m == mobile
                    && SmsCode::parse(code, code.len()).is_ok_and(|c| expected.code_hasher.matches(&parsed, &c, hash))
            })
        };
        for (mobile, created_at) in &self.users {
            // Registering consumed the code live at that moment, and any
            // older one had been replaced by it.
            let sent_before = |c: &&CodeItem| c.code_expires_at - expected.code_ttl_seconds <= *created_at;
            if self.codes.iter().filter(|c| &c.mobile == mobile).any(|c| sent_before(&c)) {
                findings
                    .violations
                    .push(format!("user {mobile} exists but the code it registered with is still there"));
            }
        }
        for code in &self.codes {
            if texted(&code.mobile, &code.code_hash) {
                continue;
            }
            if expected.unanswered_sends.contains(&code.mobile) {
                findings.late_writes.push(code.mobile.clone());
            } else {
                findings.violations.push(format!(
                    "{} holds a code that was never texted (a usable code nobody received, or an interval left by a failed send)",
                    code.mobile
                ));
            }
        }
        for counter in &self.counters {
            // Counters of sends may count only texts delivered; the others
            // (attempts, failures) only requests answered with a verdict.
            let (limit, what) = if counter.kind.starts_with("sms") && !counter.kind.contains("code") {
                (expected.delivered.len(), "texts delivered")
            } else {
                (expected.verdicts, "requests answered with a verdict")
            };
            if counter.count > limit as i64 {
                findings.violations.push(format!(
                    "counter {}#{} holds {} but only {limit} {what}: a refused request was counted",
                    counter.kind, counter.key, counter.count
                ));
            }
        }
        findings.violations.extend(self.unknown.iter().map(|pk| format!("item {pk} of no known kind")));
        findings
    }
}
