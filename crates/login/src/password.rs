//! Password hashing with argon2id. Unknown accounts, and accounts without a usable password, are
//! checked against a dummy hash with the same parameters, so a wrong e-mail address costs the same
//! time as a wrong password.
//!
//! Hashes imported from older systems ([`crate::legacy_hash`]: bcrypt, PBKDF2-SHA256, argon2 with
//! other parameters) are verified too; [`Passwords::check`] then says the hash should be replaced,
//! and hands over the new argon2id hash.

use argon2::password_hash::SaltString;
use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher as _, PasswordVerifier as _, Version,
};
use secrecy::{ExposeSecret as _, SecretString};

use crate::error::LoginError;
use crate::legacy_hash::{self, HashKind};

/// What is stored for an account that has no usable password (imported without a hash): it never
/// verifies, and checking it costs the same as checking a real hash. Such people set a password
/// with the forgotten-password flow.
pub const NO_PASSWORD: &str = "!";

/// The answer of [`Passwords::check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    /// Wrong password, no account, or no usable password.
    Wrong,
    /// Right, and the stored hash is argon2id with the current parameters.
    Right,
    /// Right, against a hash in another format or with other parameters: store `upgraded`
    /// (argon2id with the current parameters) in its place.
    RightUpgrade { upgraded: String },
}

/// argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for HashParams {
    /// OWASP's first recommended argon2id configuration.
    fn default() -> Self {
        Self {
            memory_kib: 19456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

#[derive(Clone)]
pub struct Passwords {
    argon2: Argon2<'static>,
    params: HashParams,
    dummy_hash: String,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passwords").finish_non_exhaustive()
    }
}

impl Passwords {
    pub fn new(hash_params: HashParams) -> Result<Self, LoginError> {
        let params = Params::new(
            hash_params.memory_kib,
            hash_params.iterations,
            hash_params.parallelism,
            None,
        )
        .map_err(|e| LoginError::Hashing(e.to_string()))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut passwords = Self {
            argon2,
            params: hash_params,
            dummy_hash: String::new(),
        };
        passwords.dummy_hash = passwords.hash(&SecretString::from(crate::csrf::random_id()))?;
        Ok(passwords)
    }

    /// A PHC string (`$argon2id$v=19$m=...`) with a fresh random salt.
    pub fn hash(&self, password: &SecretString) -> Result<String, LoginError> {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        self.argon2
            .hash_password(password.expose_secret().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| LoginError::Hashing(e.to_string()))
    }

    /// Checks `password` against `hash`, or against the dummy hash when there is no account, so both
    /// cases do the same work. Never true without an account. The parameters in the stored hash are used.
    pub fn verify(&self, hash: Option<&str>, password: &SecretString) -> bool {
        !matches!(self.verify_any(hash, password), Verdict::Wrong)
    }

    /// As [`Passwords::verify`], and when the stored hash is not argon2id with the current parameters
    /// (an imported legacy hash), the new hash to store in its place.
    pub fn check(
        &self,
        hash: Option<&str>,
        password: &SecretString,
    ) -> Result<Checked, LoginError> {
        Ok(match self.verify_any(hash, password) {
            Verdict::Wrong => Checked::Wrong,
            Verdict::Right { current: true } => Checked::Right,
            Verdict::Right { current: false } => Checked::RightUpgrade {
                upgraded: self.hash(password)?,
            },
        })
    }

    fn verify_any(&self, hash: Option<&str>, password: &SecretString) -> Verdict {
        let secret = password.expose_secret().as_bytes();
        let Some(hash) = hash else {
            self.verify_dummy(secret);
            return Verdict::Wrong;
        };
        match legacy_hash::kind_of(hash) {
            Some(HashKind::Argon2) => {
                let Ok(parsed) = PasswordHash::new(hash) else {
                    self.verify_dummy(secret);
                    return Verdict::Wrong;
                };
                if self.argon2.verify_password(secret, &parsed).is_ok() {
                    Verdict::Right {
                        current: self.is_current(&parsed),
                    }
                } else {
                    Verdict::Wrong
                }
            }
            Some(_) if legacy_hash::verify(hash, secret) => Verdict::Right { current: false },
            Some(_) => Verdict::Wrong,
            // No usable password (`NO_PASSWORD`) or something unknown: the same work as a real check.
            None => {
                self.verify_dummy(secret);
                Verdict::Wrong
            }
        }
    }

    fn verify_dummy(&self, secret: &[u8]) {
        if let Ok(parsed) = PasswordHash::new(&self.dummy_hash) {
            let _ = self.argon2.verify_password(secret, &parsed);
        }
    }

    /// argon2id, version 19, with exactly the configured cost.
    fn is_current(&self, parsed: &PasswordHash<'_>) -> bool {
        let Ok(params) = Params::try_from(parsed) else {
            return false;
        };
        parsed.algorithm == Algorithm::Argon2id.ident()
            && parsed.version == Some(Version::V0x13.into())
            && params.m_cost() == self.params.memory_kib
            && params.t_cost() == self.params.iterations
            && params.p_cost() == self.params.parallelism
    }
}

enum Verdict {
    Wrong,
    /// `current`: argon2id with the configured parameters.
    Right {
        current: bool,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> Passwords {
        Passwords::new(HashParams {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap()
    }

    #[test]
    fn right_password_verifies_and_wrong_one_does_not() {
        let p = cheap();
        let hash = p.hash(&"correct horse".into()).unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(p.verify(Some(&hash), &"correct horse".into()));
        assert!(!p.verify(Some(&hash), &"Correct horse".into()));
    }

    #[test]
    fn a_current_hash_needs_no_upgrade() {
        let p = cheap();
        let hash = p.hash(&"Tulip-Harbour-42".into()).unwrap();
        assert_eq!(
            p.check(Some(&hash), &"Tulip-Harbour-42".into()).unwrap(),
            Checked::Right
        );
        assert_eq!(
            p.check(Some(&hash), &"Tulip-Harbour-43".into()).unwrap(),
            Checked::Wrong
        );
    }

    #[test]
    fn a_right_legacy_hash_is_upgraded_to_current_argon2id() {
        let p = cheap();
        let bcrypt = bcrypt::hash("Tulip-Harbour-42", 4).unwrap();
        let other_params = Passwords::new(HashParams {
            memory_kib: 128,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap()
        .hash(&"Tulip-Harbour-42".into())
        .unwrap();
        for legacy in [bcrypt, other_params] {
            let Checked::RightUpgrade { upgraded } =
                p.check(Some(&legacy), &"Tulip-Harbour-42".into()).unwrap()
            else {
                panic!("{legacy} should verify and be upgraded");
            };
            assert!(
                upgraded.starts_with("$argon2id$v=19$m=64,t=1,p=1$"),
                "{upgraded}"
            );
            assert_eq!(
                p.check(Some(&upgraded), &"Tulip-Harbour-42".into())
                    .unwrap(),
                Checked::Right
            );
            assert_eq!(
                p.check(Some(&legacy), &"tulip-harbour-42".into()).unwrap(),
                Checked::Wrong
            );
        }
    }

    #[test]
    fn no_password_never_verifies() {
        let p = cheap();
        for password in ["", "!", "anything"] {
            assert!(!p.verify(Some(NO_PASSWORD), &password.into()));
        }
    }

    #[test]
    fn missing_account_never_verifies() {
        let p = cheap();
        assert!(!p.verify(None, &"anything".into()));
    }

    #[test]
    fn default_parameters_are_owasp_argon2id() {
        assert_eq!(
            HashParams::default(),
            HashParams {
                memory_kib: 19456,
                iterations: 2,
                parallelism: 1
            }
        );
    }
}
