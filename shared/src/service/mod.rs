//! One module per use case. Each takes parsed domain values and the state,
//! and answers with a reply to serialise or an `ApiError`.

mod check_mobile;
mod login;
mod register;
mod send_sms;

pub use check_mobile::{check_mobile, MobileStatus};
pub use login::login;
pub use register::{register, Registration};
pub use send_sms::{send_sms, SmsSent};

use serde::Serialize;

use crate::domain::User;
use crate::error::ApiError;
use crate::state::State;

/// What register and login answer: the user is logged in.
#[derive(Debug, Serialize)]
pub struct Session {
    pub id: String,
    pub username: String,
    pub token: String,
    pub expires_in: i64,
}

impl Session {
    fn issue(state: &State, user: &User) -> Result<Self, ApiError> {
        Ok(Self {
            id: user.id.0.clone(),
            username: user.username().to_owned(),
            token: state.tokens.issue(user, state.clock.now())?,
            expires_in: state.tokens.ttl_seconds(),
        })
    }
}
