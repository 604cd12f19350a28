//! `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.6, OpenID Connect Core §3.1.3).

use crate::client::GrantType;
use crate::client_auth::AuthenticatedClient;
use crate::error::OAuthError;
use crate::pkce;
use crate::provider::Provider;
use crate::scope;
use crate::store::CodeRecord;
use crate::token::{TokenError, TokenRequest, TokenResponse, inactive_account};

impl Provider {
    pub(crate) async fn exchange_authorization_code(
        &self,
        client: &AuthenticatedClient,
        request: &TokenRequest,
    ) -> Result<TokenResponse, TokenError> {
        let code = request.required("code")?;
        let redirect_uri = request.required("redirect_uri")?;
        let now = self.now();

        let code_hash = crate::token_hash(code);
        let Some((record, found)) = self.store.find_code_with_grant(&code_hash).await? else {
            return Err(invalid_code());
        };
        // RFC 6749 §4.1.2: the code was issued to another client.
        if record.client_id != client.id() {
            tracing::warn!(target: "gatehouse::security", client_id = client.id(), "authorization code presented by another client");
            return Err(invalid_code());
        }
        // RFC 6749 §4.1.2: a code used twice revokes everything issued with it.
        if record.used_at.is_some() {
            tracing::warn!(target: "gatehouse::security", client_id = client.id(), "authorization code reused; grant revoked");
            self.store.revoke_grant(&record.grant_id, now).await?;
            return Err(invalid_code());
        }
        // The code gets one try: when a check below fails, it is used up all the same.
        let checked = check_code(&record, redirect_uri, request, now).and_then(|()| {
            let grant = found.live_grant().ok_or_else(invalid_code)?;
            let user = found.active_user().ok_or_else(inactive_account)?;
            Ok((grant, user))
        });
        let (grant, user) = match checked {
            Ok(checked) => checked,
            Err(refused) => {
                if !self.store.use_code(&code_hash, now).await? {
                    self.store.revoke_grant(&record.grant_id, now).await?;
                    return Err(invalid_code());
                }
                return Err(refused);
            }
        };
        let (refresh_token, refresh_record) = if grant.scope.contains(scope::OFFLINE_ACCESS)
            && client.client().allows_grant(GrantType::RefreshToken)
        {
            let (token, record) = self.new_refresh_token(grant, client, now);
            (Some(token), Some(record))
        } else {
            (None, None)
        };
        // Used and its refresh token stored in one transaction: never one without the other.
        if !self
            .store
            .redeem_code(&code_hash, now, refresh_record.as_ref())
            .await?
        {
            self.store.revoke_grant(&record.grant_id, now).await?;
            return Err(invalid_code());
        }
        self.tokens_for_grant(client, grant, user, record.nonce.as_deref(), refresh_token)
    }
}

/// What a code must match besides being unused and the caller's: its lifetime, the `redirect_uri`
/// it was issued for and its PKCE challenge.
fn check_code(
    record: &CodeRecord,
    redirect_uri: &str,
    request: &TokenRequest,
    now: i64,
) -> Result<(), TokenError> {
    if record.expires_at <= now || record.redirect_uri != redirect_uri {
        return Err(invalid_code());
    }
    match (&record.code_challenge, request.param("code_verifier")) {
        (Some(challenge), Some(verifier)) if pkce::verifier_matches(verifier, challenge) => Ok(()),
        (None, None) => Ok(()),
        _ => Err(TokenError::OAuth(OAuthError::invalid_grant(
            "PKCE verification failed",
        ))),
    }
}

/// One answer for every code that cannot be redeemed, whatever the reason.
fn invalid_code() -> TokenError {
    TokenError::OAuth(OAuthError::invalid_grant(
        "the authorization code is invalid, expired or used",
    ))
}
