//! Warm handler latency in-process: each route through
//! `signup::http::handle` with the memory store, and check-mobile and login
//! with 1,000 to 1,000,000 users in the store. Register and login split
//! into the hash (benches/argon2.rs) and the rest, which is timed directly,
//! through services whose hasher uses argon2's lowest cost.
//!
//! Run by `scripts/bench`; `BENCH_QUICK=1` keeps only the 1,000-user store.
//! No tracing subscriber is installed: the access log line costs what a
//! disabled `tracing` call costs, not the local API's formatting.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bench::fixtures::{self, ServiceState, CODE, PASSWORD};
use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkGroup, BenchmarkId, Criterion, SamplingMode};
use serde_json::json;
use signup::auth::PasswordHasher;
use signup::sms::LogSender;
use signup::store::{MemoryStore, Store};
use tokio::runtime::Runtime;

/// Family digits of the mobiles each benchmark uses, so they never collide.
const USERS: u8 = 3;
const SENDS: u8 = 5;
const REGISTRATIONS: u8 = 6;
const REGISTRATIONS_REST: u8 = 7;
const FREE: u8 = 9;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a Tokio runtime")
}

fn memory_state(rt: &tokio::runtime::Runtime, store: Arc<MemoryStore>) -> ServiceState {
    // The local API's `log` backend, without an outbox file.
    rt.block_on(fixtures::service_state(store, Arc::new(LogSender::new(None))))
}

fn real_hash(rt: &Runtime) -> String {
    let password = fixtures::password();
    rt.block_on(PasswordHasher::default().hash(&password)).expect("argon2 hashes")
}

fn expect_status(what: &str, (status, body): (u16, serde_json::Value), want: u16) {
    assert_eq!(status, want, "{what}: {body}");
}

fn login_body(n: u64) -> serde_json::Value {
    json!({ "username": fixtures::mobile_number(USERS, n), "password": PASSWORD })
}

fn routes(c: &mut Criterion) {
    let rt = runtime();
    let store = Arc::new(MemoryStore::default());
    let state = memory_state(&rt, store.clone());
    let now = fixtures::now();
    rt.block_on(fixtures::seed_users(store.as_ref(), USERS, 1, &real_hash(&rt), now));
    let taken = format!("/user/mobile/{}/", fixtures::mobile_number(USERS, 0));
    let free = format!("/user/mobile/{}/", fixtures::mobile_number(FREE, 0));
    expect_status("check free", rt.block_on(fixtures::call(&state, fixtures::get(&free))), 200);
    expect_status("check taken", rt.block_on(fixtures::call(&state, fixtures::get(&taken))), 409);
    expect_status(
        "login",
        rt.block_on(fixtures::call(&state, fixtures::post_json("/user/login/", &login_body(0)))),
        200,
    );

    let mut group = c.benchmark_group("route");
    group.bench_function("check_mobile_free", |b| {
        b.iter(|| black_box(rt.block_on(fixtures::call(&state, fixtures::get(&free)))))
    });
    group.bench_function("check_mobile_taken", |b| {
        b.iter(|| black_box(rt.block_on(fixtures::call(&state, fixtures::get(&taken)))))
    });
    let sends = AtomicU64::new(0);
    group.bench_function("send", |b| {
        b.iter_batched(
            || {
                let mobile = fixtures::mobile_number(SENDS, sends.fetch_add(1, Ordering::Relaxed));
                fixtures::post_json("/user/sms/", &json!({ "mobile": mobile }))
            },
            |req| {
                let answer = rt.block_on(fixtures::call(&state, req));
                debug_assert_eq!(answer.0, 200, "{}", answer.1);
                answer
            },
            BatchSize::SmallInput,
        )
    });
    group.sampling_mode(SamplingMode::Flat);
    register_and_login(&mut group, &rt, &store, &state, REGISTRATIONS);
    group.finish();

    rest(c, &rt);
}

