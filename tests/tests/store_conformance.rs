//! One behaviour suite for every `Store`: the in-memory store and DynamoDB
//! (through moto, which never deletes TTL-expired items, so each expiry
//! check here is the store's own).

use std::sync::Arc;

use signup::domain::{Mobile, Purpose, User, UserId};
use signup::store::{BeginSmsError, CodeClaim, Counter, CreateUserError, MemoryStore, PendingCode, Store};

const NOW: i64 = 1_800_000_000;

fn mobile(n: u32) -> Mobile {
    Mobile::parse(&format!("1390000{n:04}")).unwrap()
}

fn pending(send_id: &str) -> PendingCode {
    PendingCode {
        send_id: send_id.into(),
        code_hash: format!("hash-of-{send_id}"),
        purpose: Purpose::Register,
        code_expires_at: NOW + 300,
        resend_at: NOW + 60,
    }
}

fn user(m: &Mobile) -> User {
    User {
        id: UserId::new_random(),
        mobile: m.clone(),
        password_hash: "$argon2id$fake".into(),
        created_at: NOW,
        token_version: 0,
    }
}

fn claim(send_id: &str, now: i64) -> CodeClaim<'_> {
    CodeClaim { send_id, max_attempts: 5, now }
}

async fn unknown_mobile_has_no_user_and_no_code(store: Arc<dyn Store>) {
    assert!(store.find_user(&mobile(1)).await.unwrap().is_none());
    assert!(store.find_code(&mobile(1), NOW).await.unwrap().is_none());
}

async fn begun_code_reads_back_with_zero_attempts(store: Arc<dyn Store>) {
    let m = mobile(2);
    store.begin_sms(&m, &pending("a"), &[], NOW).await.unwrap();
    let code = store.find_code(&m, NOW).await.unwrap().unwrap();
    assert_eq!((code.send_id.as_str(), code.code_hash.as_str(), code.attempts), ("a", "hash-of-a", 0));
    assert_eq!((code.code_expires_at, code.resend_at), (NOW + 300, NOW + 60));
}

async fn second_code_within_interval_is_refused_with_when_it_may_be_sent(store: Arc<dyn Store>) {
    let m = mobile(3);
    store.begin_sms(&m, &pending("a"), &[], NOW).await.unwrap();
    match store.begin_sms(&m, &pending("b"), &[], NOW + 59).await {
        Err(BeginSmsError::TooFrequent { resend_at }) => assert_eq!(resend_at, NOW + 60),
        other => panic!("expected TooFrequent, got {other:?}"),
    }
    assert_eq!(store.find_code(&m, NOW + 59).await.unwrap().unwrap().send_id, "a");
}

async fn code_after_interval_replaces_the_old_one_and_resets_attempts(store: Arc<dyn Store>) {
    let m = mobile(4);
    store.begin_sms(&m, &pending("a"), &[], NOW).await.unwrap();
    store.record_failed_attempt(&m, claim("a", NOW)).await.unwrap();
    let later = PendingCode { code_expires_at: NOW + 360, resend_at: NOW + 120, ..pending("b") };
    store.begin_sms(&m, &later, &[], NOW + 60).await.unwrap();
    let code = store.find_code(&m, NOW + 60).await.unwrap().unwrap();
    assert_eq!((code.send_id.as_str(), code.attempts), ("b", 0));
}

async fn code_is_absent_once_expired_even_though_the_item_remains(store: Arc<dyn Store>) {
    let m = mobile(5);
    store.begin_sms(&m, &pending("a"), &[], NOW).await.unwrap();
    assert!(store.find_code(&m, NOW + 299).await.unwrap().is_some());
    assert!(store.find_code(&m, NOW + 300).await.unwrap().is_none());
    // A claim on the expired code can neither count an attempt nor register.
    assert_eq!(store.record_failed_attempt(&m, claim("a", NOW + 300)).await.unwrap(), None);
    assert!(matches!(store.create_user(&user(&m), claim("a", NOW + 300)).await, Err(CreateUserError::CodeGone)));
}

async fn registered_mobile_gets_no_code(store: Arc<dyn Store>) {
    let m = mobile(6);
    store.begin_sms(&m, &pending("a"), &[], NOW).await.unwrap();
    store.create_user(&user(&m), claim("a", NOW)).await.unwrap();
    assert!(matches!(store.begin_sms(&m, &pending("b"), &[], NOW + 600).await, Err(BeginSmsError::Registered)));
}

