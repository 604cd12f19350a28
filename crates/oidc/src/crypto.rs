//! The master key: encrypts private keys and secrets at rest, and derives purpose-bound sub-keys.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore as _;

use crate::error::{Error, Result};

/// 256-bit key. Its Debug output is redacted.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        Self(key)
    }

    /// Parses 32 bytes written as standard base64.
    pub fn from_base64(text: &str) -> Result<Self, String> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| "the master key is not valid base64".to_owned())?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "the master key must be 32 bytes (44 characters of base64)".to_owned())?;
        Ok(Self(key))
    }

    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// A sub-key for one purpose (HMAC-SHA256 of the purpose under the master key).
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// Encrypts with XChaCha20-Poly1305; `context` (e.g. a key id) is bound as associated data.
    pub fn seal(&self, plaintext: &[u8], context: &str) -> Result<String> {
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ciphertext = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| Error::Keys("encryption failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ciphertext);
        Ok(URL_SAFE_NO_PAD.encode(out))
    }

    /// Decrypts what [`MasterKey::seal`] produced with the same context.
    pub fn open(&self, sealed: &str, context: &str) -> Result<Vec<u8>> {
        let bytes = URL_SAFE_NO_PAD
            .decode(sealed)
            .map_err(|_| Error::Keys("sealed value is not base64url".into()))?;
        if bytes.len() < 24 {
            return Err(Error::Keys("sealed value is too short".into()));
        }
        let (nonce, ciphertext) = bytes.split_at(24);
        XChaCha20Poly1305::new((&self.0).into())
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| Error::Keys("cannot decrypt: wrong master key or tampered value".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_value_opens_with_same_key_and_context() {
        let key = MasterKey::generate();
        let sealed = key.seal(b"secret", "kid-1").unwrap();
        assert_eq!(key.open(&sealed, "kid-1").unwrap(), b"secret");
    }

    #[test]
    fn sealed_value_does_not_open_with_other_context_or_key() {
        let key = MasterKey::generate();
        let sealed = key.seal(b"secret", "kid-1").unwrap();
        assert!(key.open(&sealed, "kid-2").is_err());
        assert!(MasterKey::generate().open(&sealed, "kid-1").is_err());
    }

    #[test]
    fn master_key_must_be_32_bytes() {
        assert!(MasterKey::from_base64("c2hvcnQ=").is_err());
        let key = MasterKey::generate();
        assert_eq!(MasterKey::from_base64(&key.to_base64()).unwrap().0, key.0);
    }
}
