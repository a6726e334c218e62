//! HS256 access tokens issued on register and login.

use jsonwebtoken::{encode, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use serde::{Deserialize, Serialize};

use crate::domain::User;

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// User id.
    pub sub: String,
    pub username: String,
    pub iat: i64,
    pub exp: i64,
}

/// A token could not be signed.
#[derive(Debug, thiserror::Error)]
#[error("could not sign a token")]
pub struct TokenError(#[source] jsonwebtoken::errors::Error);

/// Signs tokens with the one HS256 key, built once per cold start.
pub struct TokenSigner {
    key: EncodingKey,
    ttl_seconds: i64,
}

impl TokenSigner {
    pub fn new(secret: &SecretSlice<u8>, ttl_seconds: i64) -> Self {
        Self { key: EncodingKey::from_secret(secret.expose_secret()), ttl_seconds }
    }

    pub fn ttl_seconds(&self) -> i64 {
        self.ttl_seconds
    }

    pub fn sign(&self, user: &User, now: i64) -> Result<SecretString, TokenError> {
        let claims = Claims {
            sub: user.id.0.clone(),
            username: user.username().to_owned(),
            iat: now,
            exp: now + self.ttl_seconds,
        };
        encode(&Header::default(), &claims, &self.key).map(SecretString::from).map_err(TokenError)
    }
}
