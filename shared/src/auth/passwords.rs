//! argon2id password hashing with OWASP's parameters (19 MiB, t=2, p=1).
//!
//! Hashing is CPU-bound for tens of milliseconds, so both calls run on
//! Tokio's blocking pool and never stall the request executor.

use std::sync::{Arc, OnceLock};

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::domain::Password;

/// Hashing could not run: a broken parameter set or a lost blocking task.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("argon2 could not hash")]
    Argon2(#[source] argon2::password_hash::Error),
    #[error("the hashing task did not finish")]
    Task(#[source] tokio::task::JoinError),
}

#[derive(Clone, Default)]
pub struct PasswordHasher {
    /// A real hash of a random password, made on first use: verifying an
    /// unknown user's login against it costs the same as a wrong password.
    dummy: Arc<OnceLock<String>>,
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("OWASP argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_blocking(password: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(HashError::Argon2)
}

fn verify_blocking(password: &str, phc: &str) -> bool {
    // Parameters come from the stored string, so a later change of the
    // defaults still verifies old hashes.
    PasswordHash::new(phc).is_ok_and(|parsed| argon2().verify_password(password.as_bytes(), &parsed).is_ok())
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, HashError> {
    tokio::task::spawn_blocking(f).await.map_err(HashError::Task)
}

impl PasswordHasher {
    /// A PHC string: `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`.
    pub async fn hash(&self, password: &Password) -> Result<String, HashError> {
        let password = password.expose().to_owned();
        blocking(move || hash_blocking(&password)).await?
    }

    /// `stored` is `None` for an unknown user: the work is the same either way.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<bool, HashError> {
        let password = password.to_owned();
        let known = stored.is_some();
        let phc = match stored {
            Some(phc) => phc.to_owned(),
            None => self.dummy_hash().await?,
        };
        let matches = blocking(move || verify_blocking(&password, &phc)).await?;
        Ok(known && matches)
    }

    async fn dummy_hash(&self) -> Result<String, HashError> {
        if let Some(h) = self.dummy.get() {
            return Ok(h.clone());
        }
        let random = hex::encode(uuid::Uuid::new_v4().as_bytes());
        let made = blocking(move || hash_blocking(&random)).await??;
        Ok(self.dummy.get_or_init(|| made).clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PasswordPolicy;

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
}
