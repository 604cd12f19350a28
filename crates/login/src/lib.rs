//! The hosted sign-in, without HTTP: password hashing (and imported legacy hashes), the password
//! policy, attempt throttling, CSRF tokens, the sign-in state machine and the themed pages.

pub mod audit;
pub mod csrf;
pub mod error;
pub mod i18n;
pub mod legacy_hash;
pub mod password;
pub mod password_policy;
pub mod password_reset;
pub mod sign_in;
pub mod theme;
pub mod throttle;

pub use error::LoginError;
