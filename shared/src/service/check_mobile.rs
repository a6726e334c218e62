//! Is this number free to register?

use serde::Serialize;

use crate::domain::Mobile;
use crate::error::ApiError;
use crate::state::State;

#[derive(Debug, Serialize)]
pub struct MobileStatus {
    pub mobile: String,
    pub registered: bool,
    pub message: &'static str,
}

pub async fn check_mobile(state: &State, mobile: &Mobile) -> Result<MobileStatus, ApiError> {
    match state.store.find_user(mobile).await? {
        Some(_) => Err(ApiError::MobileRegistered),
        None => Ok(MobileStatus { mobile: mobile.as_str().to_owned(), registered: false, message: "ok" }),
    }
}
