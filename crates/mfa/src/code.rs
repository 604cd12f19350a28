//! One-time codes sent to the person (by e-mail or SMS): six digits, a short lifetime, a cap on tries
//! (counted in the database by the caller), a cool-down between sends. Only a keyed hash of the code is
//! kept, bound to the challenge it was sent for, so a code from another challenge or another person
//! never matches.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::Rng as _;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;

use crate::error::MfaError;

/// Lifetime and resend rules of one channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodePolicy {
    pub lifetime_seconds: i64,
    pub resend_after_seconds: i64,
}

impl CodePolicy {
    /// E-mail: ten minutes (mail can be slow).
    pub const EMAIL: CodePolicy = CodePolicy {
        lifetime_seconds: 10 * 60,
        resend_after_seconds: 30,
    };
    /// SMS: five minutes.
    pub const SMS: CodePolicy = CodePolicy {
        lifetime_seconds: 5 * 60,
        resend_after_seconds: 30,
    };
}

/// A code that was sent: what is kept server-side until it is used or expires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentCode {
    /// Which challenge the code belongs to (random); part of the hash.
    pub challenge: String,
    pub hash: String,
    pub sent_at: i64,
    pub expires_at: i64,
}

/// Six random digits, leading zeros kept.
pub fn generate() -> String {
    format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000u32))
}

fn mac(key: &[u8; 32], challenge: &str, code: &str) -> String {
    let Ok(mut mac) = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(challenge.as_bytes());
    mac.update(b"\0");
    mac.update(code.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

impl SentCode {
    /// Records that `code` was sent at `now` under `policy`.
    pub fn new(key: &[u8; 32], code: &str, now: i64, policy: CodePolicy) -> Self {
        let challenge = {
            let mut bytes = [0u8; 16];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        };
        let hash = mac(key, &challenge, code);
        Self {
            challenge,
            hash,
            sent_at: now,
            expires_at: now + policy.lifetime_seconds,
        }
    }

    /// Checks a typed code: digits only (spaces ignored), not expired, equal in constant time.
    pub fn verify(&self, key: &[u8; 32], typed: &str, now: i64) -> Result<(), MfaError> {
        let typed: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
        if typed.len() != 6 || !typed.bytes().all(|b| b.is_ascii_digit()) || now >= self.expires_at
        {
            return Err(MfaError::WrongCode);
        }
        let matches: bool = mac(key, &self.challenge, &typed)
            .as_bytes()
            .ct_eq(self.hash.as_bytes())
            .into();
        if matches {
            Ok(())
        } else {
            Err(MfaError::WrongCode)
        }
    }

    /// Whether a new code may be sent at `now` (the cool-down against flooding someone's phone or inbox).
    pub fn may_resend(&self, now: i64, policy: CodePolicy) -> bool {
        now >= self.sent_at + policy.resend_after_seconds
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [9; 32];

    #[test]
    fn codes_are_six_digits() {
        for _ in 0..100 {
            let code = generate();
            assert_eq!(code.len(), 6);
            assert!(code.bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn right_code_verifies_until_it_expires() {
        let sent = SentCode::new(&KEY, "042917", 1000, CodePolicy::EMAIL);
        assert_eq!(sent.verify(&KEY, "042 917", 1000 + 599), Ok(()));
        assert_eq!(
            sent.verify(&KEY, "042917", 1000 + 600),
            Err(MfaError::WrongCode)
        );
    }

    #[test]
    fn wrong_or_malformed_code_is_refused() {
        let sent = SentCode::new(&KEY, "042917", 1000, CodePolicy::SMS);
        for typed in ["042918", "42917", "0429170", "abcdef", ""] {
            assert_eq!(
                sent.verify(&KEY, typed, 1001),
                Err(MfaError::WrongCode),
                "{typed:?}"
            );
        }
    }

    #[test]
    fn a_code_belongs_to_its_own_challenge() {
        let mine = SentCode::new(&KEY, "111111", 1000, CodePolicy::SMS);
        let theirs = SentCode::new(&KEY, "222222", 1000, CodePolicy::SMS);
        assert!(theirs.verify(&KEY, "111111", 1001).is_err());
        assert!(mine.verify(&KEY, "111111", 1001).is_ok());
        assert!(
            SentCode {
                hash: theirs.hash.clone(),
                ..mine.clone()
            }
            .verify(&KEY, "222222", 1001)
            .is_err()
        );
    }

    #[test]
    fn resend_waits_for_the_cool_down() {
        let sent = SentCode::new(&KEY, "111111", 1000, CodePolicy::SMS);
        assert!(!sent.may_resend(1029, CodePolicy::SMS));
        assert!(sent.may_resend(1030, CodePolicy::SMS));
    }
}
