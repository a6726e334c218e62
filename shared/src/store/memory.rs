//! The embedded store of the local API and the fast tests. One mutex over
//! all data makes each method atomic, as a DynamoDB condition or
//! transaction is. Expired codes and counters are swept out a shard at a
//! time every so many writes, so its size follows live items, not all
//! items ever written, and no request waits for the whole store to be
//! read or copied. A live code takes no allocation of its own.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, RandomState};
use std::sync::Mutex;

use super::{
    AccountStore, BeginSmsError, CodeClaim, CodeStore, ConsumeCodeError, Counter, CreateUserError, LimitStore,
    PendingCode, StoreError, StoredCode, UserStore,
};
use crate::domain::{Mobile, Purpose, User};

#[derive(Default)]
pub struct MemoryStore {
    data: Mutex<Data>,
    /// Outside the lock: a counter's key is hashed before the lock is taken.
    counter_keys: CounterKeys,
}

#[derive(Default)]
struct Data {
    users: HashMap<Mobile, User>,
    /// By `Mobile::as_number`.
    codes: Shards<u64, Code>,
    /// Count and end of window (`window_end`), by `CounterKeys::of` the counter's key.
    counters: Shards<CounterKey, (u32, u32)>,
    /// Keys of `first_time`, with their expiry.
    flags: HashMap<String, i64>,
    /// The latest time a caller has told us, for sweeping.
    now: i64,
    writes_since_sweep: usize,
    /// Items left in the shard the last sweep read.
    kept_by_last_sweep: usize,
}

/// A code as this store keeps it: 88 bytes with its key, and no
/// allocation of its own when its ids are hex (as the service writes them).
struct Code {
    ids: Ids,
    purpose: Purpose,
    attempts: u32,
    code_expires_at: i64,
    resend_at: i64,
}

impl Code {
    fn new(pending: &PendingCode) -> Self {
        Self {
            ids: Ids::new(&pending.send_id, &pending.code_hash),
            purpose: pending.purpose,
            attempts: 0,
            code_expires_at: pending.code_expires_at,
            resend_at: pending.resend_at,
        }
    }

    fn stored(&self) -> StoredCode {
        let (send_id, code_hash) = self.ids.texts();
        StoredCode {
            send_id,
            code_hash,
            purpose: self.purpose,
            attempts: self.attempts,
            code_expires_at: self.code_expires_at,
            resend_at: self.resend_at,
        }
    }

    fn is(&self, send_id: &str) -> bool {
        self.ids.is(send_id)
    }

    fn allows(&self, claim: &CodeClaim<'_>) -> bool {
        claim.allows(self.is(claim.send_id), self.code_expires_at, self.attempts)
    }
}

/// A code's send id and hash: 16 and 32 bytes when both are lowercase hex
/// of twice those lengths (so that they read back the same), their text
/// otherwise. One enum for the two, as each in an enum of its own spent a
/// tag and its padding: 8 bytes a code more.
enum Ids {
    Bytes { send_id: [u8; 16], code_hash: [u8; 32] },
    Text(Box<(Box<str>, Box<str>)>),
}

impl Ids {
    fn new(send_id: &str, code_hash: &str) -> Self {
        match (lower_hex(send_id), lower_hex(code_hash)) {
            (Some(send_id), Some(code_hash)) => Self::Bytes { send_id, code_hash },
            _ => Self::Text(Box::new((send_id.into(), code_hash.into()))),
        }
    }

    fn is(&self, send_id: &str) -> bool {
        match self {
            Self::Bytes { send_id: bytes, .. } => lower_hex(send_id).is_some_and(|other: [u8; 16]| other == *bytes),
            Self::Text(texts) => *texts.0 == *send_id,
        }
    }

    /// The send id and the hash, as they were written.
    fn texts(&self) -> (String, String) {
        match self {
            Self::Bytes { send_id, code_hash } => (crate::hex_text::lower(send_id), crate::hex_text::lower(code_hash)),
            Self::Text(texts) => (texts.0.to_string(), texts.1.to_string()),
        }
    }
}

/// `text` as `N` bytes when it is exactly `2N` lowercase hex digits: one
/// pass that checks and decodes, as every send writes two ids.
fn lower_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    /// A lowercase hex digit's value.
    fn nibble(digit: u8) -> Option<u8> {
        match digit {
            b'0'..=b'9' => Some(digit - b'0'),
            b'a'..=b'f' => Some(digit - b'a' + 10),
            _ => None,
        }
    }
    let digits = text.as_bytes();
    if digits.len() != 2 * N {
        return None;
    }
    let mut bytes = [0; N];
    for (pair, byte) in digits.chunks_exact(2).zip(&mut bytes) {
        *byte = nibble(pair[0])? << 4 | nibble(pair[1])?;
    }
    Some(bytes)
}

