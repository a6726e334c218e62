//! A password as the user typed it, within the configured length bounds.

use secrecy::{ExposeSecret, SecretString};

use super::InvalidInput;

/// Length bounds in characters (Unicode scalar values), from configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub min_len: usize,
    pub max_len: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self { min_len: 8, max_len: 64 }
    }
}

/// Held as a `SecretString`: its Debug is redacted, it has no Display, and
/// its memory is zeroed when dropped.
#[derive(Clone)]
pub struct Password(SecretString);

impl Password {
    pub fn parse(raw: &str, policy: PasswordPolicy) -> Result<Self, InvalidInput> {
        let len = raw.chars().count();
        if (policy.min_len..=policy.max_len).contains(&len) {
            Ok(Self(SecretString::from(raw)))
        } else {
            Err(InvalidInput::Password { min: policy.min_len, max: policy.max_len })
        }
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl PartialEq for Password {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Password({:?})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: PasswordPolicy = PasswordPolicy { min_len: 8, max_len: 64 };

    #[test]
    fn password_within_bounds_is_accepted() {
        assert!(Password::parse("abcdefgh", POLICY).is_ok());
        assert!(Password::parse(&"x".repeat(64), POLICY).is_ok());
    }

    #[test]
    fn password_too_short_or_too_long_is_rejected_with_the_bounds() {
        let err = InvalidInput::Password { min: 8, max: 64 };
        assert_eq!(Password::parse("abcdefg", POLICY), Err(err.clone()));
        assert_eq!(Password::parse(&"x".repeat(65), POLICY), Err(err));
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        // Eight CJK characters are 24 bytes but eight characters.
        assert!(Password::parse("路飞学城路飞学城", POLICY).is_ok());
    }

    #[test]
    fn debug_never_shows_the_password() {
        let p = Password::parse("hunter2hunter2", POLICY).unwrap();
        assert!(!format!("{p:?}").contains("hunter2"));
    }
}
