//! Second factors for Gatehouse, as plain logic: no HTTP, no SQL, time passed in.
//!
//! A second factor is a [`method::MethodKind`] with its own module: [`totp`] (authenticator apps) and
//! [`recovery`] (single-use recovery codes). Each offers the same four verbs — enrol, challenge,
//! verify, remove — shaped by what the method needs. [`attempts`] limits guessing, and [`assurance`]
//! says which `amr` and `acr` a sign-in earned.

pub mod assurance;
pub mod attempts;
pub mod code;
pub mod email;
pub mod error;
pub mod method;
pub mod passkey;
pub mod policy;
pub mod recovery;
pub mod sms;
pub mod totp;

pub use error::MfaError;
pub use method::MethodKind;
