//! Password hashing with argon2id. Unknown accounts are checked against a dummy hash with the same
//! parameters, so a wrong e-mail address costs the same time as a wrong password.

use argon2::password_hash::SaltString;
use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher as _, PasswordVerifier as _, Version,
};
use secrecy::{ExposeSecret as _, SecretString};

use crate::error::LoginError;

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
    dummy_hash: String,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passwords").finish_non_exhaustive()
    }
}

impl Passwords {
    pub fn new(params: HashParams) -> Result<Self, LoginError> {
        let params = Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            None,
        )
        .map_err(|e| LoginError::Hashing(e.to_string()))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut passwords = Self {
            argon2,
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
        let (hash, real) = match hash {
            Some(h) => (h, true),
            None => (self.dummy_hash.as_str(), false),
        };
        let Ok(parsed) = PasswordHash::new(hash) else {
            return false;
        };
        let ok = self
            .argon2
            .verify_password(password.expose_secret().as_bytes(), &parsed)
            .is_ok();
        ok && real
    }
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
