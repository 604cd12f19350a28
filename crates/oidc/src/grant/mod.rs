//! One module per grant type (RFC 6749 §4).

mod authorization_code;
mod client_credentials;
mod refresh_token;

use std::sync::{Arc, Mutex, PoisonError};

use crate::store::{Decide, GrantAndUser, Redemption};
use crate::token::TokenError;

/// `decide` as the store takes it, and where it leaves the rest of its result for the request. The
/// store may run it on another request's task, in a transaction that writes for both, so it owns what
/// it needs; it has run by the time the store answers.
fn decided_in_store<R: 'static, T: Send + 'static>(
    decide: impl FnOnce(R, GrantAndUser) -> (Redemption, T) + Send + 'static,
) -> (Decide<R>, Decided<T>) {
    let decided = Decided(Arc::new(Mutex::new(None)));
    let slot = Arc::clone(&decided.0);
    let decide = Box::new(move |record, found| {
        let (redemption, rest) = decide(record, found);
        *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(rest);
        redemption
    });
    (decide, decided)
}

/// The rest of a decision's result, once the store has taken it.
struct Decided<T>(Arc<Mutex<Option<T>>>);

impl<T> Decided<T> {
    /// `None` when the store found nothing to decide on.
    fn take(&self) -> Option<T> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

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

    /// Refused because it was used before: its grant is revoked.
    fn revoke_grant(error: TokenError) -> Self {
        Self {
            error,
            then: Afterwards::RevokeGrant,
        }
    }

    /// Refused, and used up all the same.
    fn use_up(error: TokenError) -> Self {
        Self {
            error,
            then: Afterwards::UseUp,
        }
    }

    /// The redemption to carry out, and the answer.
    fn split<T>(self) -> (Redemption, Result<T, TokenError>) {
        (self.then.into(), Err(self.error))
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
