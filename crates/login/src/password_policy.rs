//! The rules a new password must follow, per organisation.
//!
//! Two modes: `composition` (the default: at least 8 characters with a lower-case letter, an
//! upper-case letter, a digit and a special character, as the companies we serve publish to their
//! customers) and `nist` (NIST SP 800-63B §5.1.1.2: length only, at least 8, and at least 64 allowed).
//! Both refuse more than [`MAX_LENGTH`] characters, passwords found in a bundled list of common and
//! breached passwords, and passwords that contain the first part of the person's e-mail address.
//!
//! Lengths count Unicode characters (code points), not bytes. [`check`] reports every rule that
//! failed, so a form can explain them all at once; each [`PolicyViolation`] has a stable key (for
//! translations) and a plain English message that says what to do.

use std::collections::HashSet;
use std::sync::LazyLock;

use crate::i18n::Text;

use serde::{Deserialize, Serialize};

/// The longest password accepted, in characters.
pub const MAX_LENGTH: usize = 128;
/// The shortest minimum an organisation may configure.
pub const LOWEST_MIN_LENGTH: usize = 8;
/// The highest minimum an organisation may configure: NIST asks that at least 64 be allowed.
pub const HIGHEST_MIN_LENGTH: usize = 64;
/// E-mail local parts shorter than this are not looked for in the password: refusing every password
/// that contains "jo" (from `jo@example.com`) would refuse many good passwords and protect nothing.
pub const SHORTEST_LOCAL_PART: usize = 3;

/// The bundled list: 20,000 common passwords from breaches (Pwned Passwords), lower case, one a line.
/// See `crates/login/data/README.md` for where it comes from and its licence.
static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../data/common-passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect()
});

/// Which kind of rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyMode {
    /// Lower case, upper case, digit and special character, and a minimum length.
    #[default]
    Composition,
    /// NIST SP 800-63B: a minimum length only.
    Nist,
}

impl PolicyMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Composition => "composition",
            Self::Nist => "nist",
        }
    }
}

/// One organisation's password rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub mode: PolicyMode,
    /// In characters; between [`LOWEST_MIN_LENGTH`] and [`HIGHEST_MIN_LENGTH`].
    pub min_length: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self::composition()
    }
}

impl PasswordPolicy {
    /// The default: 8 characters with all four kinds of character.
    pub fn composition() -> Self {
        Self {
            mode: PolicyMode::Composition,
            min_length: LOWEST_MIN_LENGTH,
        }
    }

    /// NIST SP 800-63B: at least 8 characters, no composition rules.
    pub fn nist() -> Self {
        Self {
            mode: PolicyMode::Nist,
            min_length: LOWEST_MIN_LENGTH,
        }
    }

    /// A policy of `mode` with a minimum length other than 8; `Err` says what is wrong with it.
    pub fn with_min_length(mode: PolicyMode, min_length: usize) -> Result<Self, String> {
        if !(LOWEST_MIN_LENGTH..=HIGHEST_MIN_LENGTH).contains(&min_length) {
            return Err(format!(
                "must be between {LOWEST_MIN_LENGTH} and {HIGHEST_MIN_LENGTH}, not {min_length}"
            ));
        }
        Ok(Self { mode, min_length })
    }
}

impl PasswordPolicy {
    /// The rules in one sentence, to show beside a new-password field.
    pub fn summary(&self) -> Text {
        let text = match self.mode {
            PolicyMode::Composition => Text::new("password-rules-composition"),
            PolicyMode::Nist => Text::new("password-rules-nist"),
        };
        text.with("min", self.min_length)
    }
}

/// One rule a password broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyViolation {
    TooShort {
        min: usize,
    },
    TooLong {
        max: usize,
    },
    NoLowerCase,
    NoUpperCase,
    NoDigit,
    NoSpecialCharacter,
    /// In the bundled list of common and breached passwords.
    Common,
    /// Equal to or containing the first part of the person's e-mail address.
    ContainsEmail,
}

impl PolicyViolation {
    /// What to do, as a message for the person's language; its key is stable (for tests).
    pub fn message(&self) -> Text {
        match self {
            Self::TooShort { min } => Text::new("password-too-short").with("min", *min),
            Self::TooLong { max } => Text::new("password-too-long").with("max", *max),
            Self::NoLowerCase => Text::new("password-no-lower-case"),
            Self::NoUpperCase => Text::new("password-no-upper-case"),
            Self::NoDigit => Text::new("password-no-digit"),
            Self::NoSpecialCharacter => Text::new("password-no-special-character"),
            Self::Common => Text::new("password-common"),
            Self::ContainsEmail => Text::new("password-contains-email"),
        }
    }
}