/// A counter's key as 128 bits: SipHash, under this process's random key,
/// of the key text told apart by a first byte, once with 0 and once with 1.
/// Two of a million keys meet with a chance of about 10⁻²⁷, and the store
/// keeps no key text, which a live code's counters would otherwise spend
/// more memory on than the code itself.
#[derive(Default)]
struct CounterKeys {
    hasher: RandomState,
}

impl CounterKeys {
    fn of(&self, counter: &Counter) -> CounterKey {
        let half = |part: u8| self.hasher.hash_one((part, counter.key.as_str()));
        [half(0), half(1)]
    }
}

/// 128 bits as two halves: a `u128` would align each counter's entry to 16
/// bytes, 32 with its count and window where 24 do.
type CounterKey = [u64; 2];

/// A window's end as the store keeps it, in 4 bytes: Unix seconds, which
/// fit until 2106 (a time outside is held at the nearer end). Only a
/// sweep reads it: a counter of a past window is never looked up again, as
/// the window is part of its key.
fn window_end(unix_seconds: i64) -> u32 {
    unix_seconds.clamp(0, i64::from(u32::MAX)) as u32
}

/// Shards of a map. Growing a map copies all of it and a sweep reads all
/// of it, both under the store's one lock: with a million codes in one
/// map, every request waited tens of milliseconds now and then. In
/// shards, each grows and is swept on its own, a 64th of the items at a time.
struct Shards<K, V> {
    hasher: RandomState,
    shards: Vec<Slots<K, V>>,
    /// The shard the next sweep reads.
    next_sweep: usize,
}

const SHARDS: usize = 64;

impl<K, V> Default for Shards<K, V> {
    fn default() -> Self {
        Self { hasher: RandomState::new(), shards: (0..SHARDS).map(|_| Slots::default()).collect(), next_sweep: 0 }
    }
}

impl<K: Hash + Eq, V> Shards<K, V> {
    /// The key's shard (the hash's top bits) and its hash within the shard
    /// (turned so that the bits that chose the shard are not the ones the
    /// table places and tags by).
    fn place(&self, key: &K) -> (usize, u64) {
        let hash = self.hasher.hash_one(key);
        ((hash >> 58) as usize % SHARDS, hash.rotate_left(32))
    }

    fn hash_in_shard(hasher: &RandomState, key: &K) -> u64 {
        hasher.hash_one(key).rotate_left(32)
    }

    fn get(&self, key: &K) -> Option<&V> {
        let (shard, hash) = self.place(key);
        self.shards[shard].get(hash, key)
    }

    fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        let (shard, hash) = self.place(key);
        self.shards[shard].get_mut(hash, key)
    }

    fn insert(&mut self, key: K, value: V) {
        let mut value = Some(value);
        let (inserted, stored) = self.or_insert_with(key, || value.take().expect("taken once"));
        if !inserted {
            *stored = value.take().expect("not taken");
        }
    }

    /// The value under `key`, made by `new` when there is none.
    fn or_insert(&mut self, key: K, new: impl FnOnce() -> V) -> &mut V {
        self.or_insert_with(key, new).1
    }

    /// Whether `new` made the value, and the value.
    fn or_insert_with(&mut self, key: K, new: impl FnOnce() -> V) -> (bool, &mut V) {
        let (shard, hash) = self.place(&key);
        let hasher = &self.hasher;
        self.shards[shard].or_insert_with(hash, key, new, |key| Self::hash_in_shard(hasher, key))
    }

    fn remove(&mut self, key: &K) {
        let (shard, hash) = self.place(key);
        self.shards[shard].remove(hash, key);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.shards.iter().map(|s| s.index.len()).sum()
    }

    /// Keeps what `keep` accepts in the next shard; returns how many it kept.
    fn sweep_next(&mut self, keep: impl FnMut(&V) -> bool) -> usize {
        let shard = &mut self.shards[self.next_sweep];
        self.next_sweep = (self.next_sweep + 1) % SHARDS;
        shard.retain(keep)
    }
}

