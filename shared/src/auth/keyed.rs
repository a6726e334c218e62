//! HMAC-SHA256 under a key derived once: the derived key is hashed into its
//! two pads at start-up, and each MAC begins from a copy of that state. A
//! MAC of a short message then costs two SHA-256 blocks instead of four
//! (`Pseudonyms::of` and `CodeHasher::hash` run on every send; issue 11).
//!
//! The keyed state is as good as the key, and `hmac` cannot wipe it on drop
//! (the derived key itself was a `SecretSlice`, wiped when dropped). It
//! lives as long as the services, which is the process; the derived key's
//! bytes are wiped as soon as the state is keyed.

use hmac::{Hmac, Mac};
use secrecy::zeroize::Zeroize as _;
use secrecy::{ExposeSecret, SecretSlice};
use sha2::Sha256;

pub(crate) type HmacSha256 = Hmac<Sha256>;

#[derive(Clone)]
pub(crate) struct KeyedHmac(HmacSha256);

impl KeyedHmac {
    /// Keyed by HMAC-SHA256(secret, label): one secret gives each use a key of its own.
    pub(crate) fn derive(secret: &SecretSlice<u8>, label: &[u8]) -> Self {
        let mut derive = HmacSha256::new_from_slice(secret.expose_secret()).expect("HMAC takes any key length");
        derive.update(label);
        let mut key = derive.finalize().into_bytes();
        let keyed = HmacSha256::new_from_slice(&key).expect("HMAC takes any key length");
        key.as_mut_slice().zeroize();
        Self(keyed)
    }

    /// A MAC ready for the message.
    pub(crate) fn start(&self) -> HmacSha256 {
        self.0.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mac_from_the_keyed_state_equals_one_keyed_afresh() {
        let secret: SecretSlice<u8> = b"a secret of at least thirty-two bytes!".to_vec().into();
        let mut derive = HmacSha256::new_from_slice(secret.expose_secret()).unwrap();
        derive.update(b"label");
        let key = derive.finalize().into_bytes();
        let mut afresh = HmacSha256::new_from_slice(&key).unwrap();
        afresh.update(b"message");
        let keyed = KeyedHmac::derive(&secret, b"label");
        for _ in 0..2 {
            let mut mac = keyed.start();
            mac.update(b"message");
            assert_eq!(mac.finalize().into_bytes(), afresh.clone().finalize().into_bytes());
        }
    }
}
