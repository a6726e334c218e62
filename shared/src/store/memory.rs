//! The embedded store of the local API and the fast tests. One mutex over
//! all data makes each method atomic, as a DynamoDB condition or
//! transaction is. Expired codes and counters are swept out every so many
//! writes, so its size follows live items, not all items ever written.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{
    AccountStore, BeginSmsError, CodeClaim, CodeStore, ConsumeCodeError, Counter, CreateUserError, LimitStore,
    PendingCode, StoreError, StoredCode, UserStore,
};
use crate::domain::{Mobile, User};

#[derive(Default)]
pub struct MemoryStore {
    data: Mutex<Data>,
}

#[derive(Default)]
struct Data {
    users: HashMap<Mobile, User>,
    codes: HashMap<Mobile, StoredCode>,
    /// Count and end of window, by key.
    counters: HashMap<String, (u32, i64)>,
    /// Keys of `first_time`, with their expiry.
    flags: HashMap<String, i64>,
    /// The latest time a caller has told us, for sweeping.
    now: i64,
    writes_since_sweep: usize,
    /// Items left by the last sweep.
    kept_by_last_sweep: usize,
}

/// The fewest writes between two sweeps of expired items.
const SWEEP_EVERY: usize = 1024;

impl Data {
    /// Items a sweep looks at.
    fn expiring(&self) -> usize {
        self.codes.len() + self.counters.len() + self.flags.len()
    }

    /// A sweep reads every expiring item, so it waits for as many writes as
    /// the last one kept (and at least `SWEEP_EVERY`): each write pays for
    /// a bounded share of a sweep however large the store, and the store
    /// stays within about twice the items still live at the last sweep plus
    /// what was written since. (A sweep every 1,024 writes read the whole
    /// store each time: with 500,000 live items, 500 items per write.)
    fn wrote(&mut self, now: Option<i64>) {
        self.now = self.now.max(now.unwrap_or(0));
        self.writes_since_sweep += 1;
        if self.writes_since_sweep >= SWEEP_EVERY.max(self.kept_by_last_sweep) {
            self.writes_since_sweep = 0;
            let now = self.now;
            self.codes.retain(|_, c| c.code_expires_at.max(c.resend_at) > now);
            self.counters.retain(|_, (_, ends)| *ends > now);
            self.flags.retain(|_, expires_at| *expires_at > now);
            self.kept_by_last_sweep = self.expiring();
        }
    }

    fn counter_allows(&self, counter: &Counter) -> bool {
        self.counters.get(&counter.key).is_none_or(|(n, _)| *n < counter.limit)
    }

    fn count(&mut self, counter: &Counter) -> u32 {
        let entry = self.counters.entry(counter.key.clone()).or_insert((0, counter.window_ends));
        entry.0 += 1;
        entry.0
    }

    fn uncount(&mut self, counter: &Counter) {
        if let Some((n, _)) = self.counters.get_mut(&counter.key) {
            *n = n.saturating_sub(1);
        }
    }
}

impl MemoryStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, Data> {
        // A panic while holding the lock cannot leave a half-written entry
        // (each method does one insert or remove), so a poisoned lock is safe to reuse.
        self.data.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait::async_trait]
impl UserStore for MemoryStore {
    async fn find_user(&self, mobile: &Mobile) -> Result<Option<User>, StoreError> {
        Ok(self.lock().users.get(mobile).cloned())
    }
}

#[async_trait::async_trait]
impl CodeStore for MemoryStore {
    async fn begin_sms(
        &self,
        mobile: &Mobile,
        pending: &PendingCode,
        counters: &[Counter],
        now: i64,
    ) -> Result<(), BeginSmsError> {
        let mut data = self.lock();
        match (data.users.contains_key(mobile), pending.purpose.needs_registered_mobile()) {
            (true, false) => return Err(BeginSmsError::Registered),
            (false, true) => return Err(BeginSmsError::NotRegistered),
            _ => {}
        }
        if let Some(last) = data.codes.get(mobile).filter(|c| c.resend_at > now) {
            return Err(BeginSmsError::TooFrequent { resend_at: last.resend_at });
        }
        if let Some(counter) = counters.iter().position(|c| !data.counter_allows(c)) {
            return Err(BeginSmsError::LimitReached { counter });
        }
        for counter in counters {
            data.count(counter);
        }
        data.codes.insert(
            mobile.clone(),
            StoredCode {
                send_id: pending.send_id.clone(),
                code_hash: pending.code_hash.clone(),
                purpose: pending.purpose,
                attempts: 0,
                code_expires_at: pending.code_expires_at,
                resend_at: pending.resend_at,
            },
        );
        data.wrote(Some(now));
        Ok(())
    }

