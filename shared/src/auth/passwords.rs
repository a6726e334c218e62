//! argon2id password hashing with OWASP's parameters (19 MiB, t=2, p=1).
//!
//! Hashing is CPU-bound for tens of milliseconds and needs 19 MiB, so it
//! runs on threads of its own, never on the request executor, and at most
//! one hash per core runs at once (more would only queue inside the CPU and
//! multiply the memory): requests beyond that queue. A hashing thread takes
//! the next queued job as soon as it finishes one, with no hand-off through
//! the executor in between, so under load the cores do nothing but hash.
//! Threads start only when every running one is busy, and each hash borrows
//! its 19 MiB of blocks from a pool and gives them back, so memory stays at
//! one block set per hash that ever ran at once: a Lambda instance, which
//! serves one request at a time, keeps one thread and one block set.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use argon2::password_hash::{rand_core::OsRng, Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::oneshot;

use crate::domain::Password;

/// Hashing could not run: a broken parameter set or a lost hashing thread.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("argon2 could not hash")]
    Argon2(#[source] argon2::Error),
    #[error("argon2 could not encode the hash")]
    Encoding(#[source] argon2::password_hash::Error),
    #[error("no hashing thread could be started")]
    NoThread(#[source] std::io::Error),
    #[error("the hashing thread stopped before answering")]
    Lost,
}

/// An argon2id PHC string with the production parameters and a random salt
/// and output, shipped as a constant: no password is known to match it, and
/// verifying an unknown user's login against it costs a full argon2
/// computation, what a wrong password costs, from the very first request.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$y1uKBlgWnwA4yQwCahX3Tg$cnt0OsJ2N8P9a0y1pBYvmWfFkqVUwjX/hdSlnc7GvnQ";

const HASH_LEN: usize = 32;

/// The name of every hashing thread, as `/proc/<pid>/task/*/comm` shows it:
/// the benchmark reads their CPU time by it (`comm` keeps 15 bytes of a
/// name, so keep it shorter).
pub const THREAD_NAME: &str = "argon2";

fn params() -> Params {
    Params::new(19 * 1024, 2, 1, Some(HASH_LEN)).expect("OWASP argon2 parameters are valid")
}

/// One queued computation: runs with a block set and returns how to hand
/// its result to the caller (nothing is computed if the caller has gone).
type Job = Box<dyn FnOnce(&mut Vec<Block>) -> Answer + Send>;

/// Hands a finished job's result to its caller. The thread calls it only
/// after giving back its block set and counting itself free, so a caller
/// who hashes again at once finds this thread, not a new one.
type Answer = Box<dyn FnOnce() + Send>;

/// The queue, the hashing threads and their reusable memory, shared by the
/// threads and by the [`Pool`] that feeds them.
struct Shared {
    state: Mutex<State>,
    /// Signalled when a job is queued or the pool closes.
    work: Condvar,
    blocks: Mutex<Vec<Vec<Block>>>,
}

struct State {
    jobs: VecDeque<Job>,
    /// Threads started and not yet ended, at most `at_once`.
    threads: usize,
    /// Threads waiting for a job, or answering one and then taking the next.
    idle: usize,
    at_once: usize,
    /// Set when the last hasher is dropped: threads end once the queue is empty.
    closed: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Jobs run outside the lock, so a panicking job cannot poison it;
        // recovering keeps the queue usable regardless.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn lock_blocks(&self) -> MutexGuard<'_, Vec<Vec<Block>>> {
        // A panic mid-hash leaves at worst one block set out of the pool.
        self.blocks.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A hashing thread: takes jobs until the pool closes and the queue is empty.
    fn serve(&self) {
        let mut answer: Option<Answer> = None;
        loop {
            let job = {
                let mut state = self.lock();
                // Free from here on: a job queued while the last one is
                // being answered is this thread's, and starts no other.
                state.idle += 1;
                if let Some(answer) = answer.take() {
                    drop(state);
                    answer();
                    state = self.lock();
                }
                loop {
                    if let Some(job) = state.jobs.pop_front() {
                        state.idle -= 1;
                        break job;
                    }
                    if state.closed {
                        state.idle -= 1;
                        state.threads -= 1;
                        return;
                    }
                    state = self.work.wait(state).unwrap_or_else(|poisoned| poisoned.into_inner());
                }
            };
            let mut blocks = self.lock_blocks().pop().unwrap_or_default();
            // A panic inside argon2 drops this job's answer (its caller sees
            // `Lost`) and its block set, and the thread goes on.
            if let Ok(done) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut blocks))) {
                self.lock_blocks().push(blocks);
                answer = Some(done);
            }
        }
    }
}

/// Owned by the hashers: when the last one goes, the threads are told to end.
struct Pool {
    shared: Arc<Shared>,
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.work.notify_all();
    }
}

