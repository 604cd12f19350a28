//! Password hashing with argon2id. Unknown accounts, and accounts without a usable password, are
//! checked against a dummy hash with the same parameters, so a wrong e-mail address costs the same
//! time as a wrong password.
//!
//! Hashes imported from older systems ([`crate::legacy_hash`]: bcrypt, PBKDF2-SHA256, argon2 with
//! other parameters) are verified too; [`Passwords::check`] then says the hash should be replaced,
//! and hands over the new argon2id hash.

use std::sync::{Arc, Mutex};

use argon2::password_hash::SaltString;
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, PasswordHasher as _, Version};
use secrecy::{ExposeSecret as _, SecretString};
use subtle::ConstantTimeEq as _;

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
    memory: Arc<MemoryPool>,
}

/// argon2's working memory (19 MiB with the default parameters), kept between checks instead of
/// allocated and zeroed for each one. Besides the time, this keeps the process small: the allocator
/// would otherwise keep freed 19 MiB blocks in each thread's arena. Checks run at most
/// `max_concurrent_hashes` at once, so the pool holds that many buffers; a few more are kept at most.
/// [`Passwords::release_idle_memory`], called every few seconds, frees them once a whole period went
/// by without a check: between bursts of sign-ins the memory goes back to the system.
#[derive(Default)]
struct MemoryPool(Mutex<Pooled>);

#[derive(Default)]
struct Pooled {
    buffers: Vec<Vec<Block>>,
    in_flight: usize,
    /// A check started or ended since the last [`MemoryPool::release_idle`].
    used: bool,
}

const POOLED_BUFFERS: usize = 8;

impl MemoryPool {
    fn take(&self, blocks: usize) -> Vec<Block> {
        let pooled = {
            let mut pool = self.0.lock().unwrap_or_else(|p| p.into_inner());
            pool.in_flight += 1;
            pool.used = true;
            pool.buffers.pop()
        };
        match pooled {
            Some(buffer) if buffer.len() >= blocks => buffer,
            _ => vec![Block::default(); blocks],
        }
    }

    fn give(&self, buffer: Vec<Block>) {
        let mut pool = self.0.lock().unwrap_or_else(|p| p.into_inner());
        pool.in_flight = pool.in_flight.saturating_sub(1);
        pool.used = true;
        if pool.buffers.len() < POOLED_BUFFERS {
            pool.buffers.push(buffer);
        }
    }

