//! The MFA crate's error type.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MfaError {
    /// The code does not match (wrong, expired, or already used).
    #[error("the code is not valid")]
    WrongCode,
    /// The code was right but has been used before (a replayed TOTP code).
    #[error("the code was already used")]
    Replayed,
    /// The enrolment took too long or was tampered with; start again.
    #[error("the enrolment has expired")]
    EnrolmentExpired,
    /// A secret could not be created or read.
    #[error("secret: {0}")]
    Secret(String),
}
