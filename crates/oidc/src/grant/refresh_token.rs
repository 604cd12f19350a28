//! `grant_type=refresh_token` (RFC 6749 §6) with rotation: every use returns a new refresh token, and
//! presenting a used one revokes the whole family (RFC 9700 §4.14.2).

use crate::client_auth::AuthenticatedClient;
use crate::error::{ErrorCode, OAuthError};
use crate::provider::Provider;
use crate::scope::Scopes;
use crate::store::{Grant, GrantAndUser, Redeemed, Redemption, RefreshTokenRecord, UserClaims};
use crate::token::{TokenError, TokenRequest, TokenResponse, inactive_account};

use super::{Afterwards, Refused};

impl Provider {
    pub(crate) async fn exchange_refresh_token(
        &self,
        client: &AuthenticatedClient,
        request: &TokenRequest,
    ) -> Result<TokenResponse, TokenError> {
        let presented = request.required("refresh_token")?;
        let now = self.now();

        let mut issued = None;
        let redeemed =
            self.store
                .redeem_refresh_token(&crate::token_hash(presented), now, &mut |old, found| {
                    match self.check_refresh_token(client, request, now, &old, found) {
                        Ok((grant, user)) => {
                            let (token, new) = self.new_refresh_token(&grant, client, now);
                            issued = Some(Ok((grant, user, token)));
                            Redemption::Spend(Some(new))
                        }
                        Err(refused) => {
                            issued = Some(Err(refused.error));
                            refused.then.into()
                        }
                    }
                })
                .await?;
        let (grant, user, token) = match (redeemed, issued) {
            (Redeemed::Done, Some(issued)) => issued?,
            // Another request rotated it first: the same token was presented twice, and the store
            // revoked the family.
            (Redeemed::UsedMeanwhile, _) => {
                tracing::warn!(target: "gatehouse::security", client_id = client.id(), "refresh token rotated twice at once; family revoked");
                return Err(invalid());
            }
            _ => return Err(invalid()),
        };
        // OpenID Connect Core §12.2: the ID token from a refresh carries no nonce.
        self.tokens_for_grant(client, &grant, &user, None, Some(token))
    }

    /// The grant and person to issue new tokens for, when the refresh token `old` (with `found`) may
    /// be rotated by `client` at `now`; otherwise the answer and what becomes of the token.
    fn check_refresh_token(
        &self,
        client: &AuthenticatedClient,
        request: &TokenRequest,
        now: i64,
        old: &RefreshTokenRecord,
        found: GrantAndUser,
    ) -> Result<(Grant, UserClaims), Refused> {
        // RFC 6749 §6: the refresh token is bound to the client it was issued to.
        if old.client_id != client.id() {
            tracing::warn!(target: "gatehouse::security", client_id = client.id(), "refresh token presented by another client");
            return Err(Refused::keep(invalid()));
        }
        if old.used_at.is_some() {
            tracing::warn!(target: "gatehouse::security", client_id = client.id(), "rotated refresh token reused; family revoked");
            return Err(Refused {
                error: invalid(),
                then: Afterwards::RevokeGrant,
            });
        }
        if old.expires_at <= now {
            return Err(Refused::keep(invalid()));
        }
        if found.live_grant().is_none() {
            return Err(Refused::keep(invalid()));
        }
        let Some((mut grant, user)) = found.into_live_and_active() else {
            return Err(Refused::keep(inactive_account()));
        };
        // RFC 6749 §6: a narrower scope may be asked for, never a wider one.
        if let Some(scope) = request.param("scope") {
            let narrower = Scopes::parse(scope);
            if !narrower.is_subset(&grant.scope) {
                return Err(Refused::keep(TokenError::OAuth(OAuthError::new(
                    ErrorCode::InvalidScope,
                    "scope exceeds the original grant",
                ))));
            }
            grant.scope = narrower;
        }
        Ok((grant, user))
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

/// One answer for every refresh token that cannot be used, whatever the reason.
fn invalid() -> TokenError {
    TokenError::OAuth(OAuthError::invalid_grant(
        "the refresh token is invalid, expired or revoked",
    ))
}
