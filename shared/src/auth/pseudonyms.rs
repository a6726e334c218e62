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

    /// 128 bits of HMAC-SHA256(key, kind ":" value): `kind` keeps an
    /// address and a username that happen to be equal apart.
    pub fn of(&self, kind: &str, value: &str) -> Pseudonym {
        let mut mac = self.key.start();
        mac.update(kind.as_bytes());
        mac.update(b":");
        mac.update(value.as_bytes());
        let mut bytes = [0; 16];
        bytes.copy_from_slice(&mac.finalize().into_bytes()[..16]);
        Pseudonym(bytes)
    }
}

/// A pseudonym, written as 32 lowercase hex digits where it goes into a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pseudonym([u8; 16]);

impl std::fmt::Display for Pseudonym {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut digits = [0; 32];
        hex::encode_to_slice(self.0, &mut digits).expect("two digits a byte");
        f.write_str(std::str::from_utf8(&digits).expect("hex digits are ASCII"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pseudonym_is_stable_hides_the_value_and_depends_on_kind_and_key() {
        let p = Pseudonyms::from_secret(&b"a secret of at least thirty-two bytes!".to_vec().into());
        let ip = p.of("ip", "203.0.113.9").to_string();
        assert_eq!(ip, p.of("ip", "203.0.113.9").to_string());
        assert_eq!(ip.len(), 32);
        assert!(!ip.contains("203"));
        assert_ne!(ip, p.of("user", "203.0.113.9").to_string());
        let other = Pseudonyms::from_secret(&b"another secret of thirty-two bytes..".to_vec().into());
        assert_ne!(ip, other.of("ip", "203.0.113.9").to_string());
    }

    /// Counters keyed before a deploy must still be found after it: the
    /// value Python's `hmac` gives for HMAC(HMAC(secret, label), "ip:203.0.113.9"), first 16 bytes.
    #[test]
    fn a_pseudonym_is_the_known_hmac_of_kind_and_value_under_the_derived_key() {
        let p = Pseudonyms::from_secret(&b"a secret of at least thirty-two bytes!".to_vec().into());
        assert_eq!(p.of("ip", "203.0.113.9").to_string(), "e28477e9c007d9452adc855d53726d8a");
    }
}
