//! Throttling repeated sign-in failures, per account and per client address. Failures are counted in
//! fixed windows; a key is blocked while the current and the previous window together hold `limit`
//! failures, which approximates a sliding window without a row per attempt.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    pub window_seconds: i64,
    pub per_account: i64,
    pub per_address: i64,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            window_seconds: 900,
            per_account: 5,
            per_address: 50,
        }
    }
}

impl ThrottlePolicy {
    /// The start of the window `now` falls in.
    pub fn window_start(&self, now: i64) -> i64 {
        now - now.rem_euclid(self.window_seconds.max(1))
    }

    /// Failures in windows starting at or after this count against the limit.
    pub fn counting_since(&self, now: i64) -> i64 {
        self.window_start(now) - self.window_seconds.max(1)
    }

    /// Key for an account, by the address typed (so unknown addresses are throttled alike).
    pub fn account_key(normalized_email: &str) -> String {
        format!("sign-in:account:{normalized_email}")
    }

    pub fn address_key(ip: &str) -> String {
        format!("sign-in:ip:{ip}")
    }

    pub fn account_blocked(&self, failures: i64) -> bool {
        failures >= self.per_account
    }

    pub fn address_blocked(&self, failures: i64) -> bool {
        failures >= self.per_address
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_aligned_and_previous_window_counts() {
        let policy = ThrottlePolicy::default();
        assert_eq!(policy.window_start(1000), 900);
        assert_eq!(policy.counting_since(1000), 0);
    }

    #[test]
    fn account_is_blocked_at_the_limit() {
        let policy = ThrottlePolicy::default();
        assert!(!policy.account_blocked(4));
        assert!(policy.account_blocked(5));
        assert!(!policy.address_blocked(49));
        assert!(policy.address_blocked(50));
    }
}
