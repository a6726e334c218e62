//! argon2id password hashing with OWASP's parameters (19 MiB, t=2, p=1).
//!
//! Hashing is CPU-bound for tens of milliseconds and needs 19 MiB, so it
//! runs on Tokio's blocking pool, never on the request executor, and at
//! most one hash per core runs at once (more would only queue inside the
//! CPU and multiply the memory): requests beyond that wait their turn. Each
//! running hash borrows its 19 MiB of blocks from a pool and gives them
//! back, so memory stays at one block set per core instead of growing with
//! every blocking thread's allocator arena.

use std::sync::{Arc, Mutex};

use argon2::password_hash::{rand_core::OsRng, Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::Semaphore;

use crate::domain::Password;

/// Hashing could not run: a broken parameter set or a lost blocking task.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("argon2 could not hash")]
    Argon2(#[source] argon2::Error),
    #[error("argon2 could not encode the hash")]
    Encoding(#[source] argon2::password_hash::Error),
    #[error("the hashing task did not finish")]
    Task(#[source] tokio::task::JoinError),
}

/// An argon2id PHC string with the production parameters and a random salt
/// and output, shipped as a constant: no password is known to match it, and
/// verifying an unknown user's login against it costs a full argon2
/// computation, what a wrong password costs, from the very first request.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$y1uKBlgWnwA4yQwCahX3Tg$cnt0OsJ2N8P9a0y1pBYvmWfFkqVUwjX/hdSlnc7GvnQ";

const HASH_LEN: usize = 32;

fn params() -> Params {
    Params::new(19 * 1024, 2, 1, Some(HASH_LEN)).expect("OWASP argon2 parameters are valid")
}

/// Computations at once and their reusable memory.
struct Pool {
    permits: Arc<Semaphore>,
    blocks: Mutex<Vec<Vec<Block>>>,
}

impl Pool {
    fn lock_blocks(&self) -> std::sync::MutexGuard<'_, Vec<Vec<Block>>> {
        // A panic mid-hash leaves at worst one block set out of the pool.
        self.blocks.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[derive(Clone)]
pub struct PasswordHasher {
    pool: Arc<Pool>,
    /// What new hashes are made with (verification reads the stored string's).
    params: Params,
}

impl Default for PasswordHasher {
    /// As many computations at once as the machine has cores.
    fn default() -> Self {
        Self::with_parallelism(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }
}

impl PasswordHasher {
    pub fn with_parallelism(at_once: usize) -> Self {
        let pool = Pool { permits: Arc::new(Semaphore::new(at_once.max(1))), blocks: Mutex::new(Vec::new()) };
        Self { pool: Arc::new(pool), params: params() }
    }

    /// A hasher that makes argon2id hashes of `memory_kib` KiB and
    /// `iterations` passes, for measuring what a route costs besides the
    /// hash (the benchmark) and nothing else: never the service's own.
    #[cfg(feature = "test-util")]
    pub fn with_cost_for_measuring(memory_kib: u32, iterations: u32) -> Self {
        let params = Params::new(memory_kib, iterations, 1, Some(HASH_LEN)).expect("valid argon2 parameters");
        Self { params, ..Self::with_parallelism(1) }
    }

    /// A PHC string: `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`.
    pub async fn hash(&self, password: &Password) -> Result<String, HashError> {
        let (password, params) = (password.expose().to_owned(), self.params.clone());
        self.run(move |blocks| hash_with(&password, params, blocks)).await?
    }

    /// `stored` is `None` for an unknown user: the work is the same either way.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<bool, HashError> {
        let password = password.to_owned();
        let known = stored.is_some();
        let phc = stored.unwrap_or(DUMMY_HASH).to_owned();
        let matches = self.run(move |blocks| verify_with(&password, &phc, blocks)).await?;
        Ok(known && matches)
    }

    /// Runs `f` on the blocking pool once a permit is free, with a block set from the pool.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let permit = self.pool.permits.clone().acquire_owned().await.expect("the semaphore is never closed");
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut blocks = pool.lock_blocks().pop().unwrap_or_default();
            let result = f(&mut blocks);
            pool.lock_blocks().push(blocks);
            drop(permit);
            result
        })
        .await
        .map_err(HashError::Task)
    }
}

fn argon2id(params: Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The raw argon2 output of `password` under `params` and `salt`, in `blocks`.
fn compute(
    password: &str,
    salt: &[u8],
    params: Params,
    blocks: &mut Vec<Block>,
    out: &mut [u8],
) -> Result<(), argon2::Error> {
    blocks.resize(params.block_count(), Block::default());
    argon2id(params).hash_password_into_with_memory(password.as_bytes(), salt, out, &mut blocks[..])
}

fn hash_with(password: &str, params: Params, blocks: &mut Vec<Block>) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let raw_salt = salt.decode_b64(&mut salt_bytes).map_err(HashError::Encoding)?;
    let mut out = [0u8; HASH_LEN];
    compute(password, raw_salt, params.clone(), blocks, &mut out).map_err(HashError::Argon2)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: (&params).try_into().map_err(HashError::Encoding)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(HashError::Encoding)?),
    };
    Ok(phc.to_string())
}

