//! Signing keys: generated at first start, private parts sealed with the master key, parsed once into
//! signers and verifiers. A [`KeyRing`] holds the current [`KeySet`] and can be swapped when keys rotate.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use josekit::jwk::Jwk;
use josekit::jwk::alg::ed::EdCurve;
use josekit::jws::{ES256, EdDSA, JwsSigner, JwsVerifier, RS256};
use serde::{Deserialize, Serialize};

use crate::crypto::MasterKey;
use crate::error::{Error, Result};
use crate::store::StoredKey;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SigningAlg {
    RS256,
    ES256,
    EdDSA,
}

impl SigningAlg {
    pub const ALL: [SigningAlg; 3] = [SigningAlg::RS256, SigningAlg::ES256, SigningAlg::EdDSA];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::ES256 => "ES256",
            Self::EdDSA => "EdDSA",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|alg| alg.as_str() == text)
    }
}

fn jose(e: josekit::JoseError) -> Error {
    Error::Keys(e.to_string())
}

/// Generates a key pair for `alg` and seals its private part.
pub fn generate(alg: SigningAlg, master: &MasterKey, now: i64) -> Result<StoredKey> {
    let kid = format!(
        "{}-{}",
        alg.as_str().to_ascii_lowercase(),
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let (private, mut public) = match alg {
        SigningAlg::RS256 => {
            let pair = RS256.generate_key_pair(2048).map_err(jose)?;
            (pair.to_jwk_private_key(), pair.to_jwk_public_key())
        }
        SigningAlg::ES256 => {
            let pair = ES256.generate_key_pair().map_err(jose)?;
            (pair.to_jwk_private_key(), pair.to_jwk_public_key())
        }
        SigningAlg::EdDSA => {
            let pair = EdDSA.generate_key_pair(EdCurve::Ed25519).map_err(jose)?;
            (pair.to_jwk_private_key(), pair.to_jwk_public_key())
        }
    };
    public.set_key_id(&kid);
    public.set_algorithm(alg.as_str());
    public.set_key_use("sig");
    let private_json =
        serde_json::to_vec(private.as_ref()).map_err(|e| Error::Keys(e.to_string()))?;
    Ok(StoredKey {
        private_sealed: master.seal(&private_json, &kid)?,
        public_jwk: serde_json::to_string(public.as_ref())
            .map_err(|e| Error::Keys(e.to_string()))?,
        kid,
        alg,
        created_at: now,
        retired_at: None,
    })
}

/// One usable key: parsed once, used for every token it signs or checks.
pub struct LoadedKey {
    pub kid: String,
    pub alg: SigningAlg,
    pub created_at: i64,
    pub retired_at: Option<i64>,
    pub(crate) signer: Box<dyn JwsSigner>,
    pub(crate) verifier: Box<dyn JwsVerifier>,
}

impl std::fmt::Debug for LoadedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl LoadedKey {
    fn load(stored: &StoredKey, master: &MasterKey) -> Result<Self> {
        let private_json = master.open(&stored.private_sealed, &stored.kid)?;
        let private = Jwk::from_bytes(&private_json).map_err(jose)?;
        let public = Jwk::from_bytes(stored.public_jwk.as_bytes()).map_err(jose)?;
        let (signer, verifier): (Box<dyn JwsSigner>, Box<dyn JwsVerifier>) = match stored.alg {
            SigningAlg::RS256 => (
                Box::new(RS256.signer_from_jwk(&private).map_err(jose)?),
                Box::new(RS256.verifier_from_jwk(&public).map_err(jose)?),
            ),
            SigningAlg::ES256 => (
                Box::new(crate::es256::Es256Signer::from_jwk(&private).map_err(jose)?),
                Box::new(ES256.verifier_from_jwk(&public).map_err(jose)?),
            ),
            SigningAlg::EdDSA => (
                Box::new(EdDSA.signer_from_jwk(&private).map_err(jose)?),
                Box::new(EdDSA.verifier_from_jwk(&public).map_err(jose)?),
            ),
        };
        Ok(Self {
            kid: stored.kid.clone(),
            alg: stored.alg,
            created_at: stored.created_at,
            retired_at: stored.retired_at,
            signer,
            verifier,
        })
    }
}

/// The keys in force at one moment, with the JWKS document rendered once.
#[derive(Debug, Default)]
pub struct KeySet {
    keys: Vec<LoadedKey>,
    by_kid: HashMap<String, usize>,
    signing: HashMap<SigningAlg, usize>,
    jwks_json: String,
    fingerprint: Vec<(String, Option<i64>)>,
}

impl KeySet {
    /// Loads every key that may still verify a live token: keys not yet retired (including rotated-in
    /// keys that do not sign yet), and retired keys until `retired_at + verify_window` (the longest
    /// lifetime of a signed token) has passed. A key signs from its `created_at` until its `retired_at`;
    /// the newest such key signs for its algorithm.
    pub fn load(
        stored: &[StoredKey],
        master: &MasterKey,
        now: i64,
        verify_window: i64,
    ) -> Result<Self> {
        let mut set = KeySet::default();
        let mut jwks = Vec::new();
        for key in stored {
            if key
                .retired_at
                .is_some_and(|retired| retired + verify_window <= now)
            {
                continue;
            }
            let loaded = LoadedKey::load(key, master)?;
            let index = set.keys.len();
            let signs_now =
                loaded.created_at <= now && loaded.retired_at.is_none_or(|retired| retired > now);
            if signs_now {
                let newer = set
                    .signing
                    .get(&loaded.alg)
                    .is_none_or(|&i| set.keys[i].created_at <= loaded.created_at);
                if newer {
                    set.signing.insert(loaded.alg, index);
                }
            }
            set.by_kid.insert(loaded.kid.clone(), index);
            set.fingerprint.push((key.kid.clone(), key.retired_at));
            jwks.push(
                serde_json::from_str::<serde_json::Value>(&key.public_jwk)
                    .map_err(|e| Error::Keys(e.to_string()))?,
            );
            set.keys.push(loaded);
        }
        set.jwks_json = serde_json::json!({ "keys": jwks }).to_string();
        for alg in SigningAlg::ALL {
            if let Some(key) = set.signing_key(alg) {
                set.fingerprint.push((format!("signing:{}", key.kid), None));
            }
        }
        Ok(set)
    }

    /// The key that signs for `alg` now.
    pub fn signing_key(&self, alg: SigningAlg) -> Option<&LoadedKey> {
        self.signing.get(&alg).map(|&i| &self.keys[i])
    }

    pub fn by_kid(&self, kid: &str) -> Option<&LoadedKey> {
        self.by_kid.get(kid).map(|&i| &self.keys[i])
    }

    /// Algorithms that lack an active key.
    pub fn missing_algs(&self) -> Vec<SigningAlg> {
        SigningAlg::ALL
            .into_iter()
            .filter(|alg| self.signing_key(*alg).is_none())
            .collect()
    }

    pub fn jwks_json(&self) -> &str {
        &self.jwks_json
    }

    /// Which keys are loaded, whether they are retired and which sign; equal fingerprints mean nothing
    /// changed.
    pub fn fingerprint(&self) -> &[(String, Option<i64>)] {
        &self.fingerprint
    }
}

/// The current [`KeySet`], replaceable while requests use the old one.
#[derive(Debug, Default)]
pub struct KeyRing(RwLock<Arc<KeySet>>);

impl KeyRing {
    pub fn new(set: KeySet) -> Self {
        Self(RwLock::new(Arc::new(set)))
    }

    pub fn current(&self) -> Arc<KeySet> {
        match self.0.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn replace(&self, set: KeySet) {
        match self.0.write() {
            Ok(mut guard) => *guard = Arc::new(set),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(set),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retired_key_is_published_until_its_tokens_expire_but_never_signs() {
        let master = MasterKey::generate();
        let mut old = generate(SigningAlg::ES256, &master, 100).unwrap();
        let new = generate(SigningAlg::ES256, &master, 200).unwrap();
        old.retired_at = Some(200);
        let keys = [old.clone(), new.clone()];

        let set = KeySet::load(&keys, &master, 250, 3600).unwrap();
        assert_eq!(set.signing_key(SigningAlg::ES256).unwrap().kid, new.kid);
        assert!(set.by_kid(&old.kid).is_some());
        assert!(set.jwks_json().contains(&old.kid));

        let later = KeySet::load(&keys, &master, 200 + 3600, 3600).unwrap();
        assert!(later.by_kid(&old.kid).is_none());
        assert!(!later.jwks_json().contains(&old.kid));
    }

    #[test]
    fn rotated_in_key_is_published_before_it_signs() {
        let master = MasterKey::generate();
        let mut old = generate(SigningAlg::RS256, &master, 100).unwrap();
        let mut new = generate(SigningAlg::RS256, &master, 100).unwrap();
        // Rotated at 200, taking over at 260.
        new.created_at = 260;
        old.retired_at = Some(260);
        let keys = [old.clone(), new.clone()];

        let during = KeySet::load(&keys, &master, 230, 600).unwrap();
        assert_eq!(during.signing_key(SigningAlg::RS256).unwrap().kid, old.kid);
        assert!(
            during.jwks_json().contains(&new.kid),
            "published ahead of use"
        );

        let after = KeySet::load(&keys, &master, 260, 600).unwrap();
        assert_eq!(after.signing_key(SigningAlg::RS256).unwrap().kid, new.kid);
        assert!(
            after.jwks_json().contains(&old.kid),
            "still verifies tokens it signed"
        );
        assert_ne!(during.fingerprint(), after.fingerprint());
    }

    #[test]
    fn published_jwks_has_no_private_parts() {
        let master = MasterKey::generate();
        let keys: Vec<_> = SigningAlg::ALL
            .iter()
            .map(|alg| generate(*alg, &master, 1).unwrap())
            .collect();
        let set = KeySet::load(&keys, &master, 2, 60).unwrap();
        let jwks: serde_json::Value = serde_json::from_str(set.jwks_json()).unwrap();
        for key in jwks["keys"].as_array().unwrap() {
            assert!(key.get("d").is_none(), "{key}");
            assert_eq!(key["use"], "sig");
        }
        assert!(set.missing_algs().is_empty());
    }
}
