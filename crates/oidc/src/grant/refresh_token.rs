//! `grant_type=refresh_token` (RFC 6749 §6) with rotation: every use returns a new refresh token, and
//! presenting a used one revokes the whole family (RFC 9700 §4.14.2).

use crate::client_auth::AuthenticatedClient;
use crate::error::{ErrorCode, OAuthError};
use crate::provider::Provider;
use crate::scope::Scopes;
use crate::store::{Grant, RefreshTokenRecord};
use crate::token::{TokenError, TokenRequest, TokenResponse, inactive_account};

impl Provider {
    pub(crate) async fn exchange_refresh_token(
        &self,
        client: &AuthenticatedClient,
        request: &TokenRequest,
    ) -> Result<TokenResponse, TokenError> {
        let presented = request.required("refresh_token")?;
        let now = self.now();
        let invalid = || {
            TokenError::OAuth(OAuthError::invalid_grant(
                "the refresh token is invalid, expired or revoked",
            ))
        };

        let old_hash = crate::token_hash(presented);
        let Some((old, found)) = self.store.find_refresh_token_with_grant(&old_hash).await? else {
            return Err(invalid());
        };
        // RFC 6749 §6: the refresh token is bound to the client it was issued to.
        if old.client_id != client.id() {
            tracing::warn!(target: "gatehouse::security", client_id = client.id(), "refresh token presented by another client");
            return Err(invalid());
        }
        if old.used_at.is_some() {
            tracing::warn!(target: "gatehouse::security", client_id = client.id(), "rotated refresh token reused; family revoked");
            self.store.revoke_grant(&old.grant_id, now).await?;
            return Err(invalid());
        }
        if old.expires_at <= now {
            return Err(invalid());
        }
        let Some(mut grant) = found.live_grant().cloned() else {
            return Err(invalid());
        };
        let Some(user) = found.active_user() else {
            return Err(inactive_account());
        };
        // RFC 6749 §6: a narrower scope may be asked for, never a wider one.
        if let Some(scope) = request.param("scope") {
            let narrower = Scopes::parse(scope);
            if !narrower.is_subset(&grant.scope) {
                return Err(TokenError::OAuth(OAuthError::new(
                    ErrorCode::InvalidScope,
                    "scope exceeds the original grant",
                )));
            }
            grant.scope = narrower;
        }

        let (token, new) = self.new_refresh_token(&grant, client, now);
        if !self
            .store
            .rotate_refresh_token(&old_hash, &new, now)
            .await?
        {
            // Another request rotated it first: the same token was presented twice.
            self.store.revoke_grant(&old.grant_id, now).await?;
            return Err(invalid());
        }
        // OpenID Connect Core §12.2: the ID token from a refresh carries no nonce.
        self.tokens_for_grant(client, &grant, user, None, Some(token))
    }

    /// A new refresh token for `grant`, issued to `client` at `now`: the token, and the record that
    /// stores only its hash.
    pub(crate) fn new_refresh_token(
        &self,
        grant: &Grant,
        client: &AuthenticatedClient,
        now: i64,
    ) -> (String, RefreshTokenRecord) {
        let token = crate::random_token();
        let record = RefreshTokenRecord {
            token_hash: crate::token_hash(&token),
            grant_id: grant.id.clone(),
            client_id: client.id().to_owned(),
            created_at: now,
            expires_at: now + self.lifetimes.refresh_token,
            used_at: None,
        };
        (token, record)
    }
}
