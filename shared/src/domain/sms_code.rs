//! An SMS verification code: a fixed number of ASCII digits.

use super::InvalidInput;

/// Never printed: Debug is redacted. Generated from the OS CSPRNG.
#[derive(Clone, PartialEq, Eq)]
pub struct SmsCode(String);

impl SmsCode {
    pub fn parse(raw: &str, len: usize) -> Result<Self, InvalidInput> {
        let raw = raw.trim();
        if raw.len() == len && raw.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(raw.to_owned()))
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
            getrandom::fill(&mut buf).expect("the OS random source is available");
            for b in buf.iter().copied().filter(|b| *b < 250) {
                if digits.len() == len {
                    break;
                }
                digits.push(char::from(b'0' + b % 10));
            }
        }
        Self(digits)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SmsCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SmsCode(**redacted**)")
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
        assert_eq!(format!("{:?}", SmsCode::parse("123456", 6).unwrap()), "SmsCode(**redacted**)");
    }
}