/// Checks `password` for a person whose login address is `email`. `Err` lists every rule broken,
/// in the order above.
pub fn check(
    policy: &PasswordPolicy,
    password: &str,
    email: &str,
) -> Result<(), Vec<PolicyViolation>> {
    let mut broken = Vec::new();
    let length = password.chars().count();
    if length < policy.min_length {
        broken.push(PolicyViolation::TooShort {
            min: policy.min_length,
        });
    }
    if length > MAX_LENGTH {
        broken.push(PolicyViolation::TooLong { max: MAX_LENGTH });
    }
    if policy.mode == PolicyMode::Composition {
        if !password.chars().any(char::is_lowercase) {
            broken.push(PolicyViolation::NoLowerCase);
        }
        if !password.chars().any(char::is_uppercase) {
            broken.push(PolicyViolation::NoUpperCase);
        }
        if !password.chars().any(char::is_numeric) {
            broken.push(PolicyViolation::NoDigit);
        }
        if !password.chars().any(|c| !c.is_alphanumeric()) {
            broken.push(PolicyViolation::NoSpecialCharacter);
        }
    }
    let lowered = password.to_lowercase();
    if is_common(&lowered) {
        broken.push(PolicyViolation::Common);
    }
    if contains_local_part(&lowered, email) {
        broken.push(PolicyViolation::ContainsEmail);
    }
    if broken.is_empty() {
        Ok(())
    } else {
        Err(broken)
    }
}

/// Whether the password (any case) is in the bundled list.
pub fn is_common(password: &str) -> bool {
    COMMON_PASSWORDS.contains(password.to_lowercase().as_str())
}

/// How many passwords the bundled list holds.
pub fn common_list_len() -> usize {
    COMMON_PASSWORDS.len()
}

