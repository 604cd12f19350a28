//! Where a pending sign-in stands. Stored as JSON with the pending authorization request; each page
//! handler accepts only the step it serves.

use gatehouse_mfa::code::SentCode;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum SignInStep {
    /// Waiting for e-mail and password.
    Credentials,
    /// The password was right; waiting for a second factor. No session exists yet.
    SecondFactor {
        user_id: String,
        method: String,
        /// The code sent by e-mail or SMS for this sign-in, if one was sent.
        #[serde(default)]
        sent: Option<SentChallenge>,
        /// The `acr` the factor must reach (step-up); methods below it are not offered.
        #[serde(default)]
        minimum_acr: Option<String>,
    },
    /// Must use a second factor but has none: the set-up wizard, with a password-only session.
    Enrol {
        user_id: String,
        minimum_acr: String,
    },
    /// Signed in during this sign-in and shown a notice (e.g. recovery codes left); continues at
    /// `/continue`.
    Authenticated { user_id: String },
    /// Signed in; waiting for the person to allow the application access.
    Consent {
        user_id: String,
        authenticated_now: bool,
    },
}

/// A code sent to one of the person's factors during this sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentChallenge {
    pub factor_id: String,
    pub method: String,
    pub code: SentCode,
}

impl SignInStep {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| r#"{"step":"credentials"}"#.to_owned())
    }

    /// An unreadable state (e.g. from a newer version) starts the sign-in over.
    pub fn from_json(text: &str) -> Self {
        serde_json::from_str(text).unwrap_or(Self::Credentials)
    }
}
