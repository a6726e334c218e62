//! A mainland China mobile number, normalised to its 11 digits.

use super::InvalidInput;

/// `1[3-9]` followed by nine ASCII digits. The username of a new user is this value.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Mobile(String);

impl Mobile {
    /// Accepts `+86` / `0086` prefixes and ASCII spaces or hyphens anywhere;
    /// anything else, full-width digits included, is refused.
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        // Most numbers come as the 11 digits already.
        if is_eleven_digits(raw) {
            return Ok(Self(raw.to_owned()));
        }
        let compact: String = raw.chars().filter(|c| *c != ' ' && *c != '-').collect();
        let digits = compact.strip_prefix("+86").or_else(|| compact.strip_prefix("0086")).unwrap_or(&compact);
        if is_eleven_digits(digits) {
            Ok(Self(digits.to_owned()))
        } else {
            Err(InvalidInput::Mobile)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 11 digits as one number: a key that needs no allocation.
    pub fn as_number(&self) -> u64 {
        self.0.bytes().fold(0, |n, digit| n * 10 + u64::from(digit - b'0'))
    }

    /// E.164 form, as SNS wants it.
    pub fn e164(&self) -> String {
        format!("+86{}", self.0)
    }

    /// `138****5678`: the only form of a number that goes into a log.
    pub fn masked(&self) -> String {
        self.masked_field().as_str().to_owned()
    }

    /// The masked form on the stack, for a log field: recorded as a `&str`,
    /// it is a string in every log format and costs no allocation.
    pub fn masked_field(&self) -> Masked {
        let mut text = *b"000****0000";
        let digits = self.0.as_bytes();
        text[..3].copy_from_slice(&digits[..3]);
        text[7..].copy_from_slice(&digits[7..]);
        Masked(text)
    }
}

/// See [`Mobile::masked_field`].
#[derive(Clone, Copy)]
pub struct Masked([u8; 11]);

impl Masked {
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("ASCII digits and asterisks")
    }
}

impl std::fmt::Debug for Masked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_str().fmt(f)
    }
}

/// `1[3-9]` and nine more ASCII digits, nothing else.
fn is_eleven_digits(digits: &str) -> bool {
    let bytes = digits.as_bytes();
    bytes.len() == 11 && bytes[0] == b'1' && (b'3'..=b'9').contains(&bytes[1]) && bytes.iter().all(u8::is_ascii_digit)
}

/// Debug shows the masked form so that a `{:?}` in a log never leaks a number.
impl std::fmt::Debug for Mobile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mobile({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_key_is_the_eleven_digits() {
        assert_eq!(Mobile::parse("+86 199-0000-0001").unwrap().as_number(), 19_900_000_001);
    }

    #[test]
    fn plain_eleven_digit_number_is_accepted() {
        assert_eq!(Mobile::parse("13812345678").unwrap().as_str(), "13812345678");
    }

    #[test]
    fn country_prefixes_spaces_and_hyphens_are_normalised_away() {
        for raw in ["+86 138 1234 5678", "0086-138-1234-5678", "+8613812345678", " 138-1234-5678 "] {
            assert_eq!(Mobile::parse(raw).unwrap().as_str(), "13812345678", "{raw}");
        }
    }

    #[test]
    fn every_second_digit_from_3_to_9_is_accepted() {
        for d in 3..=9 {
            assert!(Mobile::parse(&format!("1{d}012345678")).is_ok());
        }
    }

    #[test]
    fn numbers_outside_the_mobile_ranges_are_rejected() {
        for raw in [
            "",
            "1381234567",
            "138123456789",
            "12812345678",
            "11812345678",
            "23812345678",
            "86 13812345678",
            "+85213812345678",
            "1381234567a",
            "138.1234.5678",
            "+86+8613812345678",
        ] {
            assert_eq!(Mobile::parse(raw), Err(InvalidInput::Mobile), "{raw}");
        }
    }

    #[test]
    fn full_width_digits_are_rejected() {
        assert_eq!(Mobile::parse("１３８１２３４５６７８"), Err(InvalidInput::Mobile));
    }

    #[test]
    fn masked_form_hides_the_middle_four_digits() {
        let m = Mobile::parse("13812345678").unwrap();
        assert_eq!(m.masked(), "138****5678");
        assert_eq!(m.masked_field().as_str(), "138****5678");
        assert_eq!(format!("{m:?}"), "Mobile(138****5678)");
        assert_eq!(m.e164(), "+8613812345678");
    }

    #[test]
    fn every_valid_number_round_trips_through_its_decorated_forms() {
        // A small exhaustive-ish property: for many numbers in the valid space,
        // each accepted decoration parses back to the same value.
        for second in 3..=9u64 {
            for tail in (0..1_000_000_000u64).step_by(7_654_321) {
                let plain = format!("1{second}{tail:09}");
                let m = Mobile::parse(&plain).unwrap();
                assert_eq!(m.as_str(), plain);
                let spaced = format!("+86 {} {} {}", &plain[..3], &plain[3..7], &plain[7..]);
                assert_eq!(Mobile::parse(&spaced).unwrap(), m);
            }
        }
    }
}