/// One shard: a hash table of 4-byte slot numbers over a vector of the
/// entries. A hash table is never more than seven-eighths full and, just
/// after it doubles, is half empty; here that slack costs 5 bytes an item
/// instead of a whole entry (88 bytes for a code), and the entries grow by
/// an eighth at a time (a quarter until the local API's peak under send
/// came near 100 MB: the vector's unused tail is an entry's size a slot).
/// Before, with the entries in the table itself, the
/// local API's memory leapt from 84 to 154 MB when the codes passed
/// 458,000 (64 shards of 7,168), which ten seconds of send at 46,000/s do.
/// A freed slot keeps its old entry until it is reused, and neither vector
/// shrinks: a shard keeps the room of its largest day.
struct Slots<K, V> {
    index: hashbrown::HashTable<u32>,
    entries: Vec<(K, V)>,
    /// Slots of removed entries, reused first.
    free: Vec<u32>,
}

impl<K, V> Default for Slots<K, V> {
    fn default() -> Self {
        Self { index: hashbrown::HashTable::new(), entries: Vec::new(), free: Vec::new() }
    }
}

impl<K: Eq, V> Slots<K, V> {
    fn find(&self, hash: u64, key: &K) -> Option<u32> {
        let entries = &self.entries;
        self.index.find(hash, |slot| entries[*slot as usize].0 == *key).copied()
    }

    fn get(&self, hash: u64, key: &K) -> Option<&V> {
        self.find(hash, key).map(|slot| &self.entries[slot as usize].1)
    }

    fn get_mut(&mut self, hash: u64, key: &K) -> Option<&mut V> {
        self.find(hash, key).map(|slot| &mut self.entries[slot as usize].1)
    }

    /// Whether `new` made the value (there was none under `key`), and the
    /// value. `rehash` gives the hash of a stored key when the table grows.
    fn or_insert_with(
        &mut self,
        hash: u64,
        key: K,
        new: impl FnOnce() -> V,
        rehash: impl Fn(&K) -> u64,
    ) -> (bool, &mut V) {
        if let Some(slot) = self.find(hash, &key) {
            return (false, &mut self.entries[slot as usize].1);
        }
        // Made before a slot is taken: a panic in `new` loses no slot.
        let entry = (key, new());
        let slot = match self.free.pop() {
            Some(slot) => {
                self.entries[slot as usize] = entry;
                slot
            }
            None => {
                if self.entries.len() == self.entries.capacity() {
                    self.entries.reserve_exact((self.entries.len() / 8).max(16));
                }
                self.entries.push(entry);
                u32::try_from(self.entries.len() - 1).expect("fewer than 2^32 items a shard")
            }
        };
        let entries = &self.entries;
        self.index.insert_unique(hash, slot, |slot| rehash(&entries[*slot as usize].0));
        (true, &mut self.entries[slot as usize].1)
    }

    fn remove(&mut self, hash: u64, key: &K) {
        let entries = &self.entries;
        if let Ok(found) = self.index.find_entry(hash, |slot| entries[*slot as usize].0 == *key) {
            let (slot, _) = found.remove();
            self.free.push(slot);
        }
    }

    /// Keeps what `keep` accepts; returns how many it kept.
    fn retain(&mut self, mut keep: impl FnMut(&V) -> bool) -> usize {
        let (entries, free) = (&self.entries, &mut self.free);
        self.index.retain(|slot| {
            let kept = keep(&entries[*slot as usize].1);
            if !kept {
                free.push(*slot);
            }
            kept
        });
        self.index.len()
    }
}

/// The fewest writes between two sweeps of one shard of expired items.
const SWEEP_EVERY: usize = 16;

impl Data {
    /// Items a sweep looks at.
    #[cfg(test)]
    fn expiring(&self) -> usize {
        self.codes.len() + self.counters.len() + self.flags.len()
    }

    /// A sweep reads one shard of codes and one of counters (and, once a
    /// round, the few flags), and waits for as many writes as the last one
    /// kept (and at least `SWEEP_EVERY`): each write pays for about one
    /// item's share of a sweep however large the store, and after a round
    /// of all shards the store holds about the items live at its start plus
    /// those written during it. (Before shards, each sweep read the whole
    /// store at once: with 500,000 live items, every request waited for it
    /// now and then.)
    fn wrote(&mut self, now: Option<i64>) {
        self.now = self.now.max(now.unwrap_or(0));
        self.writes_since_sweep += 1;
        if self.writes_since_sweep >= SWEEP_EVERY.max(self.kept_by_last_sweep) {
            self.writes_since_sweep = 0;
            let now = self.now;
            if self.codes.next_sweep == 0 {
                self.flags.retain(|_, expires_at| *expires_at > now);
            }
            self.kept_by_last_sweep = self.codes.sweep_next(|c| c.code_expires_at.max(c.resend_at) > now)
                + self.counters.sweep_next(|(_, ends)| i64::from(*ends) > now);
        }
    }

