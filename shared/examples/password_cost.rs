//! Prints what one argon2id hash and one verification cost on this machine
//! with the production parameters (19 MiB, t=2, p=1): the CPU time that
//! register and login pay per request, and the input of the cost table in
//! README.md. `cargo run -p signup --example password_cost` (argon2 is built
//! optimised even in dev builds, see Cargo.toml).

use std::time::{Duration, Instant};

use signup::auth::PasswordHasher;
use signup::domain::{Password, PasswordPolicy};

const RUNS: usize = 30;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let hasher = PasswordHasher::default();
    let password = Password::parse("correct horse battery", PasswordPolicy::default()).expect("valid");
    let phc = hasher.hash(&password).await.expect("hash");
    let (mut hashes, mut verifies) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let started = Instant::now();
        hasher.hash(&password).await.expect("hash");
        hashes.push(started.elapsed());
        let started = Instant::now();
        assert!(hasher.verify("correct horse battery", Some(&phc)).await.expect("verify"));
        verifies.push(started.elapsed());
    }
    println!("argon2id m=19456 KiB t=2 p=1, {RUNS} runs, one thread");
    println!("hash:   median {:.1} ms", median(hashes).as_secs_f64() * 1e3);
    println!("verify: median {:.1} ms", median(verifies).as_secs_f64() * 1e3);
}