    async fn release_sms(&self, mobile: &Mobile, send_id: &str, counters: &[Counter]) -> Result<(), StoreError> {
        let mut data = self.lock();
        if data.codes.get(mobile).is_some_and(|c| c.send_id == send_id) {
            data.codes.remove(mobile);
        }
        // Whatever became of the code, this send texted nothing.
        for counter in counters {
            data.uncount(counter);
        }
        Ok(())
    }

    async fn find_code(&self, mobile: &Mobile, now: i64) -> Result<Option<StoredCode>, StoreError> {
        Ok(self.lock().codes.get(mobile).filter(|c| c.code_expires_at > now).cloned())
    }

    async fn record_failed_attempt(&self, mobile: &Mobile, claim: CodeClaim<'_>) -> Result<Option<u32>, StoreError> {
        let mut data = self.lock();
        let code = data.codes.get_mut(mobile).filter(|c| claim.allows(c));
        Ok(code.map(|c| {
            c.attempts += 1;
            c.attempts
        }))
    }
}

#[async_trait::async_trait]
impl AccountStore for MemoryStore {
    async fn create_user(&self, user: &User, claim: CodeClaim<'_>) -> Result<(), CreateUserError> {
        let mut data = self.lock();
        if data.users.contains_key(&user.mobile) {
            return Err(CreateUserError::Registered);
        }
        if !data.codes.get(&user.mobile).is_some_and(|c| claim.allows(c)) {
            return Err(CreateUserError::CodeGone);
        }
        data.codes.remove(&user.mobile);
        data.users.insert(user.mobile.clone(), user.clone());
        Ok(())
    }

    async fn consume_code(&self, mobile: &Mobile, claim: CodeClaim<'_>) -> Result<(), ConsumeCodeError> {
        let mut data = self.lock();
        if !data.codes.get(mobile).is_some_and(|c| claim.allows(c)) {
            return Err(ConsumeCodeError::CodeGone);
        }
        data.codes.remove(mobile);
        Ok(())
    }

    async fn reset_password(&self, user: &User, claim: CodeClaim<'_>) -> Result<(), ConsumeCodeError> {
        let mut data = self.lock();
        if !data.codes.get(&user.mobile).is_some_and(|c| claim.allows(c)) {
            return Err(ConsumeCodeError::CodeGone);
        }
        let Some(stored) = data.users.get_mut(&user.mobile) else {
            return Err(ConsumeCodeError::NotRegistered);
        };
        stored.password_hash.clone_from(&user.password_hash);
        stored.token_version = user.token_version;
        data.codes.remove(&user.mobile);
        Ok(())
    }
}

#[async_trait::async_trait]
impl LimitStore for MemoryStore {
    async fn take(&self, counter: &Counter) -> Result<Option<u32>, StoreError> {
        let mut data = self.lock();
        if !data.counter_allows(counter) {
            return Ok(None);
        }
        let n = data.count(counter);
        data.wrote(None);
        Ok(Some(n))
    }

    async fn give_back(&self, counter: &Counter) -> Result<(), StoreError> {
        self.lock().uncount(counter);
        Ok(())
    }

    async fn first_time(&self, key: &str, expires_at: i64) -> Result<bool, StoreError> {
        let mut data = self.lock();
        let now = data.now;
        let first = match data.flags.get(key) {
            Some(expiry) => *expiry <= now,
            None => true,
        };
        if first {
            data.flags.insert(key.to_owned(), expires_at);
            data.wrote(None);
        }
        Ok(first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Purpose;
    use crate::store::PendingCode;

    async fn send(store: &MemoryStore, n: u32, now: i64) {
        let mobile = Mobile::parse(&format!("139{n:08}")).unwrap();
        let pending = PendingCode {
            send_id: format!("s-{n}"),
            code_hash: String::new(),
            purpose: Purpose::Register,
            code_expires_at: now + 300,
            resend_at: now + 60,
        };
        store.begin_sms(&mobile, &pending, &[], now).await.unwrap();
    }

    #[tokio::test]
    async fn expired_codes_are_forgotten_so_the_store_follows_the_live_ones() {
        let store = MemoryStore::default();
        for n in 0..20_000 {
            send(&store, n, 0).await;
        }
        // Every one of those has expired by t=1,000; 20,000 more are live.
        for n in 20_000..40_000 {
            send(&store, n, 1_000).await;
        }
        let items = store.lock().expiring();
        println!("40,000 codes sent, 20,000 of them expired: {items} items kept");
        assert!(items < 30_000, "{items} items for 20,000 live codes");
    }
}
