//! The measuring side of `scripts/bench`: what the criterion benches
//! (`benches/handlers.rs`) and the driver (`src/main.rs`) share.
//!
//! Everything here goes through `signup`'s public API only, so the
//! benchmark measures the service as it ships.

pub mod figures;
pub mod fixtures;
