//! OpenID Connect protocol logic for Gatehouse.
//!
//! This crate knows nothing of HTTP or SQL. A request arrives as plain values (parameters, the client's
//! credentials, the signed-in subject), the [`Provider`] validates it against the registered clients and
//! answers with a plain value (a redirect to build, a token response to serialise, an error to show).
//! Storage sits behind the [`Store`] trait, shaped around what the protocol needs ("take this code
//! exactly once"), and time comes from a [`Clock`] so expiry rules are testable.

pub mod authorize;
pub mod client;
pub mod client_auth;
pub mod clock;
pub mod crypto;
pub mod discovery;
pub mod end_session;
pub mod error;
mod es256;
pub mod grant;
pub mod id_token;
pub mod introspect;
pub mod jwt;
pub mod keys;
pub mod pkce;
pub mod provider;
pub mod redirect;
pub mod revoke;
pub mod scope;
pub mod store;
pub mod token;
pub mod userinfo;
mod verified_tokens;

pub use client::{Client, ClientKind, ClientRegistry, ClientSecret, GrantType};
pub use clock::{Clock, SystemClock};
pub use crypto::MasterKey;
pub use error::{Error, ErrorCode, OAuthError};
pub use keys::{KeyRing, SigningAlg};
pub use provider::{KEY_PUBLISH_AHEAD, Lifetimes, Provider};
pub use store::Store;

/// Random, URL-safe secret of 256 bits: authorization codes, refresh tokens, session ids.
pub fn random_token() -> String {
    use base64::Engine as _;
    use rand::RngCore as _;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The form in which a bearer secret is stored: SHA-256, base64url. The secrets are 256-bit random values,
/// so a fast hash is enough; a stolen table does not give back a usable code, token or session id.
pub fn token_hash(token: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(token.as_bytes()))
}
