//! The login crate's error type.

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// A theme could not be loaded: the message names the file and line.
    #[error("theme: {0}")]
    Theme(String),
    /// A page could not be rendered.
    #[error("rendering {template}: {message}")]
    Render { template: String, message: String },
    #[error("password hashing: {0}")]
    Hashing(String),
}