/// Register (a new number of `family` each time, its code seeded outside
/// the timing) and login of user 0, into `group`.
fn register_and_login(
    group: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    store: &Arc<MemoryStore>,
    state: &ServiceState,
    family: u8,
) {
    let registrations = AtomicU64::new(0);
    group.bench_function("register", |b| {
        b.iter_batched(
            || {
                let n = registrations.fetch_add(1, Ordering::Relaxed);
                let mobile = fixtures::mobile(family, n);
                rt.block_on(fixtures::seed_code(store.as_ref(), &fixtures::code_hasher(), &mobile, fixtures::now()));
                let body = json!({ "mobile": mobile.as_str(), "password": PASSWORD, "sms_code": CODE });
                fixtures::post_json("/user/register/", &body)
            },
            |req| {
                let answer = rt.block_on(fixtures::call(state, req));
                assert_eq!(answer.0, 201, "{}", answer.1);
                answer
            },
            BatchSize::SmallInput,
        )
    });
    group.bench_function("login", |b| {
        b.iter(|| {
            let answer = rt.block_on(fixtures::call(state, fixtures::post_json("/user/login/", &login_body(0))));
            assert_eq!(answer.0, 200, "{}", answer.1);
            answer
        })
    });
}

/// Argon2 parameters of the lowest cost the crate takes (8 KiB, one pass):
/// register and login through services that hash and verify with them
/// time everything but the hash, plus this hash's own few microseconds
/// (`argon2.minimal_hash`, printed beside them).
const MINIMAL_KIB: u32 = 8;

fn rest(c: &mut Criterion, rt: &Runtime) {
    let cheap = PasswordHasher::with_cost_for_measuring(MINIMAL_KIB, 1);
    let store = Arc::new(MemoryStore::default());
    let state =
        rt.block_on(fixtures::service_state_hashing_with(store.clone(), Arc::new(LogSender::new(None)), cheap.clone()));
    let password = fixtures::password();
    let cheap_hash = rt.block_on(cheap.hash(&password)).expect("argon2 hashes");
    rt.block_on(fixtures::seed_users(store.as_ref(), USERS, 1, &cheap_hash, fixtures::now()));

    let mut group = c.benchmark_group("route_without_argon2");
    register_and_login(&mut group, rt, &store, &state, REGISTRATIONS_REST);
    group.finish();
    let mut group = c.benchmark_group("argon2");
    group.bench_function("minimal_hash", |b| b.iter(|| rt.block_on(cheap.hash(&password)).expect("hash")));
    group.finish();
}

fn scale(c: &mut Criterion) {
    let rt = runtime();
    let hash = real_hash(&rt);
    let sizes: &[u64] = match std::env::var("BENCH_QUICK").as_deref() {
        Ok("1") => &[1_000],
        _ => &[1_000, 100_000, 1_000_000],
    };
    for &users in sizes {
        let store = Arc::new(MemoryStore::default());
        let state = memory_state(&rt, store.clone());
        rt.block_on(fixtures::seed_users(store.as_ref(), USERS, users, &hash, fixtures::now()));
        // The last user registered, and a number in the middle of the range.
        let last = format!("/user/mobile/{}/", fixtures::mobile_number(USERS, users - 1));
        let middle = login_body(users / 2);
        expect_status("check", rt.block_on(fixtures::call(&state, fixtures::get(&last))), 409);

        let mut group = c.benchmark_group("scale_check_mobile");
        group.bench_with_input(BenchmarkId::from_parameter(users), &last, |b, path| {
            b.iter(|| black_box(rt.block_on(fixtures::call(&state, fixtures::get(path)))))
        });
        group.finish();
        let mut group = c.benchmark_group("scale_login");
        group.sampling_mode(SamplingMode::Flat);
        group.bench_with_input(BenchmarkId::from_parameter(users), &middle, |b, body| {
            b.iter(|| {
                let answer = rt.block_on(fixtures::call(&state, fixtures::post_json("/user/login/", body)));
                assert_eq!(answer.0, 200, "{}", answer.1);
                answer
            })
        });
        group.finish();
        drop(state);
        let _: Arc<dyn Store> = store;
    }
}

fn config() -> Criterion {
    Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3)).sample_size(20)
}

criterion_group! { name = benches; config = config(); targets = routes, scale }
criterion_main!(benches);
