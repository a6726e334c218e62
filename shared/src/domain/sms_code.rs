//! An SMS verification code, and the rules for codes.

use secrecy::zeroize::Zeroize as _;
use secrecy::{ExposeSecret, SecretString};

use super::InvalidInput;

/// The rules for SMS codes, from configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodePolicy {
    pub length: usize,
    pub ttl_seconds: i64,
    pub resend_interval_seconds: i64,
    pub max_attempts: u32,
}

impl CodePolicy {
    /// Validity in whole minutes, as the SMS template states it.
    pub fn ttl_minutes(&self) -> i64 {
        (self.ttl_seconds + 59) / 60
    }
}

/// A fixed number of ASCII digits, held as a `SecretString` (redacted
/// Debug, no Display). Generated from the OS CSPRNG.
#[derive(Clone)]
pub struct SmsCode(SecretString);

impl SmsCode {
    pub fn parse(raw: &str, len: usize) -> Result<Self, InvalidInput> {
        let raw = raw.trim();
        if raw.len() == len && raw.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(SecretString::from(raw)))
        } else {
            Err(InvalidInput::SmsCode { len })
        }
    }

    /// `len` uniformly random digits from the operating system's CSPRNG.
    pub fn generate(len: usize) -> Self {
        // Rejection sampling keeps every digit uniform: bytes >= 250 would
        // make 0..=5 slightly likelier than 6..=9.
        let mut digits = String::with_capacity(len);
        let mut buf = [0u8; 16];
        while digits.len() < len {
            // Sixteen bytes for at most eight digits: one draw nearly always.
            getrandom::fill(&mut buf).expect("the OS random source is available");
            for b in buf.iter().copied().filter(|b| *b < 250) {
                if digits.len() == len {
                    break;
                }
                digits.push(char::from(b'0' + b % 10));
            }
        }
        buf.zeroize();
        Self(SecretString::from(digits))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl PartialEq for SmsCode {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl std::fmt::Debug for SmsCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SmsCode({:?})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_ascii_digits_are_a_code() {
        assert_eq!(SmsCode::parse("012345", 6).unwrap().expose(), "012345");
        assert_eq!(SmsCode::parse(" 012345 ", 6).unwrap().expose(), "012345");
    }

    #[test]
    fn wrong_length_letters_and_full_width_digits_are_rejected() {
        for raw in ["", "12345", "1234567", "12345a", "１２３４５６", "12 345"] {
            assert_eq!(SmsCode::parse(raw, 6), Err(InvalidInput::SmsCode { len: 6 }), "{raw}");
        }
    }

    #[test]
    fn generated_codes_have_the_configured_length_and_parse_back() {
        for len in 4..=8 {
            let code = SmsCode::generate(len);
            assert_eq!(SmsCode::parse(code.expose(), len).unwrap(), code);
        }
    }

    #[test]
    fn generated_digits_are_roughly_uniform() {
        let mut counts = [0u32; 10];
        for _ in 0..2_000 {
            for b in SmsCode::generate(8).expose().bytes() {
                counts[usize::from(b - b'0')] += 1;
            }
        }
        // 16,000 digits: each expected 1,600; a fair source stays well within ±300.
        for (digit, n) in counts.iter().enumerate() {
            assert!((1_300..=1_900).contains(n), "digit {digit} appeared {n} times");
        }
    }

    #[test]
    fn debug_never_shows_the_code() {
        let shown = format!("{:?}", SmsCode::parse("123456", 6).unwrap());
        assert!(!shown.contains("123456"), "{shown}");
    }

    #[test]
    fn validity_in_minutes_rounds_up() {
        let policy = |ttl_seconds| CodePolicy { length: 6, ttl_seconds, resend_interval_seconds: 60, max_attempts: 5 };
        assert_eq!(policy(300).ttl_minutes(), 5);
        assert_eq!(policy(301).ttl_minutes(), 6);
        assert_eq!(policy(1).ttl_minutes(), 1);
    }
}