    /// `key` is `CounterKeys::of(counter)`.
    fn counter_allows(&self, key: CounterKey, counter: &Counter) -> bool {
        self.counters.get(&key).is_none_or(|(n, _)| *n < counter.limit)
    }

    fn count(&mut self, key: CounterKey, counter: &Counter) -> u32 {
        let entry = self.counters.or_insert(key, || (0, window_end(counter.window_ends)));
        entry.0 += 1;
        entry.0
    }

    fn uncount(&mut self, key: CounterKey) {
        if let Some((n, _)) = self.counters.get_mut(&key) {
            *n = n.saturating_sub(1);
        }
    }

    fn code(&self, mobile: &Mobile) -> Option<&Code> {
        self.codes.get(&mobile.as_number())
    }

    /// The code `claim` names, if it still allows the write.
    fn claimed(&mut self, mobile: &Mobile, claim: &CodeClaim<'_>) -> Option<&mut Code> {
        self.codes.get_mut(&mobile.as_number()).filter(|c| c.allows(claim))
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
        let keys: Vec<CounterKey> = counters.iter().map(|c| self.counter_keys.of(c)).collect();
        let mut data = self.lock();
        match (data.users.contains_key(mobile), pending.purpose.needs_registered_mobile()) {
            (true, false) => return Err(BeginSmsError::Registered),
            (false, true) => return Err(BeginSmsError::NotRegistered),
            _ => {}
        }
        if let Some(last) = data.code(mobile).filter(|c| c.resend_at > now) {
            return Err(BeginSmsError::TooFrequent { resend_at: last.resend_at });
        }
        if let Some(counter) = counters.iter().zip(&keys).position(|(c, key)| !data.counter_allows(*key, c)) {
            return Err(BeginSmsError::LimitReached { counter });
        }
        for (counter, key) in counters.iter().zip(keys) {
            data.count(key, counter);
        }
        data.codes.insert(mobile.as_number(), Code::new(pending));
        data.wrote(Some(now));
        Ok(())
    }

    async fn release_sms(&self, mobile: &Mobile, send_id: &str, counters: &[Counter]) -> Result<(), StoreError> {
        let keys: Vec<CounterKey> = counters.iter().map(|c| self.counter_keys.of(c)).collect();
        let mut data = self.lock();
        if data.code(mobile).is_some_and(|c| c.is(send_id)) {
            data.codes.remove(&mobile.as_number());
        }
        // Whatever became of the code, this send texted nothing.
        for key in keys {
            data.uncount(key);
        }
        Ok(())
    }

    async fn find_code(&self, mobile: &Mobile, now: i64) -> Result<Option<StoredCode>, StoreError> {
        Ok(self.lock().code(mobile).filter(|c| c.code_expires_at > now).map(Code::stored))
    }

