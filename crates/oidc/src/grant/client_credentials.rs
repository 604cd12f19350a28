//! `grant_type=client_credentials` (RFC 6749 §4.4): a confidential client acting on its own behalf.

use crate::client_auth::AuthenticatedClient;
use crate::error::{ErrorCode, OAuthError};
use crate::provider::Provider;
use crate::scope::{self, Scopes};
use crate::token::{TokenError, TokenRequest, TokenResponse};

impl Provider {
    pub(crate) fn client_credentials(
        &self,
        client: &AuthenticatedClient,
        request: &TokenRequest,
    ) -> Result<TokenResponse, TokenError> {
        let allowed: Scopes = client
            .client()
            .scopes
            .iter()
            .filter(|s| {
                !matches!(
                    *s,
                    scope::OPENID | scope::OFFLINE_ACCESS | scope::PROFILE | scope::EMAIL
                )
            })
            .map(str::to_owned)
            .collect();
        let scope = match request.param("scope") {
            None => allowed,
            Some(text) => {
                let asked = Scopes::parse(text);
                // User scopes mean nothing without a user.
                if !asked.is_subset(&allowed) {
                    return Err(TokenError::OAuth(OAuthError::new(
                        ErrorCode::InvalidScope,
                        format!("scope not allowed: {}", asked.not_in(&allowed).join(" ")),
                    )));
                }
                asked
            }
        };
        let access_token = self.access_token(client, client.id(), &scope, None, None)?;
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer".to_owned(),
            expires_in: self.lifetimes.access_token,
            refresh_token: None,
            id_token: None,
            scope: scope.to_string(),
        })
    }
}
