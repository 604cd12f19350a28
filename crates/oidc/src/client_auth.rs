//! Client authentication at the token, introspection and revocation endpoints (RFC 6749 §2.3):
//! `client_secret_basic`, `client_secret_post`, and `none` for public clients.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use sha2::Digest as _;
use subtle::ConstantTimeEq as _;

use crate::client::{Client, ClientKind, ClientSecret};
use crate::error::OAuthError;
use crate::provider::Provider;

/// What the client presented, as the HTTP layer found it.
#[derive(Debug, Default, Clone)]
pub struct PresentedCredentials {
    /// The decoded `Authorization: Basic` header, if any.
    pub basic: Option<(String, String)>,
    /// `client_id` from the body.
    pub client_id: Option<String>,
    /// `client_secret` from the body.
    pub client_secret: Option<String>,
}

impl PresentedCredentials {
    /// Decodes an `Authorization` header value of scheme Basic. RFC 6749 §2.3.1: both parts are
    /// form-urlencoded before base64.
    pub fn parse_basic(header: &str) -> Result<(String, String), ClientAuthError> {
        let encoded = header
            .strip_prefix("Basic ")
            .or_else(|| header.strip_prefix("basic "))
            .ok_or(ClientAuthError::malformed(
                "unsupported authorization scheme",
            ))?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|_| ClientAuthError::malformed("basic credentials are not base64"))?;
        let text = String::from_utf8(decoded)
            .map_err(|_| ClientAuthError::malformed("basic credentials are not UTF-8"))?;
        let (id, secret) = text
            .split_once(':')
            .ok_or(ClientAuthError::malformed("basic credentials lack ':'"))?;
        let decode = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        Ok((decode(id), decode(secret)))
    }
}

/// A client whose identity has been established. Only this module can build one.
#[derive(Debug, Clone)]
pub struct AuthenticatedClient(Arc<Client>);

impl AuthenticatedClient {
    pub fn client(&self) -> &Client {
        &self.0
    }
    pub fn id(&self) -> &str {
        &self.0.id
    }
}

/// A failed authentication. `basic_attempted` tells the HTTP layer to answer 401 with WWW-Authenticate
/// (RFC 6749 §5.2).
#[derive(Debug, Clone)]
pub struct ClientAuthError {
    pub error: OAuthError,
    pub basic_attempted: bool,
}

impl ClientAuthError {
    fn malformed(description: &str) -> Self {
        Self {
            error: OAuthError::invalid_client(description),
            basic_attempted: true,
        }
    }
}

/// Secrets that passed an argon2 check, kept as SHA-256 by the argon2 hash they matched, so the slow hash
/// runs once per client secret and process; and, the same way, the last wrong secrets, so repeating
/// a wrong one costs no second argon2 check. The argon2 checks themselves run one at a time
/// (`checking`): each takes 19 MiB of working memory, and a burst of first requests (or of wrong
/// secrets) would otherwise run one per thread at once; those waiting find the secret known when
/// the check before them succeeded. The HTTP layer runs the check ahead, off the async threads
/// ([`Provider::client_secret_check_pending`], [`Provider::check_client_secret`]).
#[derive(Debug, Default)]
pub(crate) struct ClientSecretCache {
    known: Mutex<HashMap<String, [u8; 32]>>,
    rejected: Mutex<std::collections::HashSet<[u8; 32]>>,
    checking: Mutex<()>,
}

/// Wrong secrets remembered at most; the set starts afresh when full.
const REJECTED_REMEMBERED: usize = 4096;

impl ClientSecretCache {
    fn knows(&self, secret_hash: &str, digest: &[u8; 32]) -> bool {
        let guard = self.known.lock().unwrap_or_else(|p| p.into_inner());
        guard
            .get(secret_hash)
            .is_some_and(|known| bool::from(known.ct_eq(digest)))
    }
    fn remember(&self, secret_hash: &str, digest: [u8; 32]) {
        self.known
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(secret_hash.to_owned(), digest);
    }
    /// A wrong secret is remembered by a hash of the stored hash and the presented secret together.
    fn rejection_key(secret_hash: &str, digest: &[u8; 32]) -> [u8; 32] {
        let mut hasher = sha2::Sha256::new();
        hasher.update(secret_hash.as_bytes());
        hasher.update(digest);
        hasher.finalize().into()
    }
    fn rejected(&self, secret_hash: &str, digest: &[u8; 32]) -> bool {
        self.rejected
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&Self::rejection_key(secret_hash, digest))
    }
    fn reject(&self, secret_hash: &str, digest: &[u8; 32]) {
        let mut rejected = self.rejected.lock().unwrap_or_else(|p| p.into_inner());
        if rejected.len() >= REJECTED_REMEMBERED {
            rejected.clear();
        }
        rejected.insert(Self::rejection_key(secret_hash, digest));
    }
}

