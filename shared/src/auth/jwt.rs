//! HS256 access tokens: issued on register and login, checked by `GET /user/me`.

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
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
    /// The user's token version when issued: a password reset raises it.
    #[serde(default)]
    pub ver: u32,
}

/// Seconds a token is still taken after its `exp`, for clocks that differ a little.
pub const LEEWAY_SECONDS: i64 = 30;

/// A token could not be signed.
#[derive(Debug, thiserror::Error)]
#[error("could not sign a token")]
pub struct TokenError(#[source] jsonwebtoken::errors::Error);

/// Why a presented token is refused.
#[derive(Debug, thiserror::Error)]
pub enum InvalidToken {
    #[error("no bearer token")]
    Missing,
    /// Malformed, another algorithm, a bad signature or a missing claim.
    #[error("the token does not verify")]
    Unverified(#[source] jsonwebtoken::errors::Error),
    #[error("the token has expired")]
    Expired,
    #[error("the token names no such user")]
    UnknownUser,
    #[error("the token was issued before the last password reset")]
    Superseded,
}

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
            ver: user.token_version,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.key).map(SecretString::from).map_err(TokenError)
    }
}

/// Checks tokens: HS256 only (the header cannot choose another algorithm),
/// signature, and `exp` required and compared with the service's clock.
pub struct TokenVerifier {
    key: DecodingKey,
    validation: Validation,
}

impl TokenVerifier {
    pub fn new(secret: &SecretSlice<u8>) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub"]);
        // Expiry is checked below against the service's clock, which tests can move.
        validation.validate_exp = false;
        Self { key: DecodingKey::from_secret(secret.expose_secret()), validation }
    }

    pub fn verify(&self, token: &SecretString, now: i64) -> Result<Claims, InvalidToken> {
        let claims = decode::<Claims>(token.expose_secret(), &self.key, &self.validation)
            .map_err(InvalidToken::Unverified)?
            .claims;
        if claims.exp + LEEWAY_SECONDS <= now {
            return Err(InvalidToken::Expired);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Mobile, UserId};

    fn secret(s: &str) -> SecretSlice<u8> {
        s.as_bytes().to_vec().into()
    }

    fn user() -> User {
        User {
            id: UserId("u-1".into()),
            mobile: Mobile::parse("13812345678").unwrap(),
            password_hash: String::new(),
            created_at: 0,
            token_version: 3,
        }
    }

    const KEY: &str = "a secret of at least thirty-two bytes!";

    #[test]
    fn a_signed_token_verifies_with_its_claims_until_it_expires() {
        let token = TokenSigner::new(&secret(KEY), 600).sign(&user(), 1_000).unwrap();
        let verifier = TokenVerifier::new(&secret(KEY));
        let claims = verifier.verify(&token, 1_000).unwrap();
        assert_eq!((claims.sub.as_str(), claims.ver, claims.exp), ("u-1", 3, 1_600));
        assert!(verifier.verify(&token, 1_600 + LEEWAY_SECONDS - 1).is_ok());
        assert!(matches!(verifier.verify(&token, 1_600 + LEEWAY_SECONDS), Err(InvalidToken::Expired)));
    }

    #[test]
    fn another_key_another_algorithm_or_garbage_does_not_verify() {
        let verifier = TokenVerifier::new(&secret(KEY));
        let other = TokenSigner::new(&secret("another secret of thirty-two bytes.."), 600).sign(&user(), 0).unwrap();
        assert!(matches!(verifier.verify(&other, 0), Err(InvalidToken::Unverified(_))));
        let hs512 = encode(
            &Header::new(Algorithm::HS512),
            &Claims { sub: "u-1".into(), username: "13812345678".into(), iat: 0, exp: 600, ver: 3 },
            &EncodingKey::from_secret(KEY.as_bytes()),
        )
        .unwrap();
        assert!(matches!(verifier.verify(&hs512.into(), 0), Err(InvalidToken::Unverified(_))));
        assert!(matches!(verifier.verify(&"not.a.token".into(), 0), Err(InvalidToken::Unverified(_))));
    }
}
