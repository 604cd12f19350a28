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
    /// A passkey (WebAuthn credential) with user verification.
    Passkey,
    /// A single-use recovery code, usable in place of any other factor.
    RecoveryCode,
}

impl MethodKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Totp => "totp",
            Self::Email => "email",
            Self::Sms => "sms",
            Self::Passkey => "passkey",
            Self::RecoveryCode => "recovery_code",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Passkey,
            Self::Totp,
            Self::Sms,
            Self::Email,
            Self::RecoveryCode,
        ]
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
            // RFC 8176 §2: "swk", a software-secured key; a device-bound passkey earns "hwk" instead,
            // see `passkey::KeyProtection`.
            Self::Passkey => "swk",
        }
    }
}