impl Pool {
    /// Queues `job`, starting a thread if every running one is busy and
    /// fewer than `at_once` run.
    fn submit(&self, job: Job) -> Result<(), HashError> {
        let mut state = self.shared.lock();
        state.jobs.push_back(job);
        if state.jobs.len() <= state.idle {
            self.shared.work.notify_one();
            return Ok(());
        }
        if state.threads < state.at_once {
            let shared = self.shared.clone();
            match std::thread::Builder::new().name(THREAD_NAME.into()).spawn(move || shared.serve()) {
                Ok(_) => state.threads += 1,
                // With no thread at all the job would wait forever: refuse it.
                Err(e) if state.threads == 0 => {
                    state.jobs.pop_back();
                    return Err(HashError::NoThread(e));
                }
                // Otherwise a running thread will take it.
                Err(_) => {}
            }
        }
        Ok(())
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
        let state = State { jobs: VecDeque::new(), threads: 0, idle: 0, at_once: at_once.max(1), closed: false };
        let shared = Shared { state: Mutex::new(state), work: Condvar::new(), blocks: Mutex::new(Vec::new()) };
        Self { pool: Arc::new(Pool { shared: Arc::new(shared) }), params: params() }
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

    /// Runs `f` on a hashing thread with a block set from the pool, once the
    /// jobs queued before it have started. If the caller stops waiting (its
    /// request was dropped) before a thread takes the job, `f` never runs.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let (answer, answered) = oneshot::channel();
        self.pool.submit(Box::new(move |blocks: &mut Vec<Block>| -> Answer {
            if answer.is_closed() {
                return Box::new(|| ());
            }
            let result = f(blocks);
            Box::new(move || {
                let _ = answer.send(result);
            })
        }))?;
        answered.await.map_err(|_| HashError::Lost)
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

    /// The pool's state as the tests read it: (threads, idle, block sets kept).
    fn pool_of(hasher: &PasswordHasher) -> (usize, usize, usize) {
        let shared = &hasher.pool.shared;
        let state = shared.lock();
        (state.threads, state.idle, shared.lock_blocks().len())
    }

    #[tokio::test]
    async fn no_more_jobs_run_at_once_than_the_pool_allows_and_the_rest_queue() {
        use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
        let hasher = PasswordHasher::with_parallelism(2);
        let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let jobs: Vec<_> = (0..6)
            .map(|_| {
                let (hasher, running, most) = (hasher.clone(), running.clone(), most.clone());
                tokio::spawn(async move {
                    hasher
                        .run(move |_| {
                            most.fetch_max(running.fetch_add(1, SeqCst) + 1, SeqCst);
                            std::thread::sleep(std::time::Duration::from_millis(30));
                            running.fetch_sub(1, SeqCst);
                        })
                        .await
                        .unwrap()
                })
            })
            .collect();
        for job in jobs {
            job.await.unwrap();
        }
        println!("6 jobs queued at once, 2 allowed: at most {} ran together", most.load(SeqCst));
        assert_eq!(most.load(SeqCst), 2);
        assert_eq!(pool_of(&hasher).0, 2, "two threads started, no more");
    }

    #[tokio::test]
    async fn concurrent_hashes_reuse_one_block_set_per_thread() {
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
        let (threads, _, blocks) = pool_of(&hasher);
        assert!(
            (1..=2).contains(&threads) && (1..=threads).contains(&blocks),
            "{threads} threads, {blocks} block sets"
        );
    }

    #[tokio::test]
    async fn hashes_one_after_another_keep_one_thread_and_one_block_set() {
        // A Lambda instance serves one request at a time: its memory must
        // stay at one block set however many cores it reports.
        // The next hash is asked for the moment the last one is answered.
        let hasher = PasswordHasher::with_parallelism(4);
        for _ in 0..20 {
            hasher.hash(&pw("some password")).await.unwrap();
        }
        assert_eq!(pool_of(&hasher), (1, 1, 1), "(threads, free, block sets)");
    }

    #[tokio::test]
    async fn a_job_whose_caller_stopped_waiting_is_never_computed() {
        use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
        use std::time::Duration;
        let hasher = PasswordHasher::with_parallelism(1);
        let computed = Arc::new(AtomicUsize::new(0));
        let busy = tokio::spawn({
            let hasher = hasher.clone();
            async move { hasher.run(|_| std::thread::sleep(Duration::from_millis(200))).await.unwrap() }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        let counted = computed.clone();
        let gave_up =
            tokio::time::timeout(Duration::from_millis(20), hasher.run(move |_| counted.fetch_add(1, SeqCst))).await;
        assert!(gave_up.is_err(), "the only thread was busy, so the job was still queued");
        busy.await.unwrap();
        let counted = computed.clone();
        hasher.run(move |_| counted.fetch_add(1, SeqCst)).await.unwrap();
        assert_eq!(computed.load(SeqCst), 1, "only the job someone waited for ran");
    }

    #[tokio::test]
    async fn a_panic_while_hashing_fails_that_request_and_the_thread_goes_on() {
        let hasher = PasswordHasher::with_parallelism(1);
        let lost = hasher.run(|_| -> () { panic!("a hash that panics") }).await;
        assert!(matches!(lost, Err(HashError::Lost)), "{lost:?}");
        // The pool's only thread: had it died, the next job would wait forever.
        let next = tokio::time::timeout(std::time::Duration::from_secs(5), hasher.verify("whatever1", None)).await;
        assert!(matches!(next, Ok(Ok(false))), "{next:?}");
    }

    #[tokio::test]
    async fn dropping_the_last_hasher_ends_its_threads() {
        let hasher = PasswordHasher::with_parallelism(2);
        let shared = hasher.pool.shared.clone();
        let (a, b) = (hasher.clone(), hasher.clone());
        let password = pw("some password");
        let (x, y) = tokio::join!(a.hash(&password), b.hash(&password));
        x.unwrap();
        y.unwrap();
        drop((a, b, hasher));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while shared.lock().threads > 0 {
            assert!(std::time::Instant::now() < deadline, "threads still running");
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }
}