    async fn record_failed_attempt(&self, mobile: &Mobile, claim: CodeClaim<'_>) -> Result<Option<u32>, StoreError> {
        let mut data = self.lock();
        Ok(data.claimed(mobile, &claim).map(|c| {
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
        if data.claimed(&user.mobile, &claim).is_none() {
            return Err(CreateUserError::CodeGone);
        }
        data.codes.remove(&user.mobile.as_number());
        data.users.insert(user.mobile.clone(), user.clone());
        Ok(())
    }

    async fn consume_code(&self, mobile: &Mobile, claim: CodeClaim<'_>) -> Result<(), ConsumeCodeError> {
        let mut data = self.lock();
        if data.claimed(mobile, &claim).is_none() {
            return Err(ConsumeCodeError::CodeGone);
        }
        data.codes.remove(&mobile.as_number());
        Ok(())
    }

    async fn reset_password(&self, user: &User, claim: CodeClaim<'_>) -> Result<(), ConsumeCodeError> {
        let mut data = self.lock();
        if data.claimed(&user.mobile, &claim).is_none() {
            return Err(ConsumeCodeError::CodeGone);
        }
        let Some(stored) = data.users.get_mut(&user.mobile) else {
            return Err(ConsumeCodeError::NotRegistered);
        };
        stored.password_hash.clone_from(&user.password_hash);
        stored.token_version = user.token_version;
        data.codes.remove(&user.mobile.as_number());
        Ok(())
    }
}

#[async_trait::async_trait]
impl LimitStore for MemoryStore {
    async fn take(&self, counter: &Counter) -> Result<Option<u32>, StoreError> {
        let key = self.counter_keys.of(counter);
        let mut data = self.lock();
        if !data.counter_allows(key, counter) {
            return Ok(None);
        }
        let n = data.count(key, counter);
        data.wrote(None);
        Ok(Some(n))
    }

    async fn give_back(&self, counter: &Counter) -> Result<(), StoreError> {
        let key = self.counter_keys.of(counter);
        self.lock().uncount(key);
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

    #[test]
    fn ids_read_back_exactly_as_written_whether_packed_or_not() {
        // 32 and 64 hex digits, as a send id and a hash are written, in lower and upper case.
        let (id, hash) = ("0123456789abcdef".repeat(2), "0123456789abcdef".repeat(4));
        let (upper, almost, accents) = (id.to_uppercase(), format!("{}g", &id[..31]), "é".repeat(16));
        for send_id in [id.as_str(), upper.as_str(), "s-1", "", "0123", &almost, &accents] {
            for code_hash in [hash.as_str(), "h"] {
                let ids = Ids::new(send_id, code_hash);
                assert_eq!(ids.texts(), (send_id.to_owned(), code_hash.to_owned()));
                assert!(ids.is(send_id), "{send_id:?} {code_hash:?}");
                assert!(!ids.is(&format!("{send_id}0")), "{send_id:?} {code_hash:?}");
                let packed = matches!(ids, Ids::Bytes { .. });
                assert_eq!(packed, send_id == id && code_hash == hash, "{send_id:?} {code_hash:?}");
            }
        }
        assert!(!Ids::new(&id, &hash).is(&upper), "a send id is its exact text");
    }

    #[test]
    fn a_code_with_its_key_takes_88_bytes_and_a_counter_24() {
        assert_eq!(std::mem::size_of::<(u64, Code)>(), 88);
        assert_eq!(std::mem::size_of::<(CounterKey, (u32, u32))>(), 24);
    }

    #[test]
    fn a_window_end_outside_what_4_bytes_hold_is_held_at_the_nearer_end() {
        assert_eq!(window_end(1_795_622_400), 1_795_622_400);
        assert_eq!(window_end(-5), 0);
        assert_eq!(window_end(i64::MAX), u32::MAX);
    }

    #[test]
    fn a_shard_finds_overwrites_removes_and_reuses_the_slots_it_freed() {
        let mut shards: Shards<u64, u64> = Shards::default();
        for key in 0..10_000 {
            shards.insert(key, key * 2);
        }
        shards.insert(7, 1);
        assert_eq!((shards.get(&7), shards.get(&8), shards.get(&10_000)), (Some(&1), Some(&16), None));
        *shards.or_insert(9, || 0) += 1;
        *shards.or_insert(10_000, || 5) += 1;
        assert_eq!((shards.get(&9), shards.get(&10_000)), (Some(&19), Some(&6)));
        shards.remove(&8);
        assert_eq!(shards.get(&8), None);
        for _ in 0..SHARDS {
            shards.sweep_next(|value| value % 2 == 1);
        }
        // Kept: 7 (1), 9 (19), 10,000 (6 is even: swept).
        assert_eq!(shards.len(), 2);
        let slots = |shards: &Shards<u64, u64>| shards.shards.iter().map(|s| s.entries.len()).sum::<usize>();
        let before = slots(&shards);
        for key in 20_000..29_000 {
            shards.insert(key, key);
        }
        // Slots are freed and reused shard by shard: a shard given more new
        // items than it freed grows by the difference, no more.
        let grown = slots(&shards) - before;
        println!("9,999 items swept, 9,000 put: {grown} new slots");
        assert!(grown < 500, "{grown} new slots for 9,000 items put after 9,999 were freed");
        assert!((20_000..29_000).all(|key| shards.get(&key) == Some(&key)));
        assert_eq!((shards.get(&7), shards.get(&9), shards.len()), (Some(&1), Some(&19), 9_002));
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
        let slots: usize = store.lock().codes.shards.iter().map(|s| s.entries.len()).sum();
        println!("40,000 codes sent, 20,000 of them expired: {items} items kept, {slots} code slots");
        assert!(items < 30_000, "{items} items for 20,000 live codes");
        // The expired codes' slots were reused, not added to.
        assert!(slots < 30_000, "{slots} code slots for 20,000 live codes");
    }
}
