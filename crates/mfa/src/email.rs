//! E-mail codes: a second address that receives a six-digit code at each sign-in.
//!
//! NIST SP 800-63B does not count an e-mailed code as a strong second factor (mail is often reachable
//! with the same password); Gatehouse offers it where the organisation allows it, and says so in the
//! token: `acr` is a lower level than for an authenticator app.

/// The form addresses are compared in: trimmed, lower case.
pub fn normalize(address: &str) -> String {
    address.trim().to_lowercase()
}

/// Why a second address was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressProblem {
    /// Not of the form `local@domain.tld`.
    Malformed,
    /// The same as the login address: a second factor must be somewhere else.
    SameAsLogin,
}

/// The address, normalised, when it is of the form `local@domain.tld` (and could not smuggle a
/// header or a second recipient); else `None`.
pub fn plausible_address(address: &str) -> Option<String> {
    let address = normalize(address);
    let (local, domain) = address.split_once('@')?;
    let plausible = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && address.len() <= 254
        && !address.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';' | '"')
        })
        && address.matches('@').count() == 1;
    plausible.then_some(address)
}

/// Checks a second address for codes against the login address.
pub fn check_second_address(address: &str, login: &str) -> Result<String, AddressProblem> {
    let address = plausible_address(address).ok_or(AddressProblem::Malformed)?;
    if address == normalize(login) {
        return Err(AddressProblem::SameAsLogin);
    }
    Ok(address)
}

/// `a***@example.com`: enough for the person to recognise, not enough to harvest.
pub fn mask(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_address_must_differ_from_login_whatever_the_case() {
        assert_eq!(
            check_second_address(" Ann.Backup@Example.org ", "ann@example.com"),
            Ok("ann.backup@example.org".into())
        );
        assert_eq!(
            check_second_address("ANN@example.com", "ann@Example.com"),
            Err(AddressProblem::SameAsLogin)
        );
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "a b@example.com",
            "a@b@example.com",
            "ann@.example.com",
            "<ann@example.com>",
        ] {
            assert_eq!(
                check_second_address(bad, "x@example.com"),
                Err(AddressProblem::Malformed),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn masked_address_keeps_the_first_letter_and_domain() {
        assert_eq!(mask("ann.backup@example.org"), "a***@example.org");
    }
}
