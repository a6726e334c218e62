//! What an SMS code is for. A code works only for the purpose it was sent for.

use super::InvalidInput;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// Sign up: only to a number nobody has registered.
    Register,
    /// Log in by code (验证码登录): only to a registered number.
    Login,
    /// Reset a forgotten password: only to a registered number.
    ResetPassword,
}

impl Purpose {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        match raw {
            "register" => Ok(Self::Register),
            "login" => Ok(Self::Login),
            "reset_password" => Ok(Self::ResetPassword),
            _ => Err(InvalidInput::Purpose),
        }
    }

    /// The name the API and the store use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::Login => "login",
            Self::ResetPassword => "reset_password",
        }
    }

    /// Whether the number must already belong to a user.
    pub fn needs_registered_mobile(self) -> bool {
        !matches!(self, Self::Register)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_purpose_parses_back_from_its_name_and_nothing_else_parses() {
        for purpose in [Purpose::Register, Purpose::Login, Purpose::ResetPassword] {
            assert_eq!(Purpose::parse(purpose.as_str()), Ok(purpose));
        }
        for raw in ["", "Register", "reset", "login ", "signup"] {
            assert_eq!(Purpose::parse(raw), Err(InvalidInput::Purpose), "{raw:?}");
        }
    }
}
