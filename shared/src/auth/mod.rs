//! Secrets at rest and in flight: password hashes, SMS code hashes, JWTs.

mod codes;
mod jwt;
mod keyed;
mod passwords;
mod pseudonyms;

pub use codes::CodeHasher;
pub use jwt::{Claims, InvalidToken, TokenError, TokenSigner, TokenVerifier, Unverified, LEEWAY_SECONDS};
pub use passwords::{HashError, PasswordHasher, THREAD_NAME as HASHING_THREAD_NAME};
pub use pseudonyms::{Pseudonym, Pseudonyms};