fn verify_with(password: &str, phc: &str, blocks: &mut Vec<Block>) -> bool {
    // Parameters come from the stored string, so a later change of the
    // defaults still verifies old hashes.
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    if parsed.algorithm != Algorithm::Argon2id.ident() {
        return false;
    }
    let mut salt_bytes = [0u8; 64];
    let Ok(raw_salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    if compute(password, raw_salt, params, blocks, &mut out).is_err() {
        return false;
    }
    // `Output`'s equality is constant-time.
    Output::new(&out).is_ok_and(|computed| computed == expected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PasswordPolicy;
    use argon2::password_hash::PasswordVerifier as _;

    fn pw(s: &str) -> Password {
        Password::parse(s, PasswordPolicy::default()).unwrap()
    }

    #[tokio::test]
    async fn hash_is_argon2id_with_owasp_parameters_and_verifies() {
        let hasher = PasswordHasher::default();
        let phc = hasher.hash(&pw("correct horse")).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(hasher.verify("correct horse", Some(&phc)).await.unwrap());
        assert!(!hasher.verify("correct horsE", Some(&phc)).await.unwrap());
    }

    #[tokio::test]
    async fn our_hashes_are_standard_phc_strings_that_the_argon2_crate_verifies() {
        let phc = PasswordHasher::default().hash(&pw("correct horse")).await.unwrap();
        let parsed = PasswordHash::new(&phc).unwrap();
        assert!(argon2id(params()).verify_password(b"correct horse", &parsed).is_ok());
    }

    #[tokio::test]
    async fn hashes_made_by_the_argon2_crate_verify_here() {
        use argon2::password_hash::PasswordHasher as _;
        let salt = SaltString::generate(&mut OsRng);
        let phc = argon2id(params()).hash_password(b"made elsewhere", &salt).unwrap().to_string();
        assert!(PasswordHasher::default().verify("made elsewhere", Some(&phc)).await.unwrap());
    }

    #[tokio::test]
    async fn same_password_hashes_differently_each_time() {
        let hasher = PasswordHasher::default();
        assert_ne!(hasher.hash(&pw("same password")).await.unwrap(), hasher.hash(&pw("same password")).await.unwrap());
    }

    #[tokio::test]
    async fn unknown_user_never_verifies() {
        assert!(!PasswordHasher::default().verify("anything at all", None).await.unwrap());
    }

    #[tokio::test]
    async fn a_corrupt_stored_hash_never_verifies() {
        assert!(!PasswordHasher::default().verify("whatever1", Some("not a phc string")).await.unwrap());
    }

    #[test]
    fn the_shipped_dummy_hash_has_the_production_parameters() {
        let parsed = PasswordHash::new(DUMMY_HASH).unwrap();
        assert_eq!(Params::try_from(&parsed).unwrap().block_count(), params().block_count());
        assert_eq!(parsed.algorithm, Algorithm::Argon2id.ident());
    }

    #[tokio::test]
    async fn no_more_hashes_run_at_once_than_permits() {
        let hasher = PasswordHasher::with_parallelism(2);
        let tasks: Vec<_> = (0..6)
            .map(|_| {
                let hasher = hasher.clone();
                tokio::spawn(async move { hasher.hash(&pw("some password")).await.unwrap() })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert!(hasher.pool.blocks.lock().unwrap().len() <= 2, "one block set per permit, reused");
    }
}
