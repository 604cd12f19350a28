//! The token endpoint (RFC 6749 §3.2): request dispatch, access tokens (RFC 9068 JWTs) and the response.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::client::{Client, GrantType};
use crate::client_auth::{AuthenticatedClient, ClientAuthError, PresentedCredentials};
use crate::error::{Error, ErrorCode, OAuthError};
use crate::jwt;
use crate::provider::Provider;
use crate::scope::Scopes;
use crate::store::{Grant, UserClaims};

/// A token request as the HTTP layer received it.
#[derive(Debug, Default, Clone)]
pub struct TokenRequest {
    pub params: HashMap<String, String>,
    pub credentials: PresentedCredentials,
}

impl TokenRequest {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn required(&self, name: &str) -> Result<&str, TokenError> {
        self.param(name).ok_or_else(|| {
            TokenError::OAuth(OAuthError::invalid_request(format!("{name} is required")))
        })
    }
}

/// RFC 6749 §5.1.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    pub scope: String,
}

#[derive(Debug)]
pub enum TokenError {
    Client(ClientAuthError),
    OAuth(OAuthError),
    Server(Error),
}

impl From<OAuthError> for TokenError {
    fn from(e: OAuthError) -> Self {
        Self::OAuth(e)
    }
}

impl From<Error> for TokenError {
    fn from(e: Error) -> Self {
        match e {
            Error::OAuth(e) => Self::OAuth(e),
            other => Self::Server(other),
        }
    }
}

/// RFC 9068 §2.2 claims of our access tokens.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub client_id: String,
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    /// The grant this token belongs to; absent for client credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<String>,
}

/// An access token that passed [`Provider::validate_access_token`].
#[derive(Debug, Clone)]
pub struct ValidAccessToken {
    pub claims: AccessTokenClaims,
    /// The grant of a user's token and its person (active, or the token would not be valid);
    /// `None` for client credentials.
    pub grant: Option<(Grant, UserClaims)>,
}

impl Provider {
    pub async fn token(&self, request: &TokenRequest) -> Result<TokenResponse, TokenError> {
        let grant_type = request.required("grant_type")?;
        let grant = match grant_type {
            "authorization_code" => GrantType::AuthorizationCode,
            "refresh_token" => GrantType::RefreshToken,
            "client_credentials" => GrantType::ClientCredentials,
            other => {
                return Err(TokenError::OAuth(OAuthError::new(
                    ErrorCode::UnsupportedGrantType,
                    format!("grant_type {other} is not supported"),
                )));
            }
        };
        let allow_public = grant != GrantType::ClientCredentials;
        let client = self
            .authenticate_client(&request.credentials, allow_public)
            .map_err(TokenError::Client)?;
        // RFC 6749 §5.2: unauthorized_client when the client may not use this grant type.
        if !client.client().allows_grant(grant) {
            return Err(TokenError::OAuth(OAuthError::new(
                ErrorCode::UnauthorizedClient,
                format!("this client may not use grant_type {grant_type}"),
            )));
        }
        match grant {
            GrantType::AuthorizationCode => {
                self.exchange_authorization_code(&client, request).await
            }
            GrantType::RefreshToken => self.exchange_refresh_token(&client, request).await,
            GrantType::ClientCredentials => self.client_credentials(&client, request),
        }
    }

    /// Mints a JWT access token signed with the client's algorithm.
    pub(crate) fn access_token(
        &self,
        client: &AuthenticatedClient,
        sub: &str,
        scope: &Scopes,
        auth_time: Option<i64>,
        grant_id: Option<&str>,
    ) -> Result<String, Error> {
        let now = self.now();
        let claims = AccessTokenClaims {
            iss: self.issuer.clone(),
            sub: sub.to_owned(),
            aud: client.id().to_owned(),
            exp: now + self.lifetimes.access_token,
            iat: now,
            jti: uuid::Uuid::new_v4().simple().to_string(),
            client_id: client.id().to_owned(),
            scope: scope.to_string(),
            auth_time,
            gid: grant_id.map(str::to_owned),
        };
        let keys = self.keys.current();
        let key = signing_key(&keys, client.client())?;
        jwt::sign(key, jwt::TYP_ACCESS_TOKEN, &claims)
    }

    /// Checks an access token presented as a bearer token: our signature, our issuer, not expired, not
    /// revoked, and for user tokens its grant still standing and its person still active (both
    /// returned).
    pub async fn validate_access_token(&self, token: &str) -> Result<ValidAccessToken, Error> {
        let invalid = || Error::OAuth(OAuthError::invalid_token("the access token is not valid"));
        let verified = match self.verified_tokens.get(token) {
            // Checked before; its key must still be one we accept.
            Some(known) if self.keys.current().by_kid(&known.kid).is_some() => known,
            _ => {
                let (claims, kid) =
                    jwt::verify_with_kid(&self.keys.current(), token, jwt::TYP_ACCESS_TOKEN)
                        .map_err(|_| invalid())?;
                let verified =
                    std::sync::Arc::new(crate::verified_tokens::Verified { claims, kid });
                self.verified_tokens
                    .remember(token, std::sync::Arc::clone(&verified));
                verified
            }
        };
        let claims = verified.claims.clone();
        if claims.iss != self.issuer || claims.exp <= self.now() {
            return Err(invalid());
        }
        // A user's token: its revocation, its grant and the grant's person, read in one statement.
        let grant = match &claims.gid {
            None if self.store.access_token_revoked(&claims.jti).await? => return Err(invalid()),
            None => None,
            Some(grant_id) => match self.store.access_token_grant(&claims.jti, grant_id).await? {
                Some((false, found)) => Some(found.into_live_and_active().ok_or_else(invalid)?),
                _ => return Err(invalid()),
            },
        };
        Ok(ValidAccessToken { claims, grant })
    }
}

/// The answer to a code or refresh token whose person was disabled or removed since the sign-in.
pub(crate) fn inactive_account() -> TokenError {
    TokenError::OAuth(OAuthError::invalid_grant("the account is no longer active"))
}

pub(crate) fn signing_key<'a>(
    keys: &'a crate::keys::KeySet,
    client: &Client,
) -> Result<&'a crate::keys::LoadedKey, Error> {
    keys.signing_key(client.id_token_signing_alg)
        .ok_or_else(|| {
            Error::Keys(format!(
                "no active {} key",
                client.id_token_signing_alg.as_str()
            ))
        })
}
