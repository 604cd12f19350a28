//! One module per grant type (RFC 6749 §4).

mod authorization_code;
mod client_credentials;
mod refresh_token;

use crate::store::Redemption;
use crate::token::TokenError;

/// A code or refresh token that may not be redeemed: the answer, and what becomes of it.
#[derive(Debug)]
struct Refused {
    error: TokenError,
    then: Afterwards,
}

/// What becomes of a code or refresh token that was refused.
#[derive(Debug, Clone, Copy)]
enum Afterwards {
    /// Left as it is.
    Keep,
    /// It was used before: its grant is revoked.
    RevokeGrant,
    /// It is used up all the same.
    UseUp,
}

impl Refused {
    /// Refused, and left as it is.
    fn keep(error: TokenError) -> Self {
        Self {
            error,
            then: Afterwards::Keep,
        }
    }
}

impl From<Afterwards> for Redemption {
    fn from(then: Afterwards) -> Self {
        match then {
            Afterwards::Keep => Self::Keep,
            Afterwards::RevokeGrant => Self::RevokeGrant,
            Afterwards::UseUp => Self::Spend(None),
        }
    }
}
