//! CSRF tokens: HMAC-SHA256 of the browser's random cookie value and the form's purpose, under a key
//! derived from the master key (OWASP's "signed double-submit" pattern). A page on another site can
//! neither read the HttpOnly cookie nor compute the token, and nothing needs to be stored.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore as _;
use subtle::ConstantTimeEq as _;

#[derive(Clone)]
pub struct CsrfKey([u8; 32]);

impl std::fmt::Debug for CsrfKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfKey(..)")
    }
}

/// A random 256-bit identifier, base64url.
pub fn random_id() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

impl CsrfKey {
    pub fn new(key: [u8; 32]) -> Self {
        Self(key)
    }

    fn mac(&self, browser_id: &str, purpose: &str) -> Vec<u8> {
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(browser_id.as_bytes());
        mac.update(b"\0");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    pub fn token(&self, browser_id: &str, purpose: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(browser_id, purpose))
    }

    /// Constant-time check of a presented token.
    pub fn verify(&self, browser_id: &str, purpose: &str, presented: &str) -> bool {
        let Ok(presented) = URL_SAFE_NO_PAD.decode(presented) else {
            return false;
        };
        self.mac(browser_id, purpose).ct_eq(&presented).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_verifies_for_same_browser_and_purpose_only() {
        let key = CsrfKey::new([7; 32]);
        let token = key.token("browser-a", "sign-in:flow1");
        assert!(key.verify("browser-a", "sign-in:flow1", &token));
        assert!(!key.verify("browser-b", "sign-in:flow1", &token));
        assert!(!key.verify("browser-a", "sign-in:flow2", &token));
        assert!(!key.verify("browser-a", "sign-in:flow1", ""));
        assert!(!CsrfKey::new([8; 32]).verify("browser-a", "sign-in:flow1", &token));
    }
}
