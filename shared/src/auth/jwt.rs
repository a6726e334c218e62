//! HS256 access tokens: issued on register and login, checked by `GET /user/me`.
//!
//! Written on `hmac` and `sha2` rather than a JWT crate: the service signs
//! and accepts one algorithm with one key, so the header is a constant and
//! a token naming any other algorithm is refused before its signature is
//! looked at. (jsonwebtoken links every algorithm it supports, RSA and
//! ECDSA included, into each function that signs or checks a token; tests
//! use it to check these tokens independently.)

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::domain::User;

type HmacSha256 = Hmac<Sha256>;

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

/// The JOSE header of every token signed here.
const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// A token could not be signed.
#[derive(Debug, thiserror::Error)]
#[error("could not sign a token")]
pub struct TokenError(#[source] serde_json::Error);

/// Why a presented token is refused.
#[derive(Debug, thiserror::Error)]
pub enum InvalidToken {
    #[error("no bearer token")]
    Missing,
    /// Malformed, another algorithm, a bad signature or a missing claim.
    #[error("the token does not verify")]
    Unverified(#[source] Unverified),
    #[error("the token has expired")]
    Expired,
    #[error("the token names no such user")]
    UnknownUser,
    #[error("the token was issued before the last password reset")]
    Superseded,
}

/// What is wrong with a token that does not verify.
#[derive(Debug, thiserror::Error)]
pub enum Unverified {
    #[error("not three base64url parts")]
    Shape,
    #[error("the header is not a JSON object with `alg`")]
    Header,
    #[error("signed with {0:?}, not HS256")]
    Algorithm(String),
    #[error("the signature does not match")]
    Signature,
    #[error("the claims are not the service's")]
    Claims(#[source] serde_json::Error),
}

/// The parts of a header this service reads.
#[derive(Deserialize)]
struct Header {
    alg: String,
}

fn mac(key: &SecretSlice<u8>) -> HmacSha256 {
    HmacSha256::new_from_slice(key.expose_secret()).expect("HMAC takes a key of any length")
}

/// Signs tokens with the one HS256 key, built once per cold start.
pub struct TokenSigner {
    key: SecretSlice<u8>,
    ttl_seconds: i64,
}

impl TokenSigner {
    pub fn new(secret: &SecretSlice<u8>, ttl_seconds: i64) -> Self {
        Self { key: secret.expose_secret().to_vec().into(), ttl_seconds }
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
        let claims = serde_json::to_vec(&claims).map_err(TokenError)?;
        let mut token = format!("{}.{}", URL_SAFE_NO_PAD.encode(HEADER), URL_SAFE_NO_PAD.encode(claims));
        let mut mac = mac(&self.key);
        mac.update(token.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        token.push('.');
        token.push_str(&signature);
        Ok(token.into())
    }
}

/// Checks tokens: HS256 only (the header cannot choose another algorithm),
/// signature, and `exp` required and compared with the service's clock.
pub struct TokenVerifier {
    key: SecretSlice<u8>,
}

impl TokenVerifier {
    pub fn new(secret: &SecretSlice<u8>) -> Self {
        Self { key: secret.expose_secret().to_vec().into() }
    }

    pub fn verify(&self, token: &SecretString, now: i64) -> Result<Claims, InvalidToken> {
        let claims = self.verified_claims(token.expose_secret()).map_err(InvalidToken::Unverified)?;
        if claims.exp.saturating_add(LEEWAY_SECONDS) <= now {
            return Err(InvalidToken::Expired);
        }
        Ok(claims)
    }

    fn verified_claims(&self, token: &str) -> Result<Claims, Unverified> {
        let mut parts = token.split('.');
        let (Some(header), Some(claims), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Unverified::Shape);
        };
        let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|_| Unverified::Shape);
        let header: Header = serde_json::from_slice(&decode(header)?).map_err(|_| Unverified::Header)?;
        if header.alg != "HS256" {
            return Err(Unverified::Algorithm(header.alg));
        }
        let signed = &token[..token.len() - signature.len() - 1];
        let mut mac = mac(&self.key);
        mac.update(signed.as_bytes());
        // Constant-time comparison.
        mac.verify_slice(&decode(signature)?).map_err(|_| Unverified::Signature)?;
        // `sub` and `exp` are required: a token without them does not parse.
        serde_json::from_slice(&decode(claims)?).map_err(Unverified::Claims)
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

    fn claims() -> Claims {
        Claims { sub: "u-1".into(), username: "13812345678".into(), iat: 0, exp: 600, ver: 3 }
    }

    fn unverified(verifier: &TokenVerifier, token: &str) -> Unverified {
        match verifier.verify(&token.to_owned().into(), 0) {
            Err(InvalidToken::Unverified(why)) => why,
            other => panic!("{token}: {other:?}"),
        }
    }

    #[test]
    fn jsonwebtoken_reads_our_tokens_and_we_read_its_hs256_tokens() {
        use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
        let ours = TokenSigner::new(&secret(KEY), 600).sign(&user(), 0).unwrap();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        let read = decode::<Claims>(ours.expose_secret(), &DecodingKey::from_secret(KEY.as_bytes()), &validation)
            .expect("jsonwebtoken verifies our token");
        assert_eq!(read.claims, Claims { username: "13812345678".into(), ..claims() });
        let theirs =
            encode(&Header::new(Algorithm::HS256), &claims(), &EncodingKey::from_secret(KEY.as_bytes())).unwrap();
        assert_eq!(TokenVerifier::new(&secret(KEY)).verify(&theirs.into(), 0).unwrap(), claims());
    }

    #[test]
    fn another_key_another_algorithm_or_garbage_does_not_verify() {
        use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
        let verifier = TokenVerifier::new(&secret(KEY));
        let other = TokenSigner::new(&secret("another secret of thirty-two bytes.."), 600).sign(&user(), 0).unwrap();
        assert!(matches!(unverified(&verifier, other.expose_secret()), Unverified::Signature));
        let hs512 =
            encode(&Header::new(Algorithm::HS512), &claims(), &EncodingKey::from_secret(KEY.as_bytes())).unwrap();
        assert!(matches!(unverified(&verifier, &hs512), Unverified::Algorithm(alg) if alg == "HS512"));
        // `alg: none` with our own claims and no signature.
        let (_, rest) = hs512.split_once('.').unwrap();
        let claims_part = rest.split('.').next().unwrap();
        let none = format!("{}.{claims_part}.", URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#));
        assert!(matches!(unverified(&verifier, &none), Unverified::Algorithm(alg) if alg == "none"));
        for garbage in ["not.a.token", "", "a.b", "a.b.c.d", "e30.e30.", "..."] {
            assert!(matches!(unverified(&verifier, garbage), Unverified::Shape | Unverified::Header), "{garbage:?}");
        }
    }

    #[test]
    fn a_token_without_sub_or_exp_does_not_verify() {
        let key = secret(KEY);
        for claims in [r#"{"username":"x","iat":0,"exp":600}"#, r#"{"sub":"u-1","username":"x","iat":0}"#] {
            let signed = format!("{}.{}", URL_SAFE_NO_PAD.encode(HEADER), URL_SAFE_NO_PAD.encode(claims));
            let mut m = mac(&key);
            m.update(signed.as_bytes());
            let token = format!("{signed}.{}", URL_SAFE_NO_PAD.encode(m.finalize().into_bytes()));
            assert!(matches!(unverified(&TokenVerifier::new(&key), &token), Unverified::Claims(_)), "{claims}");
        }
    }
}