async fn release_frees_the_interval_and_removes_only_its_own_code(store: Arc<dyn Store>) {
    let m = mobile(7);
    store.begin_sms(&m, &pending("a"), &[], NOW).await.unwrap();
    store.release_sms(&m, "not-a", &[]).await.unwrap();
    assert!(store.find_code(&m, NOW).await.unwrap().is_some(), "another send's release must not touch this code");
    store.release_sms(&m, "a", &[]).await.unwrap();
    assert!(store.find_code(&m, NOW).await.unwrap().is_none());
    store.begin_sms(&m, &pending("b"), &[], NOW + 1).await.expect("interval freed by the release");
}

async fn failed_attempts_count_up_to_the_limit_then_the_code_is_burnt(store: Arc<dyn Store>) {
    let m = mobile(8);
    store.begin_sms(&m, &pending("a"), &[], NOW).await.unwrap();
    for expected in 1..=5 {
        assert_eq!(store.record_failed_attempt(&m, claim("a", NOW)).await.unwrap(), Some(expected));
    }
    assert_eq!(store.record_failed_attempt(&m, claim("a", NOW)).await.unwrap(), None);
    assert_eq!(store.find_code(&m, NOW).await.unwrap().unwrap().attempts, 5);
    assert!(matches!(store.create_user(&user(&m), claim("a", NOW)).await, Err(CreateUserError::CodeGone)));
}

async fn attempts_on_a_replaced_code_are_not_counted(store: Arc<dyn Store>) {
    let m = mobile(9);
    store.begin_sms(&m, &pending("a"), &[], NOW).await.unwrap();
    assert_eq!(store.record_failed_attempt(&m, claim("stale", NOW)).await.unwrap(), None);
    assert_eq!(store.find_code(&m, NOW).await.unwrap().unwrap().attempts, 0);
}

async fn create_user_consumes_the_code_and_stores_the_user(store: Arc<dyn Store>) {
    let m = mobile(10);
    let u = user(&m);
    store.begin_sms(&m, &pending("a"), &[], NOW).await.unwrap();
    store.create_user(&u, claim("a", NOW)).await.unwrap();
    assert_eq!(store.find_user(&m).await.unwrap(), Some(u));
    assert!(store.find_code(&m, NOW).await.unwrap().is_none(), "the code is single use");
}

async fn create_user_with_a_replaced_code_fails_and_creates_nothing(store: Arc<dyn Store>) {
    let m = mobile(11);
    store.begin_sms(&m, &pending("a"), &[], NOW).await.unwrap();
    assert!(matches!(store.create_user(&user(&m), claim("b", NOW)).await, Err(CreateUserError::CodeGone)));
    assert!(store.find_user(&m).await.unwrap().is_none());
    assert!(store.find_code(&m, NOW).await.unwrap().is_some(), "a failed transaction consumes nothing");
}

async fn create_user_on_a_registered_mobile_fails_and_keeps_the_first_user(store: Arc<dyn Store>) {
    let m = mobile(12);
    let first = user(&m);
    store.begin_sms(&m, &pending("a"), &[], NOW).await.unwrap();
    store.create_user(&first, claim("a", NOW)).await.unwrap();
    assert!(matches!(store.create_user(&user(&m), claim("a", NOW)).await, Err(CreateUserError::Registered)));
    assert_eq!(store.find_user(&m).await.unwrap(), Some(first));
}

async fn of_twenty_concurrent_sends_exactly_one_is_begun(store: Arc<dyn Store>) {
    let m = mobile(13);
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let (store, m) = (store.clone(), m.clone());
            tokio::spawn(async move { store.begin_sms(&m, &pending(&format!("send-{i}")), &[], NOW).await })
        })
        .collect();
    let mut begun = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => begun += 1,
            Err(BeginSmsError::TooFrequent { resend_at }) => assert_eq!(resend_at, NOW + 60),
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(begun, 1);
}

async fn of_twenty_concurrent_registrations_exactly_one_creates_the_user(store: Arc<dyn Store>) {
    let m = mobile(14);
    store.begin_sms(&m, &pending("a"), &[], NOW).await.unwrap();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (store, m) = (store.clone(), m.clone());
            tokio::spawn(async move { store.create_user(&user(&m), claim("a", NOW)).await })
        })
        .collect();
    let mut created = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => created += 1,
            Err(CreateUserError::Registered | CreateUserError::CodeGone) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(created, 1);
}

fn counter(name: &str, limit: u32) -> Counter {
    Counter { key: format!("LIMIT#test#{name}#1"), limit, window_ends: NOW + 3_600 }
}

