//! Keyed hashes that stand for personal data where the store needs a key:
//! client addresses and usernames in `LIMIT#…` counters. Without the key, a
//! leaked table cannot be searched for an address or a number.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretSlice};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

#[derive(Clone)]
pub struct Pseudonyms {
    key: SecretSlice<u8>,
}

impl Pseudonyms {
    /// The key is derived from the service secret under its own label.
    pub fn from_secret(secret: &SecretSlice<u8>) -> Self {
        let mut mac = HmacSha256::new_from_slice(secret.expose_secret()).expect("HMAC takes any key length");
        mac.update(b"signup/pseudonym/v1");
        Self { key: mac.finalize().into_bytes().to_vec().into() }
    }

    /// 128 bits of HMAC-SHA256(key, kind ":" value) as hex: `kind` keeps an
    /// address and a username that happen to be equal apart.
    pub fn of(&self, kind: &str, value: &str) -> String {
        let mut mac = HmacSha256::new_from_slice(self.key.expose_secret()).expect("HMAC takes any key length");
        mac.update(kind.as_bytes());
        mac.update(b":");
        mac.update(value.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pseudonym_is_stable_hides_the_value_and_depends_on_kind_and_key() {
        let p = Pseudonyms::from_secret(&b"a secret of at least thirty-two bytes!".to_vec().into());
        let ip = p.of("ip", "203.0.113.9");
        assert_eq!(ip, p.of("ip", "203.0.113.9"));
        assert_eq!(ip.len(), 32);
        assert!(!ip.contains("203"));
        assert_ne!(ip, p.of("user", "203.0.113.9"));
        let other = Pseudonyms::from_secret(&b"another secret of thirty-two bytes..".to_vec().into());
        assert_ne!(ip, other.of("ip", "203.0.113.9"));
    }
}
