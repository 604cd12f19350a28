//! Authenticator apps: RFC 6238 TOTP with 6 digits, 30-second steps and SHA-1 (what every app
//! supports), one step of clock skew each way, and each step accepted at most once.

use base64::Engine as _;
use qrcode::QrCode;
use qrcode::render::svg;
use rand::RngCore as _;
use totp_rs::{Algorithm, Builder, Secret, Totp};

use crate::error::MfaError;

pub const DIGITS: u8 = 6;
pub const STEP_SECONDS: u64 = 30;
pub const SKEW_STEPS: u16 = 1;
const SECRET_BYTES: usize = 20;

/// A shared TOTP secret (160 bits). Debug output is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(..)")
    }
}

impl TotpSecret {
    pub fn generate() -> Self {
        let mut bytes = vec![0u8; SECRET_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The secret as people type it into an app: base32 in groups of four.
    pub fn grouped_base32(&self) -> String {
        let plain = Secret::new(self.0.clone().into_boxed_slice()).to_base32();
        let chars: Vec<char> = plain.trim_end_matches('=').chars().collect();
        chars
            .chunks(4)
            .map(|c| c.iter().collect::<String>())
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn totp(&self, issuer: &str, account: &str) -> Result<Totp, MfaError> {
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(DIGITS)
            .with_skew(SKEW_STEPS)
            .with_step_duration(STEP_SECONDS)
            .with_secret(Secret::new(self.0.clone().into_boxed_slice()))
            // The otpauth label may not contain a colon.
            .with_issuer(Some(issuer.replace(':', " ")))
            .with_account_name(account.replace(':', " "))
            .build()
            .map_err(|e| MfaError::Secret(e.to_string()))
    }
}

/// What the enrolment page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provisioning {
    /// `otpauth://totp/...`
    pub uri: String,
    /// The URI as a QR code, an SVG document rendered here (no outside service).
    pub qr_svg: String,
    /// The same QR code as a `data:` URI, for an `<img>` under a strict content security policy.
    pub qr_data_uri: String,
    /// The secret for typing in by hand.
    pub grouped_secret: String,
}

/// Enrol: what an app needs to add the account, labelled `issuer` (the organisation) and `account`
/// (the person's e-mail address).
pub fn provisioning(
    secret: &TotpSecret,
    issuer: &str,
    account: &str,
) -> Result<Provisioning, MfaError> {
    let uri = secret
        .totp(issuer, account)?
        .to_url()
        .map_err(|e| MfaError::Secret(e.to_string()))?;
    let qr_svg = QrCode::new(uri.as_bytes())
        .map_err(|e| MfaError::Secret(e.to_string()))?
        .render::<svg::Color<'_>>()
        .min_dimensions(220, 220)
        .quiet_zone(true)
        .build();
    let qr_data_uri = format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(&qr_svg)
    );
    Ok(Provisioning {
        uri,
        qr_svg,
        qr_data_uri,
        grouped_secret: secret.grouped_base32(),
    })
}

/// Verify: checks `code` at `now` and returns the time step it matched. A step at or before
/// `last_used_step` is refused, so a code accepted once cannot be replayed (RFC 6238 §5.2).
pub fn verify(
    secret: &TotpSecret,
    code: &str,
    now: i64,
    last_used_step: Option<i64>,
) -> Result<i64, MfaError> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != usize::from(DIGITS) || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(MfaError::WrongCode);
    }
    let totp = secret.totp("gatehouse", "account")?;
    let now = u64::try_from(now).map_err(|_| MfaError::WrongCode)?;
    let step = totp.check(&code, now).ok_or(MfaError::WrongCode)?;
    let step = i64::try_from(step).map_err(|_| MfaError::WrongCode)?;
    if last_used_step.is_some_and(|last| step <= last) {
        return Err(MfaError::Replayed);
    }
    Ok(step)
}

/// The code an app shows at `now` (for tests and the demo).
pub fn code_at(secret: &TotpSecret, now: i64) -> Result<String, MfaError> {
    let now = u64::try_from(now).map_err(|_| MfaError::WrongCode)?;
    Ok(secret
        .totp("gatehouse", "account")?
        .generate(now)
        .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238 Appendix B, SHA-1 seed, truncated to 6 digits.
    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(b"12345678901234567890".to_vec())
    }

    #[test]
    fn rfc_6238_vectors_verify() {
        assert_eq!(code_at(&rfc_secret(), 59).unwrap(), "287082");
        assert_eq!(code_at(&rfc_secret(), 1111111109).unwrap(), "081804");
        assert_eq!(
            verify(&rfc_secret(), "081804", 1111111109, None),
            Ok(1111111109 / 30)
        );
    }

    #[test]
    fn one_step_of_skew_each_way_is_accepted_and_two_are_not() {
        let secret = TotpSecret::generate();
        let now = 1_800_000_000;
        for (offset, ok) in [
            (-60, false),
            (-30, true),
            (0, true),
            (30, true),
            (60, false),
        ] {
            let code = code_at(&secret, now + offset).unwrap();
            assert_eq!(
                verify(&secret, &code, now, None).is_ok(),
                ok,
                "offset {offset}"
            );
        }
    }

    #[test]
    fn replayed_code_is_refused() {
        let secret = TotpSecret::generate();
        let now = 1_800_000_000;
        let code = code_at(&secret, now).unwrap();
        let step = verify(&secret, &code, now, None).unwrap();
        assert_eq!(
            verify(&secret, &code, now + 5, Some(step)),
            Err(MfaError::Replayed)
        );
        let earlier = code_at(&secret, now - 30).unwrap();
        assert_eq!(
            verify(&secret, &earlier, now, Some(step)),
            Err(MfaError::Replayed)
        );
    }

    #[test]
    fn malformed_codes_are_wrong() {
        let secret = TotpSecret::generate();
        for code in ["", "12345", "1234567", "12a456", "-12345"] {
            assert_eq!(
                verify(&secret, code, 1_800_000_000, None),
                Err(MfaError::WrongCode),
                "{code:?}"
            );
        }
    }

    #[test]
    fn spaces_in_a_code_are_ignored() {
        let secret = TotpSecret::generate();
        let code = code_at(&secret, 1_800_000_000).unwrap();
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert!(verify(&secret, &spaced, 1_800_000_000, None).is_ok());
    }

    #[test]
    fn provisioning_labels_issuer_and_account() {
        let p = provisioning(&TotpSecret::generate(), "Acme: Hosting", "ann@example.com").unwrap();
        assert!(p.uri.starts_with("otpauth://totp/"), "{}", p.uri);
        // The colon separating issuer and account in the label is the only one.
        assert!(
            p.uri
                .starts_with("otpauth://totp/Acme%20%20Hosting:ann%40example.com?"),
            "{}",
            p.uri
        );
        assert!(p.uri.ends_with("&issuer=Acme%20%20Hosting"), "{}", p.uri);
        assert!(p.qr_svg.contains("<svg"));
        assert_eq!(
            p.grouped_secret.split(' ').count(),
            8,
            "{}",
            p.grouped_secret
        );
    }
}
