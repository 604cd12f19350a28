//! Access tokens whose signature this node has already checked.
//!
//! An ES256 signature check is most of the CPU of a userinfo or introspection request, and resource
//! servers present the same token again and again until it expires. The result of checking one exact
//! token string never changes, so it is remembered under the token's SHA-256: a later presentation
//! of the same string skips the signature, nothing else (expiry, revocation, the grant and the key
//! still being in the key set are checked every time). Failures are not remembered.
//!
//! Bounded by two generations of [`GENERATION`] entries: when the newer fills up, the older is
//! dropped, so the tokens in use stay and the memory does not grow.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use sha2::{Digest as _, Sha256};

use crate::token::AccessTokenClaims;

const GENERATION: usize = 4096;

/// A checked token: its claims and the key that signed it.
#[derive(Debug)]
pub(crate) struct Verified {
    pub claims: AccessTokenClaims,
    pub kid: String,
}

#[derive(Debug, Default)]
pub(crate) struct VerifiedTokens {
    generations: Mutex<Generations>,
}

#[derive(Debug, Default)]
struct Generations {
    newer: HashMap<[u8; 32], Arc<Verified>>,
    older: HashMap<[u8; 32], Arc<Verified>>,
}

impl VerifiedTokens {
    pub(crate) fn get(&self, token: &str) -> Option<Arc<Verified>> {
        let key = digest(token);
        let mut generations = self.lock();
        if let Some(found) = generations.newer.get(&key) {
            return Some(Arc::clone(found));
        }
        let found = generations.older.remove(&key)?;
        generations.insert(key, Arc::clone(&found));
        Some(found)
    }

    pub(crate) fn remember(&self, token: &str, verified: Arc<Verified>) {
        self.lock().insert(digest(token), verified);
    }

    fn lock(&self) -> MutexGuard<'_, Generations> {
        self.generations
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Generations {
    fn insert(&mut self, key: [u8; 32], verified: Arc<Verified>) {
        if self.newer.len() >= GENERATION {
            self.older = std::mem::take(&mut self.newer);
        }
        self.newer.insert(key, verified);
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verified(jti: &str) -> Arc<Verified> {
        Arc::new(Verified {
            claims: AccessTokenClaims {
                iss: "i".into(),
                sub: "s".into(),
                aud: "a".into(),
                exp: 10,
                iat: 1,
                jti: jti.into(),
                client_id: "c".into(),
                scope: "openid".into(),
                auth_time: None,
                gid: None,
            },
            kid: "k".into(),
        })
    }

    #[test]
    fn only_the_exact_token_string_is_found() {
        let cache = VerifiedTokens::default();
        cache.remember("a.b.c", verified("1"));
        assert_eq!(cache.get("a.b.c").unwrap().claims.jti, "1");
        assert!(cache.get("a.b.d").is_none());
        assert!(cache.get("a.b.c ").is_none());
    }

    #[test]
    fn the_cache_is_bounded_and_keeps_what_is_used() {
        let cache = VerifiedTokens::default();
        cache.remember("kept", verified("kept"));
        for i in 0..(3 * GENERATION) {
            cache.remember(&format!("t{i}"), verified("x"));
            // Used all along, so it moves to the newer generation and stays.
            assert!(cache.get("kept").is_some(), "lost after {i}");
        }
        let generations = cache.lock();
        assert!(generations.newer.len() + generations.older.len() <= 2 * GENERATION);
        assert!(!generations.newer.contains_key(&digest("t0")));
        assert!(!generations.older.contains_key(&digest("t0")));
    }
}