impl Provider {
    /// Establishes which client is calling. `allow_public` is false where only confidential clients may
    /// call (introspection, client credentials).
    pub fn authenticate_client(
        &self,
        presented: &PresentedCredentials,
        allow_public: bool,
    ) -> Result<AuthenticatedClient, ClientAuthError> {
        let basic_attempted = presented.basic.is_some();
        let fail = |description: &str| ClientAuthError {
            error: OAuthError::invalid_client(description),
            basic_attempted,
        };

        // RFC 6749 §2.3: a client MUST NOT use more than one authentication method in each request.
        if presented.basic.is_some() && presented.client_secret.is_some() {
            return Err(ClientAuthError {
                error: OAuthError::invalid_request("use one client authentication method, not two"),
                basic_attempted,
            });
        }
        let (client_id, secret) = match (&presented.basic, &presented.client_id) {
            (Some((id, secret)), body_id) => {
                if body_id.as_ref().is_some_and(|body_id| body_id != id) {
                    return Err(fail(
                        "client_id in the body differs from the authenticated client",
                    ));
                }
                (id.as_str(), Some(secret.as_str()))
            }
            (None, Some(id)) => (id.as_str(), presented.client_secret.as_deref()),
            (None, None) => return Err(fail("client authentication is required")),
        };
        let Some(client) = self.clients.get(client_id) else {
            return Err(fail("client authentication failed"));
        };
        match (&client.kind, secret) {
            (ClientKind::Public, None) if allow_public => Ok(AuthenticatedClient(client)),
            (ClientKind::Public, _) => Err(fail("this client may not authenticate here")),
            (ClientKind::Confidential(_), None) => Err(fail("client authentication failed")),
            (ClientKind::Confidential(expected), Some(secret)) => {
                if self.secret_matches(expected, secret, &argon2_matches) {
                    Ok(AuthenticatedClient(client))
                } else {
                    tracing::warn!(target: "gatehouse::security", client_id = %client.id, "client secret rejected");
                    Err(fail("client authentication failed"))
                }
            }
        }
    }

    /// Whether authenticating `presented` would need the slow argon2 check: a confidential client's
    /// stored hash and a secret this process has not checked against it yet. The HTTP layer then runs
    /// [`Self::check_client_secret`] on a blocking thread first, under the bound of password hashes.
    pub fn client_secret_check_pending(&self, presented: &PresentedCredentials) -> bool {
        let Some((client_id, secret)) = presented_secret(presented) else {
            return false;
        };
        let Some(client) = self.clients.get(client_id) else {
            return false;
        };
        let ClientKind::Confidential(ClientSecret::Argon2Hash(phc)) = &client.kind else {
            return false;
        };
        let digest: [u8; 32] = sha2::Sha256::digest(secret.as_bytes()).into();
        !self.secret_cache.knows(phc, &digest) && !self.secret_cache.rejected(phc, &digest)
    }

    /// Runs the argon2 check of `presented`'s secret now, with `matches_phc` (stored hash, presented
    /// secret), and remembers the outcome, so that [`Self::authenticate_client`] answers from memory.
    /// Slow (an argon2 hash): call it where blocking is fine. The server passes its password hasher,
    /// so the check uses the same pooled working memory as password checks.
    pub fn check_client_secret(
        &self,
        presented: &PresentedCredentials,
        matches_phc: &dyn Fn(&str, &[u8]) -> bool,
    ) {
        let Some((client_id, secret)) = presented_secret(presented) else {
            return;
        };
        if let Some(client) = self.clients.get(client_id)
            && let ClientKind::Confidential(expected) = &client.kind
        {
            self.secret_matches(expected, secret, matches_phc);
        }
    }

    fn secret_matches(
        &self,
        expected: &ClientSecret,
        presented: &str,
        matches_phc: &dyn Fn(&str, &[u8]) -> bool,
    ) -> bool {
        let digest: [u8; 32] = sha2::Sha256::digest(presented.as_bytes()).into();
        match expected {
            ClientSecret::FromEnvironment(secret) => {
                use secrecy::ExposeSecret as _;
                let expected: [u8; 32] =
                    sha2::Sha256::digest(secret.expose_secret().as_bytes()).into();
                expected.ct_eq(&digest).into()
            }
            ClientSecret::Argon2Hash(phc) => {
                // Keyed by the stored hash, not the client id: a secret changed by a configuration
                // reload never matches what the old one left here.
                if self.secret_cache.knows(phc, &digest) {
                    return true;
                }
                if self.secret_cache.rejected(phc, &digest) {
                    return false;
                }
                let _one_at_a_time = self
                    .secret_cache
                    .checking
                    .lock()
                    .unwrap_or_else(|p| p.into_inner());
                if self.secret_cache.knows(phc, &digest) {
                    return true;
                }
                let ok = matches_phc(phc, presented.as_bytes());
                if ok {
                    self.secret_cache.remember(phc, digest);
                } else {
                    self.secret_cache.reject(phc, &digest);
                }
                ok
            }
        }
    }
}

/// argon2's own check, allocating its working memory: for callers without a password hasher.
fn argon2_matches(phc: &str, secret: &[u8]) -> bool {
    use argon2::PasswordVerifier as _;
    argon2::PasswordHash::new(phc).is_ok_and(|hash| {
        argon2::Argon2::default()
            .verify_password(secret, &hash)
            .is_ok()
    })
}

/// The client id and secret presented by HTTP Basic or in the body, when there is exactly one secret.
fn presented_secret(presented: &PresentedCredentials) -> Option<(&str, &str)> {
    match (
        &presented.basic,
        &presented.client_id,
        &presented.client_secret,
    ) {
        (Some((id, secret)), _, None) => Some((id.as_str(), secret.as_str())),
        (None, Some(id), Some(secret)) => Some((id.as_str(), secret.as_str())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        let header = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("my%20app:s%3Acret")
        );
        assert_eq!(
            PresentedCredentials::parse_basic(&header).unwrap(),
            ("my app".to_owned(), "s:cret".to_owned())
        );
    }

    #[test]
    fn malformed_basic_is_rejected() {
        assert!(PresentedCredentials::parse_basic("Bearer x").is_err());
        assert!(PresentedCredentials::parse_basic("Basic !!!").is_err());
        let no_colon = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("nocolon")
        );
        assert!(PresentedCredentials::parse_basic(&no_colon).is_err());
    }
}
