//! What a sign-in proves: the `amr` (RFC 8176) and `acr` values of the ID token.

use crate::method::MethodKind;
use crate::passkey::KeyProtection;

/// A password alone.
pub const ACR_PASSWORD: &str = "urn:gatehouse:acr:password";
/// A password and a code e-mailed to a second address: two steps, but not a strong second factor
/// (NIST SP 800-63B), so a lower level than [`ACR_MFA`]; a client can demand better.
pub const ACR_MFA_EMAIL: &str = "urn:gatehouse:acr:mfa-email";
/// A password and a second factor from the strong set (authenticator app, SMS, recovery code).
pub const ACR_MFA: &str = "urn:gatehouse:acr:mfa";

/// A passkey with user verification: two factors in one, bound to this site (phishing-resistant).
pub const ACR_PHISHING_RESISTANT: &str = "urn:gatehouse:acr:phishing-resistant";

/// A password on a device where the person chose to skip the second step for a while. It satisfies
/// the organisation's policy, but not a client that asks for a second factor with `acr_values`.
pub const ACR_REMEMBERED_DEVICE: &str = "urn:gatehouse:acr:password-remembered-device";

/// The levels from weakest to strongest, for comparing what a client asks for with what was done.
pub const ACR_LEVELS: &[&str] = &[ACR_PASSWORD, ACR_MFA_EMAIL, ACR_MFA, ACR_PHISHING_RESISTANT];

/// `amr` for a passkey sign-in: the key's own value (`hwk` or `swk`), `pwd` when a password came
/// first, and `mfa` always, since user verification (PIN or biometric) is a second factor.
pub fn passkey_amr(protection: KeyProtection, after_password: bool) -> Vec<String> {
    let mut amr = Vec::new();
    if after_password {
        amr.push("pwd".to_owned());
    }
    amr.push(protection.amr().to_owned());
    amr.push("mfa".to_owned());
    amr
}

/// `amr` for a password sign-in completed with `second` (if any): `pwd`, the factor's own value, and
/// `mfa` when two independent factors were used.
pub fn amr(second: Option<MethodKind>) -> Vec<String> {
    let mut amr = vec!["pwd".to_owned()];
    if let Some(method) = second {
        amr.push(method.amr().to_owned());
        amr.push("mfa".to_owned());
    }
    amr
}

pub fn acr(second: Option<MethodKind>) -> &'static str {
    match second {
        None => ACR_PASSWORD,
        Some(MethodKind::Email) => ACR_MFA_EMAIL,
        Some(MethodKind::Totp | MethodKind::Sms | MethodKind::RecoveryCode) => ACR_MFA,
        Some(MethodKind::Passkey) => ACR_PHISHING_RESISTANT,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_alone_is_pwd() {
        assert_eq!(amr(None), ["pwd"]);
        assert_eq!(acr(None), ACR_PASSWORD);
    }

    #[test]
    fn password_and_totp_is_multi_factor() {
        assert_eq!(amr(Some(MethodKind::Totp)), ["pwd", "otp", "mfa"]);
        assert_eq!(acr(Some(MethodKind::Totp)), ACR_MFA);
    }

    #[test]
    fn passkey_is_multi_factor_on_its_own() {
        assert_eq!(passkey_amr(KeyProtection::Synced, false), ["swk", "mfa"]);
        assert_eq!(
            passkey_amr(KeyProtection::DeviceBound, true),
            ["pwd", "hwk", "mfa"]
        );
        assert_eq!(acr(Some(MethodKind::Passkey)), ACR_PHISHING_RESISTANT);
    }

    #[test]
    fn email_code_is_otp_at_a_lower_level() {
        assert_eq!(amr(Some(MethodKind::Email)), ["pwd", "otp", "mfa"]);
        assert_eq!(acr(Some(MethodKind::Email)), ACR_MFA_EMAIL);
        let level = |acr| ACR_LEVELS.iter().position(|l| *l == acr);
        assert!(level(ACR_MFA_EMAIL) < level(ACR_MFA));
    }
}
