//! Persistence behind one trait, with a DynamoDB and an in-memory
//! implementation that behave alike (one conformance suite runs on both:
//! `tests/tests/store_conformance.rs`).
//!
//! Every check-then-act is a single conditional write or transaction, and
//! every read and condition compares expiry times itself: DynamoDB's TTL
//! deletes expired items lazily, so an item past `expires_at` may still be
//! there and must count as absent.

mod dynamodb;
mod memory;

pub use dynamodb::DynamoStore;
pub use memory::MemoryStore;

use crate::domain::{Mobile, Purpose, User};

/// A code about to be texted: written before the SMS goes out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingCode {
    /// Random id of this send: later writes name it, so they can only touch
    /// the code they read, never a newer one.
    pub send_id: String,
    pub code_hash: String,
    /// What the code may be used for; also whether the number must be registered.
    pub purpose: Purpose,
    /// Unix seconds after which the code is invalid.
    pub code_expires_at: i64,
    /// Unix seconds before which no other code may be sent to this mobile.
    pub resend_at: i64,
}

impl PendingCode {
    /// When the whole item may go: TTL attribute `expires_at`.
    pub fn expires_at(&self) -> i64 {
        self.code_expires_at.max(self.resend_at)
    }
}

/// A live code as read back from the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCode {
    pub send_id: String,
    pub code_hash: String,
    pub purpose: Purpose,
    pub attempts: u32,
    pub code_expires_at: i64,
    pub resend_at: i64,
}

/// Names the exact code a write may touch, and the conditions it must still meet.
#[derive(Debug, Clone, Copy)]
pub struct CodeClaim<'a> {
    pub send_id: &'a str,
    pub max_attempts: u32,
    pub now: i64,
}

impl CodeClaim<'_> {
    /// Whether a code is still usable: the claimed one (`claimed`, as the
    /// store compares send ids), not expired, with attempts left. The same
    /// rule the DynamoDB store writes as a condition expression.
    pub fn allows(&self, claimed: bool, code_expires_at: i64, attempts: u32) -> bool {
        claimed && code_expires_at > self.now && attempts < self.max_attempts
    }
}

/// The store could not answer: unreachable, refused, or an item it could not read.
#[derive(Debug, thiserror::Error)]
#[error("store unavailable")]
pub struct StoreError(#[source] pub Box<dyn std::error::Error + Send + Sync>);

impl StoreError {
    pub fn new(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self(e.into())
    }
}

/// A fixed-window counter (`LIMIT#…`). The window is part of the key, so a
/// past window's item, whether TTL has deleted it yet or not, never counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counter {
    pub key: String,
    /// The count at which it refuses.
    pub limit: u32,
    /// Unix seconds at which this window ends (the item's `expires_at`).
    pub window_ends: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum BeginSmsError {
    #[error("mobile already registered")]
    Registered,
    /// A login or reset code for a number nobody has registered.
    #[error("mobile not registered")]
    NotRegistered,
    #[error("another code was sent recently")]
    TooFrequent { resend_at: i64 },
    /// The counter at this index of the ones given has reached its limit.
    #[error("a limit is reached")]
    LimitReached { counter: usize },
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("mobile already registered")]
    Registered,
    #[error("the claimed code is used, replaced, expired or burnt")]
    CodeGone,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, thiserror::Error)]
pub enum ConsumeCodeError {
    #[error("the claimed code is used, replaced, expired or burnt")]
    CodeGone,
    #[error("no user has this mobile")]
    NotRegistered,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reading users.
#[async_trait::async_trait]
pub trait UserStore: Send + Sync {
    async fn find_user(&self, mobile: &Mobile) -> Result<Option<User>, StoreError>;
}

/// Codes texted to numbers: recording a send, reading and counting guesses.
#[async_trait::async_trait]
pub trait CodeStore: Send + Sync {
    /// Records a new code and counts one against each counter, unless the
    /// mobile is registered, the last code's resend interval has not passed
    /// or a counter is at its limit: one atomic step, so of many concurrent
    /// sends exactly as many proceed to text a code as the limits allow.
    /// Replaces any older code (and its attempt count). When several
    /// conditions fail, registered comes first, then the interval, then the
    /// first counter in the order given.
    async fn begin_sms(
        &self,
        mobile: &Mobile,
        pending: &PendingCode,
        counters: &[Counter],
        now: i64,
    ) -> Result<(), BeginSmsError>;

    /// Undoes `begin_sms` after the provider failed: the interval is freed,
    /// the unsent code unusable and the counters given back. Only the code
    /// of this `send_id` goes.
    async fn release_sms(&self, mobile: &Mobile, send_id: &str, counters: &[Counter]) -> Result<(), StoreError>;

    /// The live code of a mobile, or `None` if there is none or it has expired.
    async fn find_code(&self, mobile: &Mobile, now: i64) -> Result<Option<StoredCode>, StoreError>;

    /// Counts a wrong guess against the claimed code; returns the attempts
    /// made so far, or `None` when that code is no longer live.
    async fn record_failed_attempt(&self, mobile: &Mobile, claim: CodeClaim<'_>) -> Result<Option<u32>, StoreError>;
}

/// Writes that span users and codes: one transaction each.
#[async_trait::async_trait]
pub trait AccountStore: Send + Sync {
    /// Consumes the claimed code and creates the user, both or neither.
    async fn create_user(&self, user: &User, claim: CodeClaim<'_>) -> Result<(), CreateUserError>;

    /// Consumes the claimed code (a login by code): once, whoever races.
    async fn consume_code(&self, mobile: &Mobile, claim: CodeClaim<'_>) -> Result<(), ConsumeCodeError>;

    /// Consumes the claimed code and sets the user's password hash and
    /// token version (`user` as it is to be stored, its `token_version` one
    /// above the stored one), both or neither.
    async fn reset_password(&self, user: &User, claim: CodeClaim<'_>) -> Result<(), ConsumeCodeError>;
}

/// Abuse limits: counters that hold across every instance of the service.
#[async_trait::async_trait]
pub trait LimitStore: Send + Sync {
    /// Counts one against `counter` unless it has reached its limit, in one
    /// conditional write; the count after, or `None` when refused.
    async fn take(&self, counter: &Counter) -> Result<Option<u32>, StoreError>;

    /// Gives back one that `take` (or `begin_sms`) counted.
    async fn give_back(&self, counter: &Counter) -> Result<(), StoreError>;

    /// `true` for the first caller with this key until `expires_at`, `false`
    /// for every later one: for things that must happen once in a fleet.
    async fn first_time(&self, key: &str, expires_at: i64) -> Result<bool, StoreError>;
}

/// Everything a whole service needs; each use case is handed only the capabilities above it uses.
pub trait Store: UserStore + CodeStore + AccountStore + LimitStore {}

impl<T: UserStore + CodeStore + AccountStore + LimitStore> Store for T {}
