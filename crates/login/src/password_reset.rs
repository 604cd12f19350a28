//! The rules of a forgotten-password reset, apart from HTTP and storage: a six-digit code e-mailed
//! to the account's address, valid for 15 minutes, five tries, once, and only in the browser that
//! asked for it.

/// How long a reset code is valid, in seconds.
pub const CODE_LIFETIME_SECONDS: i64 = 15 * 60;
/// Tries at the code before the reset is void.
pub const MAX_TRIES: i32 = 5;

use crate::i18n::Text;

/// What is known of a reset when someone uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResetFacts {
    /// The browser using it is the one that asked for it.
    pub same_browser: bool,
    pub expires_at: i64,
    /// Tries at the code so far, this one included.
    pub tries: i32,
    pub used: bool,
}

/// Why a reset can no longer be used; each asks the person for something else to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetProblem {
    /// Opened in another browser than the one that asked (a forwarded or intercepted link).
    OtherBrowser,
    Expired,
    TooManyTries,
    /// A new password was already set with it.
    Used,
}

impl ResetProblem {
    /// The message shown: what happened and what to do next.
    pub fn message(self) -> Text {
        match self {
            Self::OtherBrowser => Text::new("reset-other-browser"),
            Self::Expired => Text::new("reset-expired"),
            Self::TooManyTries => Text::new("reset-too-many-wrong"),
            Self::Used => Text::new("reset-used"),
        }
    }
}

/// Whether the reset may still be used at `now`.
pub fn check(facts: ResetFacts, now: i64) -> Result<(), ResetProblem> {
    if !facts.same_browser {
        Err(ResetProblem::OtherBrowser)
    } else if facts.used {
        Err(ResetProblem::Used)
    } else if now >= facts.expires_at {
        Err(ResetProblem::Expired)
    } else if facts.tries > MAX_TRIES {
        Err(ResetProblem::TooManyTries)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh() -> ResetFacts {
        ResetFacts {
            same_browser: true,
            expires_at: 100 + CODE_LIFETIME_SECONDS,
            tries: 1,
            used: false,
        }
    }

    #[test]
    fn a_fresh_reset_in_its_own_browser_is_usable_for_fifteen_minutes() {
        assert_eq!(check(fresh(), 100), Ok(()));
        assert_eq!(check(fresh(), 100 + 15 * 60 - 1), Ok(()));
        assert_eq!(check(fresh(), 100 + 15 * 60), Err(ResetProblem::Expired));
    }

    #[test]
    fn five_tries_then_none() {
        let facts = |tries| ResetFacts { tries, ..fresh() };
        assert_eq!(check(facts(5), 100), Ok(()));
        assert_eq!(check(facts(6), 100), Err(ResetProblem::TooManyTries));
    }

    #[test]
    fn another_browser_or_a_used_reset_is_refused() {
        let other = ResetFacts {
            same_browser: false,
            ..fresh()
        };
        assert_eq!(check(other, 100), Err(ResetProblem::OtherBrowser));
        let used = ResetFacts {
            used: true,
            ..fresh()
        };
        assert_eq!(check(used, 100), Err(ResetProblem::Used));
    }
}
