//! The [`Provider`]: everything an OpenID provider needs to answer a request, built once at start.

use std::sync::Arc;

use crate::client::ClientRegistry;
use crate::client_auth::ClientSecretCache;
use crate::clock::Clock;
use crate::crypto::MasterKey;
use crate::error::Result;
use crate::keys::{self, KeyRing, KeySet};
use crate::store::Store;

/// Token and code lifetimes, in seconds.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub authorization_code: i64,
    pub access_token: i64,
    pub id_token: i64,
    pub refresh_token: i64,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Self {
            authorization_code: 60,
            access_token: 600,
            id_token: 600,
            refresh_token: 30 * 24 * 3600,
        }
    }
}

/// How long a rotated-in key is published before it signs, so relying parties that cache the JWKS
/// (Cache-Control: max-age=60) know it before they meet it. Also the interval at which servers reload keys.
pub const KEY_PUBLISH_AHEAD: i64 = 60;

impl Lifetimes {
    /// How long a retired key must still verify: the longest lifetime of anything it signed, plus the
    /// time a server may take to notice the retirement.
    pub fn verify_window(&self) -> i64 {
        self.access_token.max(self.id_token) + KEY_PUBLISH_AHEAD
    }
}

#[derive(Debug)]
pub struct Provider {
    pub issuer: String,
    pub clients: ClientRegistry,
    pub keys: KeyRing,
    pub store: Arc<dyn Store>,
    pub lifetimes: Lifetimes,
    pub clock: Arc<dyn Clock>,
    pub master_key: MasterKey,
    pub(crate) secret_cache: ClientSecretCache,
    pub(crate) verified_tokens: crate::verified_tokens::VerifiedTokens,
}

impl Provider {
    /// Loads the signing keys, generating a key for every algorithm that has none (first start).
    pub async fn new(
        issuer: String,
        clients: ClientRegistry,
        store: Arc<dyn Store>,
        lifetimes: Lifetimes,
        clock: Arc<dyn Clock>,
        master_key: MasterKey,
    ) -> Result<Self> {
        let provider = Self {
            issuer,
            clients,
            keys: KeyRing::default(),
            store,
            lifetimes,
            clock,
            master_key,
            secret_cache: ClientSecretCache::default(),
            verified_tokens: Default::default(),
        };
        provider.reload_keys().await?;
        let missing = provider.keys.current().missing_algs();
        if !missing.is_empty() {
            let now = provider.clock.now();
            let new = missing
                .into_iter()
                .map(|alg| keys::generate(alg, &provider.master_key, now))
                .collect::<Result<Vec<_>>>()?;
            // Nodes starting together on a fresh database race here; the store allows one unretired key
            // per algorithm, so the loser's insert fails and it takes the winner's keys instead.
            let created = provider.store.add_first_signing_keys(&new).await;
            provider.reload_keys().await?;
            if let Err(e) = created
                && !provider.keys.current().missing_algs().is_empty()
            {
                return Err(e);
            }
        }
        Ok(provider)
    }

    /// Re-reads the keys from the store; returns whether anything changed (a new key, a retirement, or a
    /// rotated-in key whose time to sign has come).
    pub async fn reload_keys(&self) -> Result<bool> {
        let stored = self.store.signing_keys().await?;
        let set = KeySet::load(
            &stored,
            &self.master_key,
            self.clock.now(),
            self.lifetimes.verify_window(),
        )?;
        if set.fingerprint() == self.keys.current().fingerprint() && !set.fingerprint().is_empty() {
            return Ok(false);
        }
        self.keys.replace(set);
        Ok(true)
    }

    /// Generates a new key for every algorithm. The new keys are published at once and sign from
    /// [`KEY_PUBLISH_AHEAD`] seconds on, when the old keys retire; retired keys stay published until
    /// every token they signed has expired.
    pub async fn rotate_keys(&self) -> Result<Vec<String>> {
        let takeover = self.clock.now() + KEY_PUBLISH_AHEAD;
        let new = crate::keys::SigningAlg::ALL
            .into_iter()
            .map(|alg| keys::generate(alg, &self.master_key, takeover))
            .collect::<Result<Vec<_>>>()?;
        self.store.rotate_signing_keys(&new, takeover).await?;
        self.reload_keys().await?;
        Ok(new.into_iter().map(|k| k.kid).collect())
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }
}