fn contains_local_part(lowered_password: &str, email: &str) -> bool {
    let email = email.trim().to_lowercase();
    let local = email.rsplit_once('@').map_or(email.as_str(), |(l, _)| l);
    local.chars().count() >= SHORTEST_LOCAL_PART && lowered_password.contains(local)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMAIL: &str = "ann.smith@example.com";

    fn broken(policy: &PasswordPolicy, password: &str) -> Vec<PolicyViolation> {
        check(policy, password, EMAIL).err().unwrap_or_default()
    }

    #[test]
    fn a_good_password_passes_both_modes() {
        for policy in [PasswordPolicy::composition(), PasswordPolicy::nist()] {
            assert_eq!(check(&policy, "Tulip-Harbour-42", EMAIL), Ok(()));
        }
    }

    #[test]
    fn composition_needs_eight_characters() {
        assert_eq!(
            broken(&PasswordPolicy::composition(), "Tu-l1p!"),
            [PolicyViolation::TooShort { min: 8 }]
        );
    }

    #[test]
    fn composition_needs_a_lower_case_letter() {
        assert_eq!(
            broken(&PasswordPolicy::composition(), "TULIP-HARBOUR-42"),
            [PolicyViolation::NoLowerCase]
        );
    }

    #[test]
    fn composition_needs_an_upper_case_letter() {
        assert_eq!(
            broken(&PasswordPolicy::composition(), "tulip-harbour-42"),
            [PolicyViolation::NoUpperCase]
        );
    }

    #[test]
    fn composition_needs_a_digit() {
        assert_eq!(
            broken(&PasswordPolicy::composition(), "Tulip-Harbour-xy"),
            [PolicyViolation::NoDigit]
        );
    }

    #[test]
    fn composition_needs_a_special_character() {
        assert_eq!(
            broken(&PasswordPolicy::composition(), "TulipHarbour42"),
            [PolicyViolation::NoSpecialCharacter]
        );
    }

    #[test]
    fn non_ascii_letters_count_as_letters() {
        assert_eq!(
            check(&PasswordPolicy::composition(), "Ölfjörð-42x", EMAIL),
            Ok(())
        );
    }

    #[test]
    fn every_broken_rule_is_reported() {
        assert_eq!(
            broken(&PasswordPolicy::composition(), "qzx"),
            [
                PolicyViolation::TooShort { min: 8 },
                PolicyViolation::NoUpperCase,
                PolicyViolation::NoDigit,
                PolicyViolation::NoSpecialCharacter,
            ]
        );
    }

    #[test]
    fn nist_has_no_composition_rules() {
        assert_eq!(
            check(&PasswordPolicy::nist(), "tulipharbour", EMAIL),
            Ok(())
        );
    }

    #[test]
    fn nist_needs_eight_characters() {
        assert_eq!(
            broken(&PasswordPolicy::nist(), "tulipha"),
            [PolicyViolation::TooShort { min: 8 }]
        );
    }

    #[test]
    fn nist_allows_sixty_four_characters_and_more() {
        let long = "tulip harbour ".repeat(9);
        assert_eq!(long.chars().count(), 126);
        assert_eq!(check(&PasswordPolicy::nist(), &long, EMAIL), Ok(()));
    }

    #[test]
    fn more_than_128_characters_is_refused_in_both_modes() {
        let long = format!("{}Aa1!", "x".repeat(125));
        assert_eq!(long.chars().count(), 129);
        for policy in [PasswordPolicy::composition(), PasswordPolicy::nist()] {
            assert_eq!(
                broken(&policy, &long),
                [PolicyViolation::TooLong { max: 128 }]
            );
        }
        assert_eq!(
            check(&PasswordPolicy::nist(), &long[1..], EMAIL),
            Ok(()),
            "128 is allowed"
        );
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        // Eight characters, sixteen bytes.
        assert_eq!(check(&PasswordPolicy::nist(), "ééééàààà", EMAIL), Ok(()));
    }

    #[test]
    fn a_common_password_is_refused_whatever_its_case() {
        assert_eq!(
            broken(&PasswordPolicy::nist(), "PassWord123"),
            [PolicyViolation::Common]
        );
        assert_eq!(
            broken(&PasswordPolicy::nist(), "iloveyou"),
            [PolicyViolation::Common]
        );
    }

    #[test]
    fn a_common_password_that_meets_composition_is_still_refused() {
        assert!(is_common("Password1!"), "the list should hold this one");
        assert_eq!(
            broken(&PasswordPolicy::composition(), "Password1!"),
            [PolicyViolation::Common]
        );
    }

    #[test]
    fn the_bundled_list_has_at_least_ten_thousand_entries() {
        assert!(common_list_len() >= 10_000, "{}", common_list_len());
    }

    #[test]
    fn the_e_mail_local_part_is_refused_in_any_case() {
        assert_eq!(
            broken(&PasswordPolicy::nist(), "ANN.SMITH"),
            [PolicyViolation::ContainsEmail]
        );
        assert_eq!(
            broken(&PasswordPolicy::composition(), "My-Ann.Smith-42"),
            [PolicyViolation::ContainsEmail]
        );
    }

    #[test]
    fn very_short_local_parts_are_not_looked_for() {
        assert_eq!(
            check(&PasswordPolicy::nist(), "jotted-down", "jo@example.com"),
            Ok(())
        );
        assert_eq!(
            check(&PasswordPolicy::nist(), "xannie-go-home", "ann@example.com")
                .err()
                .unwrap_or_default(),
            [PolicyViolation::ContainsEmail]
        );
    }

    #[test]
    fn a_larger_minimum_length_applies() {
        let policy = PasswordPolicy::with_min_length(PolicyMode::Nist, 12).unwrap();
        assert_eq!(
            broken(&policy, "tulipharbo"),
            [PolicyViolation::TooShort { min: 12 }]
        );
        assert!(PasswordPolicy::with_min_length(PolicyMode::Nist, 7).is_err());
        assert!(PasswordPolicy::with_min_length(PolicyMode::Nist, 65).is_err());
    }

    #[test]
    fn the_summary_names_the_mode_and_the_minimum_length() {
        assert_eq!(
            PasswordPolicy::composition().summary(),
            Text::new("password-rules-composition").with("min", 8_usize)
        );
        let nist = PasswordPolicy::with_min_length(PolicyMode::Nist, 12).unwrap();
        assert_eq!(
            nist.summary(),
            Text::new("password-rules-nist").with("min", 12_usize)
        );
    }

    #[test]
    fn every_violation_has_a_distinct_key_and_a_message() {
        let all = [
            PolicyViolation::TooShort { min: 8 },
            PolicyViolation::TooLong { max: 128 },
            PolicyViolation::NoLowerCase,
            PolicyViolation::NoUpperCase,
            PolicyViolation::NoDigit,
            PolicyViolation::NoSpecialCharacter,
            PolicyViolation::Common,
            PolicyViolation::ContainsEmail,
        ];
        let keys: HashSet<_> = all.iter().map(|v| v.message().key().to_owned()).collect();
        assert_eq!(keys.len(), all.len());
        assert_eq!(
            PolicyViolation::TooShort { min: 8 }.message(),
            Text::new("password-too-short").with("min", 8_usize)
        );
    }
}
