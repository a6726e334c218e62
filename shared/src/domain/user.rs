//! A registered user as the store keeps it.

use super::Mobile;

/// Random (v4) UUID, assigned at registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserId(pub String);

impl UserId {
    pub fn new_random() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    /// The normalised mobile; also the login name.
    pub mobile: Mobile,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Goes up by one at each password reset; a token carries the version it
    /// was issued under, so a reset voids every token issued before it.
    pub token_version: u32,
}

impl User {
    pub fn username(&self) -> &str {
        self.mobile.as_str()
    }
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("mobile", &self.mobile)
            .field("created_at", &self.created_at)
            .field("token_version", &self.token_version)
            .finish_non_exhaustive()
    }
}
