//! `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.6, OpenID Connect Core §3.1.3).

use crate::client::GrantType;
use crate::client_auth::AuthenticatedClient;
use crate::error::OAuthError;
use crate::pkce;
use crate::provider::Provider;
use crate::scope;
use crate::store::RefreshTokenRecord;
use crate::token::{TokenError, TokenRequest, TokenResponse};

impl Provider {
    pub(crate) async fn exchange_authorization_code(
        &self,
        client: &AuthenticatedClient,
        request: &TokenRequest,
    ) -> Result<TokenResponse, TokenError> {
        let code = request.required("code")?;
        let redirect_uri = request.required("redirect_uri")?;
        let now = self.now();
        let invalid = || {
            TokenError::OAuth(OAuthError::invalid_grant(
                "the authorization code is invalid, expired or used",
            ))
        };

        let code_hash = crate::token_hash(code);
        let Some(record) = self.store.find_code(&code_hash).await? else {
            return Err(invalid());
        };
        // RFC 6749 §4.1.2: the code was issued to another client.
        if record.client_id != client.id() {
            tracing::warn!(target: "gatehouse::security", client_id = client.id(), "authorization code presented by another client");
            return Err(invalid());
        }
        // RFC 6749 §4.1.2: a code used twice revokes everything issued with it.
        if record.used_at.is_some() {
            tracing::warn!(target: "gatehouse::security", client_id = client.id(), "authorization code reused; grant revoked");
            self.store.revoke_grant(&record.grant_id, now).await?;
            return Err(invalid());
        }
        // The code is spent from here on, whatever the outcome of the checks below.
        if !self.store.use_code(&code_hash, now).await? {
            self.store.revoke_grant(&record.grant_id, now).await?;
            return Err(invalid());
        }
        if record.expires_at <= now {
            return Err(invalid());
        }
        // RFC 6749 §4.1.3: redirect_uri must be identical to the one in the authorization request.
        if record.redirect_uri != redirect_uri {
            return Err(invalid());
        }
        // RFC 7636 §4.6.
        match (&record.code_challenge, request.param("code_verifier")) {
            (Some(challenge), Some(verifier)) if pkce::verifier_matches(verifier, challenge) => {}
            (None, None) => {}
            _ => {
                return Err(TokenError::OAuth(OAuthError::invalid_grant(
                    "PKCE verification failed",
                )));
            }
        }

        let Some(grant) = self
            .store
            .grant(&record.grant_id)
            .await?
            .filter(|g| g.revoked_at.is_none())
        else {
            return Err(invalid());
        };
        let refresh_token = if grant.scope.contains(scope::OFFLINE_ACCESS)
            && client.client().allows_grant(GrantType::RefreshToken)
        {
            let token = crate::random_token();
            self.store
                .insert_refresh_token(&RefreshTokenRecord {
                    token_hash: crate::token_hash(&token),
                    grant_id: grant.id.clone(),
                    client_id: client.id().to_owned(),
                    created_at: now,
                    expires_at: now + self.lifetimes.refresh_token,
                    used_at: None,
                })
                .await?;
            Some(token)
        } else {
            None
        };
        self.tokens_for_grant(client, &grant, record.nonce.as_deref(), refresh_token)
            .await
    }
}
