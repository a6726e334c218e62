//! SMS codes are stored only as HMAC-SHA256(key, mobile ":" code): a leaked
//! table does not reveal live codes, and the 10^6 code space cannot be
//! searched offline without the key.

use hmac::Mac;
use secrecy::SecretSlice;

use super::keyed::{HmacSha256, KeyedHmac};
use crate::domain::{Mobile, SmsCode};

#[derive(Clone)]
pub struct CodeHasher {
    key: KeyedHmac,
}

impl CodeHasher {
    /// The key is derived from the code secret (`SMS_CODE_SECRET`) with its
    /// own label; locally, where that secret defaults to the JWT secret, the
    /// label keeps the two keys apart.
    pub fn from_secret(secret: &SecretSlice<u8>) -> Self {
        Self { key: KeyedHmac::derive(secret, b"signup/sms-code-hash/v1") }
    }

    fn mac(&self, mobile: &Mobile, code: &SmsCode) -> HmacSha256 {
        let mut mac = self.key.start();
        mac.update(mobile.as_str().as_bytes());
        mac.update(b":");
        mac.update(code.expose().as_bytes());
        mac
    }

    /// Lower-case hex, as stored.
    pub fn hash(&self, mobile: &Mobile, code: &SmsCode) -> String {
        crate::hex_text::lower(&self.mac(mobile, code).finalize().into_bytes())
    }

    /// Constant-time comparison against a stored hash.
    pub fn matches(&self, mobile: &Mobile, code: &SmsCode, stored_hex: &str) -> bool {
        hex::decode(stored_hex).is_ok_and(|stored| self.mac(mobile, code).verify_slice(&stored).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixtures() -> (CodeHasher, Mobile, SmsCode) {
        (
            CodeHasher::from_secret(&b"a secret of at least thirty-two bytes!".to_vec().into()),
            Mobile::parse("13812345678").unwrap(),
            SmsCode::parse("123456", 6).unwrap(),
        )
    }

    #[test]
    fn the_right_code_matches_its_hash_and_the_hash_hides_it() {
        let (h, m, c) = fixtures();
        let stored = h.hash(&m, &c);
        assert_eq!(stored.len(), 64);
        assert!(!stored.contains("123456"));
        assert!(h.matches(&m, &c, &stored));
    }

    /// Codes stored before a deploy must still match after it: the value
    /// Python's `hmac` gives for HMAC(HMAC(secret, label), "13812345678:123456").
    #[test]
    fn a_code_hash_is_the_known_hmac_of_mobile_and_code_under_the_derived_key() {
        let (h, m, c) = fixtures();
        assert_eq!(h.hash(&m, &c), "000a7a8212657f94c9f00d2f1c3aa9cdb21938612ef7371004ea8b2b8a8b1bce");
    }

    #[test]
    fn another_code_another_mobile_or_another_key_does_not_match() {
        let (h, m, c) = fixtures();
        let stored = h.hash(&m, &c);
        assert!(!h.matches(&m, &SmsCode::parse("123457", 6).unwrap(), &stored));
        assert!(!h.matches(&Mobile::parse("13812345679").unwrap(), &c, &stored));
        assert!(
            !CodeHasher::from_secret(&b"another secret of thirty-two bytes..".to_vec().into()).matches(&m, &c, &stored)
        );
        assert!(!h.matches(&m, &c, "not hex"));
    }
}
