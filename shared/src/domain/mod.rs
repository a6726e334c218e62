//! Values that can only hold valid data. Raw input becomes one of these at the
//! edge (`parse`), and from then on the type itself is the proof.

mod mobile;
mod password;
mod purpose;
mod sms_code;
mod user;

pub use mobile::{Masked, Mobile};
pub use password::{Password, PasswordPolicy};
pub use purpose::Purpose;
pub use sms_code::{CodePolicy, SmsCode};
pub use user::{User, UserId};

/// Why a piece of input was refused. The HTTP layer maps each to its error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidInput {
    #[error("not a mainland China mobile number")]
    Mobile,
    #[error("password must be {min} to {max} characters")]
    Password { min: usize, max: usize },
    #[error("SMS code must be {len} digits")]
    SmsCode { len: usize },
    #[error("purpose must be register, login or reset_password")]
    Purpose,
}
