//! Registered clients, as loaded from `config/clients/*.toml` by the binary.

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::keys::SigningAlg;
use crate::redirect::RegisteredRedirectUri;
use crate::scope::Scopes;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
}

impl GrantType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
        }
    }
}

/// How a confidential client proves who it is at the token endpoint.
#[derive(Clone)]
pub enum ClientSecret {
    /// An argon2 hash in PHC format (`$argon2id$...`).
    Argon2Hash(String),
    /// The secret itself, read from an environment variable at start-up; never from a file.
    FromEnvironment(secrecy::SecretString),
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Argon2Hash(_) => f.write_str("Argon2Hash(..)"),
            Self::FromEnvironment(_) => f.write_str("FromEnvironment(..)"),
        }
    }
}

#[derive(Debug, Clone)]
pub enum ClientKind {
    Confidential(ClientSecret),
    Public,
}

#[derive(Debug, Clone)]
pub struct Client {
    pub id: String,
    pub name: String,
    pub kind: ClientKind,
    pub redirect_uris: Vec<Url>,
    pub post_logout_redirect_uris: Vec<Url>,
    pub grant_types: Vec<GrantType>,
    pub scopes: Scopes,
    pub id_token_signing_alg: SigningAlg,
    pub consent: bool,
    /// PKCE is required for public clients whatever this says; a confidential client may opt out.
    pub require_pkce: bool,
    /// A second factor is required for this client whatever the person's organisation says. The
    /// protocol only carries the flag; the sign-in decides what it means.
    pub require_mfa: bool,
    /// The theme of this client's sign-in pages (a folder beside the default theme); the person's
    /// organisation's, or the default, when `None`.
    pub theme: Option<String>,
}

impl Client {
    pub fn is_public(&self) -> bool {
        matches!(self.kind, ClientKind::Public)
    }

    pub fn allows_grant(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    pub fn pkce_required(&self) -> bool {
        self.is_public() || self.require_pkce
    }

    /// Exact string comparison, as OpenID Connect Core §3.1.2.1 demands: no prefix or pattern matching.
    pub fn registered_redirect_uri(&self, candidate: &str) -> Option<RegisteredRedirectUri> {
        RegisteredRedirectUri::find(&self.redirect_uris, candidate)
    }

    pub fn registered_post_logout_redirect_uri(
        &self,
        candidate: &str,
    ) -> Option<RegisteredRedirectUri> {
        RegisteredRedirectUri::find(&self.post_logout_redirect_uris, candidate)
    }
}

/// Every client, by id. Built from configuration; [`ClientRegistry::replace`] swaps in a reloaded set
/// while requests keep reading (a request sees the old set or the new one, never a mix).
#[derive(Debug, Default)]
pub struct ClientRegistry {
    clients: ArcSwap<HashMap<String, Arc<Client>>>,
}

impl Clone for ClientRegistry {
    /// A registry holding the same clients as `self` now; later replacements do not reach it.
    fn clone(&self) -> Self {
        Self {
            clients: ArcSwap::new(self.clients.load_full()),
        }
    }
}

impl ClientRegistry {
    /// Fails with the duplicated client id.
    pub fn new(clients: impl IntoIterator<Item = Client>) -> Result<Self, String> {
        let mut map = HashMap::new();
        for client in clients {
            let id = client.id.clone();
            if map.insert(id.clone(), Arc::new(client)).is_some() {
                return Err(id);
            }
        }
        Ok(Self {
            clients: ArcSwap::from_pointee(map),
        })
    }

    pub fn get(&self, client_id: &str) -> Option<Arc<Client>> {
        self.clients.load().get(client_id).cloned()
    }

    /// Sorted by id.
    pub fn all(&self) -> Vec<Arc<Client>> {
        let mut all: Vec<_> = self.clients.load().values().cloned().collect();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        all
    }

    /// Puts every client of `other` in place of the current ones, at once.
    pub fn replace(&self, other: ClientRegistry) {
        self.clients.store(other.clients.load_full());
    }
}

#[cfg(test)]
mod registry_tests {
    use super::*;

    fn client(id: &str, redirect: &str) -> Client {
        Client {
            id: id.into(),
            name: id.into(),
            kind: ClientKind::Public,
            redirect_uris: vec![Url::parse(redirect).unwrap()],
            post_logout_redirect_uris: Vec::new(),
            grant_types: vec![GrantType::AuthorizationCode],
            scopes: Scopes::parse("openid"),
            id_token_signing_alg: SigningAlg::RS256,
            consent: false,
            require_pkce: true,
            require_mfa: false,
            theme: None,
        }
    }

    #[test]
    fn replaced_clients_are_seen_at_once_and_removed_ones_are_gone() {
        let registry = ClientRegistry::new([client("a", "https://a.example/cb")]).unwrap();
        let earlier = registry.get("a").unwrap();
        registry.replace(ClientRegistry::new([client("b", "https://b.example/cb")]).unwrap());
        assert!(registry.get("a").is_none());
        assert_eq!(registry.get("b").unwrap().id, "b");
        // A request that already holds the old client finishes with it.
        assert_eq!(earlier.redirect_uris[0].as_str(), "https://a.example/cb");
    }

    #[test]
    fn duplicate_client_id_is_refused() {
        let duplicate = ClientRegistry::new([
            client("a", "https://a.example/cb"),
            client("a", "https://b.example/cb"),
        ]);
        assert_eq!(duplicate.unwrap_err(), "a");
    }
}
