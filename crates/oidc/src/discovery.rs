//! OpenID Connect Discovery 1.0 §3: the provider metadata, rendered once at start.

use serde_json::{Value, json};

use crate::keys::SigningAlg;
use crate::provider::Provider;
use crate::scope;

/// Paths of the endpoints, relative to the issuer.
pub mod paths {
    pub const DISCOVERY: &str = "/.well-known/openid-configuration";
    pub const AUTHORIZE: &str = "/authorize";
    pub const TOKEN: &str = "/token";
    pub const USERINFO: &str = "/userinfo";
    pub const JWKS: &str = "/jwks";
    pub const REVOKE: &str = "/revoke";
    pub const INTROSPECT: &str = "/introspect";
    pub const END_SESSION: &str = "/end_session";
}

impl Provider {
    pub fn discovery_document(&self, ui_locales: &[&str]) -> Value {
        let url = |path: &str| format!("{}{}", self.issuer.trim_end_matches('/'), path);
        let algs: Vec<&str> = SigningAlg::ALL.iter().map(|a| a.as_str()).collect();
        json!({
            "issuer": self.issuer,
            "authorization_endpoint": url(paths::AUTHORIZE),
            "token_endpoint": url(paths::TOKEN),
            "userinfo_endpoint": url(paths::USERINFO),
            "jwks_uri": url(paths::JWKS),
            "revocation_endpoint": url(paths::REVOKE),
            "introspection_endpoint": url(paths::INTROSPECT),
            "end_session_endpoint": url(paths::END_SESSION),
            "scopes_supported": scope::SUPPORTED,
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": algs,
            "userinfo_signing_alg_values_supported": ["none"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "amr", "acr", "azp", "name", "email", "email_verified", "updated_at"],
            "prompt_values_supported": ["none", "login", "consent", "select_account"],
            "ui_locales_supported": ui_locales,
            "display_values_supported": ["page"],
            "claims_parameter_supported": false,
            "request_parameter_supported": false,
            "request_uri_parameter_supported": false,
            "require_request_uri_registration": false,
            "authorization_response_iss_parameter_supported": true,
        })
    }
}
