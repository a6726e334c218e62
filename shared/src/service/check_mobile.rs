//! Is this number free to register?

use crate::domain::Mobile;
use crate::store::{StoreError, UserStore};

#[derive(Debug, thiserror::Error)]
pub enum CheckMobileError {
    #[error("mobile already registered")]
    MobileRegistered,
    #[error("could not look the number up")]
    Store(#[from] StoreError),
}

/// `Ok` when no user has this number.
pub async fn check_mobile(users: &dyn UserStore, mobile: &Mobile) -> Result<(), CheckMobileError> {
    match users.find_user(mobile).await? {
        Some(_) => Err(CheckMobileError::MobileRegistered),
        None => Ok(()),
    }
}
