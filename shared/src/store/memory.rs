//! The embedded store of the local API and the fast tests. One mutex over
//! all data makes each method atomic, as a DynamoDB condition or
//! transaction is.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{
    AccountStore, BeginSmsError, CodeClaim, CodeStore, CreateUserError, PendingCode, StoreError, StoredCode, UserStore,
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
    async fn begin_sms(&self, mobile: &Mobile, pending: &PendingCode, now: i64) -> Result<(), BeginSmsError> {
        let mut data = self.lock();
        if data.users.contains_key(mobile) {
            return Err(BeginSmsError::Registered);
        }
        if let Some(last) = data.codes.get(mobile).filter(|c| c.resend_at > now) {
            return Err(BeginSmsError::TooFrequent { resend_at: last.resend_at });
        }
        // Expired codes are dropped when a new one comes: the map holds at
        // most one code per mobile that asked, and only for the local run.
        data.codes.insert(
            mobile.clone(),
            StoredCode {
                send_id: pending.send_id.clone(),
                code_hash: pending.code_hash.clone(),
                attempts: 0,
                code_expires_at: pending.code_expires_at,
                resend_at: pending.resend_at,
            },
        );
        Ok(())
    }

    async fn release_sms(&self, mobile: &Mobile, send_id: &str) -> Result<(), StoreError> {
        let mut data = self.lock();
        if data.codes.get(mobile).is_some_and(|c| c.send_id == send_id) {
            data.codes.remove(mobile);
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
}