    /// Frees the buffers when no check started or ended since the last call and none is running.
    fn release_idle(&self) {
        let mut pool = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if !pool.used && pool.in_flight == 0 {
            pool.buffers = Vec::new();
        }
        pool.used = false;
    }
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
            memory: Arc::default(),
        };
        passwords.dummy_hash = passwords.hash(&SecretString::from(crate::csrf::random_id()))?;
        Ok(passwords)
    }

    /// Gives argon2's pooled working memory back to the system when no check ran since the last call.
    /// The server calls it every few seconds.
    pub fn release_idle_memory(&self) {
        self.memory.release_idle();
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

    /// Whether `secret` matches the argon2 PHC string `phc` (a client secret's stored hash), with
    /// working memory from the same pool as password checks, so these checks add no memory of their own.
    pub fn matches_phc(&self, phc: &str, secret: &[u8]) -> bool {
        PasswordHash::new(phc).is_ok_and(|parsed| self.matches(secret, &parsed))
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
                if self.matches(secret, &parsed) {
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
            let _ = self.matches(secret, &parsed);
        }
    }

    /// What `argon2::PasswordVerifier` does, with working memory from the pool: recompute the hash
    /// with the stored algorithm, version, parameters and salt, and compare in constant time.
    fn matches(&self, password: &[u8], stored: &PasswordHash<'_>) -> bool {
        let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) = (
            Algorithm::try_from(stored.algorithm),
            Params::try_from(stored),
            stored.salt,
            stored.hash,
        ) else {
            return false;
        };
        let version = match stored.version.map(Version::try_from) {
            None => Version::V0x13,
            Some(Ok(version)) => version,
            Some(Err(_)) => return false,
        };
        let mut salt_bytes = [0u8; 64];
        let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
            return false;
        };
        let mut computed = vec![0u8; expected.len()];
        let mut memory = self.memory.take(params.block_count());
        let hashed = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
            password,
            salt,
            &mut computed,
            &mut memory,
        );
        self.memory.give(memory);
        hashed.is_ok() && bool::from(computed.ct_eq(expected.as_bytes()))
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
    fn client_secret_hashes_check_with_the_pooled_memory() {
        let p = cheap();
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let phc = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(256, 2, 1, None).unwrap(),
        )
        .hash_password(b"client secret", &salt)
        .unwrap()
        .to_string();
        assert!(p.matches_phc(&phc, b"client secret"));
        assert!(!p.matches_phc(&phc, b"client secreT"));
        assert!(!p.matches_phc("not a hash", b"client secret"));
        assert!(!p.matches_phc("$argon2id$v=19$m=256,t=2,p=1$", b"client secret"));
    }

    #[test]
    fn hashes_made_elsewhere_verify_with_their_own_parameters() {
        let p = cheap();
        // Made with other parameters (and another library call) than `cheap()` uses.
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let other = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(128, 2, 1, None).unwrap(),
        )
        .hash_password(b"correct horse", &salt)
        .unwrap()
        .to_string();
        assert!(p.verify(Some(&other), &"correct horse".into()));
        assert!(!p.verify(Some(&other), &"correct horsf".into()));
        // Argon2i and the older version are still checked by what the hash says it is.
        let argon2i = Argon2::new(
            Algorithm::Argon2i,
            Version::V0x10,
            Params::new(64, 1, 1, None).unwrap(),
        )
        .hash_password(b"pw", &salt)
        .unwrap()
        .to_string();
        assert!(p.verify(Some(&argon2i), &"pw".into()));
        assert!(!p.verify(Some(&argon2i), &"px".into()));
    }

    #[test]
    fn working_memory_is_reused_across_checks_of_different_sizes() {
        let p = cheap();
        let small = p.hash(&"one".into()).unwrap();
        let big = Passwords::new(HashParams {
            memory_kib: 256,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap()
        .hash(&"two".into())
        .unwrap();
        for _ in 0..3 {
            assert!(p.verify(Some(&big), &"two".into()));
            assert!(p.verify(Some(&small), &"one".into()));
            assert!(!p.verify(Some(&small), &"two".into()));
        }
        let pool = p.memory.0.lock().unwrap();
        assert_eq!(
            pool.buffers.len(),
            1,
            "one check at a time needs one buffer"
        );
        assert_eq!(pool.in_flight, 0);
    }

    #[test]
    fn working_memory_is_freed_after_a_whole_period_without_checks() {
        let p = cheap();
        let hash = p.hash(&"one".into()).unwrap();
        assert!(p.verify(Some(&hash), &"one".into()));
        p.release_idle_memory();
        assert_eq!(
            p.memory.0.lock().unwrap().buffers.len(),
            1,
            "used this period"
        );
        p.release_idle_memory();
        assert!(p.memory.0.lock().unwrap().buffers.is_empty(), "idle period");
        assert!(p.verify(Some(&hash), &"one".into()), "works again after");
    }

    #[test]
    fn working_memory_in_use_is_never_freed() {
        let pool = MemoryPool::default();
        let first = pool.take(16);
        let second = pool.take(16);
        pool.give(first);
        pool.release_idle();
        pool.release_idle();
        assert_eq!(
            pool.0.lock().unwrap().buffers.len(),
            1,
            "a check is running"
        );
        pool.give(second);
        pool.release_idle();
        assert_eq!(pool.0.lock().unwrap().buffers.len(), 2, "used this period");
        pool.release_idle();
        assert!(pool.0.lock().unwrap().buffers.is_empty());
    }

    #[test]
    fn malformed_hash_never_verifies() {
        let p = cheap();
        assert!(!p.verify(Some("not a hash"), &"x".into()));
        assert!(!p.verify(Some("$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ"), &"x".into()));
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
