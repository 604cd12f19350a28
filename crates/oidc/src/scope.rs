//! Scope values (RFC 6749 §3.3): a space-delimited set, order irrelevant.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

pub const OPENID: &str = "openid";
pub const PROFILE: &str = "profile";
pub const EMAIL: &str = "email";
pub const OFFLINE_ACCESS: &str = "offline_access";

/// Scopes this server knows how to honour for a signed-in user.
pub const SUPPORTED: &[&str] = &[OPENID, PROFILE, EMAIL, OFFLINE_ACCESS];

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
pub struct Scopes(BTreeSet<String>);

impl Scopes {
    pub fn parse(text: &str) -> Self {
        Self(
            text.split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    }

    pub fn contains(&self, scope: &str) -> bool {
        self.0.contains(scope)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn is_subset(&self, other: &Scopes) -> bool {
        self.0.is_subset(&other.0)
    }

    /// Values in `self` that `allowed` does not contain.
    pub fn not_in(&self, allowed: &Scopes) -> Vec<String> {
        self.0.difference(&allowed.0).cloned().collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

impl std::fmt::Display for Scopes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let joined: Vec<&str> = self.iter().collect();
        f.write_str(&joined.join(" "))
    }
}

impl From<Scopes> for String {
    fn from(s: Scopes) -> Self {
        s.to_string()
    }
}

impl From<String> for Scopes {
    fn from(s: String) -> Self {
        Self::parse(&s)
    }
}

impl FromIterator<String> for Scopes {
    fn from_iter<I: IntoIterator<Item = String>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_ignores_repeated_spaces_and_order() {
        assert_eq!(
            Scopes::parse("email  openid"),
            Scopes::parse("openid email")
        );
        assert_eq!(Scopes::parse("openid email").to_string(), "email openid");
    }

    #[test]
    fn subset_and_difference() {
        let allowed = Scopes::parse("openid email");
        assert!(Scopes::parse("openid").is_subset(&allowed));
        assert_eq!(
            Scopes::parse("openid admin").not_in(&allowed),
            vec!["admin".to_owned()]
        );
    }
}
