//! Keyed hashes that stand for personal data where the store needs a key:
//! client addresses and usernames in `LIMIT#…` counters. Without the key, a
//! leaked table cannot be searched for an address or a number.

use hmac::Mac;
use secrecy::SecretSlice;

use super::keyed::KeyedHmac;

#[derive(Clone)]
pub struct Pseudonyms {
    key: KeyedHmac,
}

impl Pseudonyms {
    /// The key is derived from the service secret under its own label.
    pub fn from_secret(secret: &SecretSlice<u8>) -> Self {
        Self { key: KeyedHmac::derive(secret, b"signup/pseudonym/v1") }
    }

    /// 128 bits of HMAC-SHA256(key, kind ":" value) as hex: `kind` keeps an
    /// address and a username that happen to be equal apart.
    pub fn of(&self, kind: &str, value: &str) -> String {
        let mut mac = self.key.start();
        mac.update(kind.as_bytes());
        mac.update(b":");
        mac.update(value.as_bytes());
        crate::hex_text::lower(&mac.finalize().into_bytes()[..16])
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

    /// Counters keyed before a deploy must still be found after it: the
    /// value Python's `hmac` gives for HMAC(HMAC(secret, label), "ip:203.0.113.9"), first 16 bytes.
    #[test]
    fn a_pseudonym_is_the_known_hmac_of_kind_and_value_under_the_derived_key() {
        let p = Pseudonyms::from_secret(&b"a secret of at least thirty-two bytes!".to_vec().into());
        assert_eq!(p.of("ip", "203.0.113.9"), "e28477e9c007d9452adc855d53726d8a");
    }
}
