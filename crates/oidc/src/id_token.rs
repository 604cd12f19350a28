//! ID tokens (OpenID Connect Core §2) and the response of a user grant.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use crate::client_auth::AuthenticatedClient;
use crate::error::{Error, OAuthError};
use crate::jwt;
use crate::keys::SigningAlg;
use crate::provider::Provider;
use crate::scope;
use crate::store::{Grant, UserClaims};
use crate::token::{TokenError, TokenResponse, signing_key};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct IdTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub azp: String,
    pub exp: i64,
    pub iat: i64,
    pub auth_time: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    #[serde(default)]
    pub amr: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// OpenID Connect Core §3.1.3.6: the left half of the hash of the access token, with the hash of the
/// signing algorithm (SHA-512 for Ed25519, as the openid specs registry records for EdDSA).
pub fn at_hash(access_token: &str, alg: SigningAlg) -> String {
    match alg {
        SigningAlg::RS256 | SigningAlg::ES256 => {
            let digest = sha2::Sha256::digest(access_token.as_bytes());
            URL_SAFE_NO_PAD.encode(&digest[..16])
        }
        SigningAlg::EdDSA => {
            let digest = sha2::Sha512::digest(access_token.as_bytes());
            URL_SAFE_NO_PAD.encode(&digest[..32])
        }
    }
}

impl Provider {
    /// Access token, ID token (when `openid` was granted) and the given refresh token for a user
    /// grant, to `user`, its person.
    pub(crate) fn tokens_for_grant(
        &self,
        client: &AuthenticatedClient,
        grant: &Grant,
        user: &UserClaims,
        nonce: Option<&str>,
        refresh_token: Option<String>,
    ) -> Result<TokenResponse, TokenError> {
        let access_token = self.access_token(
            client,
            &user.sub,
            &grant.scope,
            Some(grant.auth_time),
            Some(&grant.id),
        )?;
        let id_token = if grant.scope.contains(scope::OPENID) {
            let now = self.now();
            let keys = self.keys.current();
            let key = signing_key(&keys, client.client())?;
            let email = grant.scope.contains(scope::EMAIL);
            let claims = IdTokenClaims {
                iss: self.issuer.clone(),
                sub: user.sub.clone(),
                aud: client.id().to_owned(),
                azp: client.id().to_owned(),
                exp: now + self.lifetimes.id_token,
                iat: now,
                auth_time: grant.auth_time,
                nonce: nonce.map(str::to_owned),
                at_hash: Some(at_hash(&access_token, key.alg)),
                amr: grant.amr.clone(),
                acr: grant.acr.clone(),
                email: email.then(|| user.email.clone()),
                email_verified: email.then_some(user.email_verified),
                name: grant
                    .scope
                    .contains(scope::PROFILE)
                    .then(|| user.name.clone()),
            };
            Some(jwt::sign(key, jwt::TYP_JWT, &claims).map_err(TokenError::Server)?)
        } else {
            None
        };
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer".to_owned(),
            expires_in: self.lifetimes.access_token,
            refresh_token,
            id_token,
            scope: grant.scope.to_string(),
        })
    }

    /// Verifies an ID token we issued, ignoring its expiry (for `id_token_hint`).
    pub fn verify_id_token_hint(&self, token: &str) -> Result<IdTokenClaims, Error> {
        let keys = self.keys.current();
        let claims: IdTokenClaims = jwt::verify(&keys, token, jwt::TYP_JWT).map_err(|_| {
            Error::OAuth(OAuthError::invalid_request(
                "id_token_hint is not a token from this server",
            ))
        })?;
        if claims.iss != self.issuer {
            return Err(Error::OAuth(OAuthError::invalid_request(
                "id_token_hint was issued by another server",
            )));
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_matches_openid_example() {
        // OpenID Connect Core §A.3 (RS256): access_token jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y.
        assert_eq!(
            at_hash(
                "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y",
                SigningAlg::RS256
            ),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }
}
