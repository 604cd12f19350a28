//! Attempt limits for codes (NIST SP 800-63B §5.2.2): a short lock after a few wrong codes for one
//! method, and a hard lock of the account's second factor after many consecutive failures.

/// The limits. Counting happens in the database, so sessions, resent codes and other nodes share it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptPolicy {
    /// Wrong codes for one method before it is locked.
    pub max_failures: i64,
    /// How long the lock lasts (also the counting window), in seconds.
    pub lock_seconds: i64,
    /// Consecutive failures on one account, over all methods, before the second factor is locked until
    /// a successful sign-in by another route or an operator reset.
    pub max_consecutive: i64,
}

impl Default for AttemptPolicy {
    fn default() -> Self {
        Self {
            max_failures: 5,
            lock_seconds: 15 * 60,
            max_consecutive: 100,
        }
    }
}

impl AttemptPolicy {
    /// The counter key of one user's method.
    pub fn method_key(user_id: &str, method: &str) -> String {
        format!("mfa:{user_id}:{method}")
    }

    /// The counter key of one user's consecutive failures (kept in a single window that never ends).
    pub fn consecutive_key(user_id: &str) -> String {
        format!("mfa-consecutive:{user_id}")
    }

    /// The window a failure at `now` is counted in.
    pub fn window_start(&self, now: i64) -> i64 {
        now - now.rem_euclid(self.lock_seconds.max(1))
    }

    /// Failures in windows starting at or after this count against the limit.
    pub fn counting_since(&self, now: i64) -> i64 {
        self.window_start(now) - self.lock_seconds.max(1)
    }

    pub fn method_locked(&self, failures: i64) -> bool {
        failures >= self.max_failures
    }

    pub fn account_locked(&self, consecutive: i64) -> bool {
        consecutive >= self.max_consecutive
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifth_wrong_code_locks_the_method() {
        let policy = AttemptPolicy::default();
        assert!(!policy.method_locked(4));
        assert!(policy.method_locked(5));
    }

    #[test]
    fn hundred_consecutive_failures_lock_the_account() {
        let policy = AttemptPolicy::default();
        assert!(!policy.account_locked(99));
        assert!(policy.account_locked(100));
    }
}
