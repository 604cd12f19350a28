//! The kinds of second factor.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MethodKind {
    /// An authenticator app (RFC 6238 TOTP).
    Totp,
    /// A code e-mailed to a second address.
    Email,
    /// A code sent by SMS to a mobile number.
    Sms,
    /// A single-use recovery code, usable in place of any other factor.
    RecoveryCode,
}

impl MethodKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Totp => "totp",
            Self::Email => "email",
            Self::Sms => "sms",
            Self::RecoveryCode => "recovery_code",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Totp, Self::Sms, Self::Email, Self::RecoveryCode]
            .into_iter()
            .find(|k| k.as_str() == text)
    }

    /// The RFC 8176 method reference this factor adds to `amr`.
    pub fn amr(self) -> &'static str {
        match self {
            // RFC 8176 §2: "otp", one-time password (an authenticator app's code, or a recovery code).
            Self::Totp | Self::Email | Self::RecoveryCode => "otp",
            // RFC 8176 §2: "sms", confirmation by text message.
            Self::Sms => "sms",
        }
    }
}
