//! The hosted sign-in, without HTTP: password hashing, attempt throttling, CSRF tokens, the sign-in
//! state machine and the themed pages.

pub mod audit;
pub mod csrf;
pub mod error;
pub mod password;
pub mod password_reset;
pub mod sign_in;
pub mod theme;
pub mod throttle;

pub use error::LoginError;