async fn a_counter_counts_up_to_its_limit_then_refuses_and_another_window_starts_at_zero(store: Arc<dyn Store>) {
    let c = counter("a", 3);
    for expected in 1..=3 {
        assert_eq!(store.take(&c).await.unwrap(), Some(expected));
    }
    assert_eq!(store.take(&c).await.unwrap(), None);
    let next_window = Counter { key: "LIMIT#test#a#2".into(), ..c.clone() };
    assert_eq!(store.take(&next_window).await.unwrap(), Some(1));
    store.give_back(&c).await.unwrap();
    assert_eq!(store.take(&c).await.unwrap(), Some(3), "a given-back count can be taken again");
}

async fn a_send_counts_every_counter_and_a_full_one_refuses_it_without_writing_the_code(store: Arc<dyn Store>) {
    let (m, other) = (mobile(1), mobile(2));
    let (roomy, tight) = (counter("roomy", 10), counter("tight", 1));
    store.begin_sms(&m, &pending("a"), &[roomy.clone(), tight.clone()], NOW).await.unwrap();
    match store.begin_sms(&other, &pending("b"), &[roomy.clone(), tight.clone()], NOW).await {
        Err(BeginSmsError::LimitReached { counter }) => assert_eq!(counter, 1, "the second counter is the full one"),
        other => panic!("expected the tight counter to refuse, got {other:?}"),
    }
    assert!(store.find_code(&other, NOW).await.unwrap().is_none(), "no code for a refused send");
    assert_eq!(store.take(&roomy).await.unwrap(), Some(2), "the refused send counted nothing");
}

async fn a_released_send_gives_its_counters_back(store: Arc<dyn Store>) {
    let m = mobile(1);
    let c = counter("budget", 1);
    store.begin_sms(&m, &pending("a"), std::slice::from_ref(&c), NOW).await.unwrap();
    store.release_sms(&m, "a", std::slice::from_ref(&c)).await.unwrap();
    store.begin_sms(&mobile(2), &pending("b"), std::slice::from_ref(&c), NOW).await.expect("the budget was given back");
}

async fn first_time_is_true_for_one_caller_only(store: Arc<dyn Store>) {
    assert!(store.first_time("alert-1", NOW + 3_600).await.unwrap());
    assert!(!store.first_time("alert-1", NOW + 3_600).await.unwrap());
    assert!(store.first_time("alert-2", NOW + 3_600).await.unwrap());
}

async fn of_fifty_concurrent_sends_under_a_limit_of_twenty_exactly_twenty_are_begun(store: Arc<dyn Store>) {
    let c = counter("per-ip", 20);
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let (store, c) = (store.clone(), c.clone());
            tokio::spawn(
                async move { store.begin_sms(&mobile(100 + i), &pending(&format!("send-{i}")), &[c], NOW).await },
            )
        })
        .collect();
    let mut begun = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => begun += 1,
            Err(BeginSmsError::LimitReached { counter: 0 }) => {}
            Err(e) => panic!("unexpected refusal {e:?}"),
        }
    }
    assert_eq!(begun, 20);
}

macro_rules! conformance {
    ($store:ident: $make:expr; $($case:ident),* $(,)?) => {
        mod $store {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let store: Arc<dyn Store> = $make;
                    super::$case(store).await;
                }
            )*
        }
    };
}

macro_rules! both_stores {
    ($($case:ident),* $(,)?) => {
        conformance!(memory: Arc::new(MemoryStore::default()); $($case),*);
        conformance!(dynamodb: Arc::new(integration_tests::moto::moto().fresh_store().await); $($case),*);
    };
}

both_stores!(
    unknown_mobile_has_no_user_and_no_code,
    begun_code_reads_back_with_zero_attempts,
    second_code_within_interval_is_refused_with_when_it_may_be_sent,
    code_after_interval_replaces_the_old_one_and_resets_attempts,
    code_is_absent_once_expired_even_though_the_item_remains,
    registered_mobile_gets_no_code,
    release_frees_the_interval_and_removes_only_its_own_code,
    failed_attempts_count_up_to_the_limit_then_the_code_is_burnt,
    attempts_on_a_replaced_code_are_not_counted,
    create_user_consumes_the_code_and_stores_the_user,
    create_user_with_a_replaced_code_fails_and_creates_nothing,
    create_user_on_a_registered_mobile_fails_and_keeps_the_first_user,
    of_twenty_concurrent_sends_exactly_one_is_begun,
    of_twenty_concurrent_registrations_exactly_one_creates_the_user,
    a_counter_counts_up_to_its_limit_then_refuses_and_another_window_starts_at_zero,
    a_send_counts_every_counter_and_a_full_one_refuses_it_without_writing_the_code,
    a_released_send_gives_its_counters_back,
    first_time_is_true_for_one_caller_only,
    of_fifty_concurrent_sends_under_a_limit_of_twenty_exactly_twenty_are_begun,
);
