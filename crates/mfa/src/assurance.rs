//! What a sign-in proves: the `amr` (RFC 8176) and `acr` values of the ID token.

use crate::method::MethodKind;

/// A password alone.
pub const ACR_PASSWORD: &str = "urn:gatehouse:acr:password";
/// A password and a second factor from the strong set (authenticator app, recovery code).
pub const ACR_MFA: &str = "urn:gatehouse:acr:mfa";

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
        Some(MethodKind::Totp | MethodKind::RecoveryCode) => ACR_MFA,
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
}
