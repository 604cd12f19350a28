//! What a sign-in proves: the `amr` (RFC 8176) and `acr` values of the ID token.

use crate::method::MethodKind;

/// A password alone.
pub const ACR_PASSWORD: &str = "urn:gatehouse:acr:password";
/// A password and a code e-mailed to a second address: two steps, but not a strong second factor
/// (NIST SP 800-63B), so a lower level than [`ACR_MFA`]; a client can demand better.
pub const ACR_MFA_EMAIL: &str = "urn:gatehouse:acr:mfa-email";
/// A password and a second factor from the strong set (authenticator app, SMS, recovery code).
pub const ACR_MFA: &str = "urn:gatehouse:acr:mfa";

/// The levels from weakest to strongest, for comparing what a client asks for with what was done.
pub const ACR_LEVELS: &[&str] = &[ACR_PASSWORD, ACR_MFA_EMAIL, ACR_MFA];

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
    fn email_code_is_otp_at_a_lower_level() {
        assert_eq!(amr(Some(MethodKind::Email)), ["pwd", "otp", "mfa"]);
        assert_eq!(acr(Some(MethodKind::Email)), ACR_MFA_EMAIL);
        let level = |acr| ACR_LEVELS.iter().position(|l| *l == acr);
        assert!(level(ACR_MFA_EMAIL) < level(ACR_MFA));
    }
}
