//! argon2 on its own, through the service's `PasswordHasher`: one hash and
//! one verification alone, and a round of one per core at once, the
//! machine's hashing capacity (the bound login and the register flow are
//! read against). Its own bench target so that `scripts/bench` can measure
//! the capacity again right before the hashing scenarios, in seconds,
//! without the handlers benchmark's million-user stores.

use std::future::Future;
use std::time::Duration;

use bench::fixtures::{self, PASSWORD};
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};
use signup::auth::PasswordHasher;
use tokio::runtime::Runtime;

fn argon2(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a Tokio runtime");
    let hasher = PasswordHasher::default();
    let password = fixtures::password();
    let stored = rt.block_on(hasher.hash(&password)).expect("argon2 hashes");

    let mut group = c.benchmark_group("argon2");
    group.sampling_mode(SamplingMode::Flat);
    group.bench_function("hash", |b| b.iter(|| rt.block_on(hasher.hash(&password)).expect("hash")));
    group.bench_function("verify", |b| {
        b.iter(|| assert!(rt.block_on(hasher.verify(PASSWORD, Some(&stored))).expect("verify")))
    });
    // The machine's hashing capacity: one hash per core at once, as under
    // load, where they share the cache and memory bandwidth.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    group.bench_function("hash_all_cores", |b| {
        b.iter(|| {
            all_at_once(&rt, cores, || {
                let (hasher, password) = (hasher.clone(), password.clone());
                async move {
                    hasher.hash(&password).await.expect("hash");
                }
            })
        })
    });
    group.bench_function("verify_all_cores", |b| {
        b.iter(|| {
            all_at_once(&rt, cores, || {
                let (hasher, stored) = (hasher.clone(), stored.clone());
                async move {
                    assert!(hasher.verify(PASSWORD, Some(&stored)).await.expect("verify"));
                }
            })
        })
    });
    group.finish();
}

/// One round of `n` computations started together, as the service runs them
/// under load: each is a task whose job one of the hasher's threads (one per
/// core, kept between rounds) computes. Returns when all `n` are done: the
/// iteration's time is the round's wall time.
fn all_at_once<F, Fut>(rt: &Runtime, n: usize, one: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    rt.block_on(async {
        let round: Vec<_> = (0..n).map(|_| tokio::spawn(one())).collect();
        for task in round {
            task.await.expect("the computation finishes");
        }
    })
}

fn config() -> Criterion {
    Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3)).sample_size(20)
}

criterion_group! { name = benches; config = config(); targets = argon2 }
criterion_main!(benches);
