//! HS256 access tokens issued on register and login.

use jsonwebtoken::{encode, EncodingKey, Header};
use serde::{Deserialize, Serialize};

use crate::domain::User;
use crate::error::ApiError;

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// User id.
    pub sub: String,
    pub username: String,
    pub iat: i64,
    pub exp: i64,
}

pub struct TokenIssuer {
    key: EncodingKey,
    ttl_seconds: i64,
}

impl TokenIssuer {
    pub fn new(secret: &[u8], ttl_seconds: i64) -> Self {
        Self { key: EncodingKey::from_secret(secret), ttl_seconds }
    }

    pub fn ttl_seconds(&self) -> i64 {
        self.ttl_seconds
    }

    pub fn issue(&self, user: &User, now: i64) -> Result<String, ApiError> {
        let claims = Claims {
            sub: user.id.0.clone(),
            username: user.username().to_owned(),
            iat: now,
            exp: now + self.ttl_seconds,
        };
        encode(&Header::default(), &claims, &self.key).map_err(|e| ApiError::Internal(format!("jwt: {e}")))
    }
}
