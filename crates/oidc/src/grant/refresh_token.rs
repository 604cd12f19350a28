//! `grant_type=refresh_token` (RFC 6749 §6) with rotation: every use returns a new refresh token, and
//! presenting a used one revokes the whole family (RFC 9700 §4.14.2).

use crate::client_auth::AuthenticatedClient;
use crate::error::{ErrorCode, OAuthError};
use crate::provider::Provider;
use crate::scope::Scopes;
use crate::store::{Grant, GrantAndUser, Redeemed, Redemption, RefreshTokenRecord, UserClaims};
use crate::token::{TokenError, TokenRequest, TokenResponse, inactive_account};

use super::{Refused, decided_in_store};

impl Provider {
    pub(crate) async fn exchange_refresh_token(
        &self,
        client: &AuthenticatedClient,
        request: &TokenRequest,
    ) -> Result<TokenResponse, TokenError> {
        let presented = request.required("refresh_token")?;
        let now = self.now();
        // Drawn before the store's write, which should hold nothing up.
        let (token, next) = NextRefreshToken::draw(self, client, now);
        let check = RefreshCheck {
            client: client.clone(),
            scope: request.param("scope").map(str::to_owned),
            now,
        };
        let (decide, checked) =
            decided_in_store(move |old, found| match check.check(&old, found) {
                Ok((grant, user)) => {
                    let new = next.record(&grant);
                    (Redemption::Spend(Some(new)), Ok((grant, user)))
                }
                Err(refused) => refused.split(),
            });
        let redeemed = self
            .store
            .redeem_refresh_token(&crate::token_hash(presented), now, decide)
            .await?;
        let (grant, user) = match (redeemed, checked.take()) {
            (Redeemed::Done, Some(checked)) => checked?,
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
}

/// A refresh token drawn for a grant not yet known: the record is made once the store has found it.
pub(crate) struct NextRefreshToken {
    token_hash: String,
    client_id: String,
    created_at: i64,
    expires_at: i64,
}

impl NextRefreshToken {
    /// A new refresh token for `client` at `now`: the token itself, and what makes its record, which
    /// stores only its hash.
    pub(crate) fn draw(
        provider: &Provider,
        client: &AuthenticatedClient,
        now: i64,
    ) -> (String, Self) {
        let token = crate::random_token();
        let next = Self {
            token_hash: crate::token_hash(&token),
            client_id: client.id().to_owned(),
            created_at: now,
            expires_at: now + provider.lifetimes.refresh_token,
        };
        (token, next)
    }

    /// Its record, as a token of `grant`.
    pub(crate) fn record(self, grant: &Grant) -> RefreshTokenRecord {
        RefreshTokenRecord {
            token_hash: self.token_hash,
            grant_id: grant.id.clone(),
            client_id: self.client_id,
            created_at: self.created_at,
            expires_at: self.expires_at,
            used_at: None,
        }
    }
}

/// What a presented refresh token is checked against.
struct RefreshCheck {
    client: AuthenticatedClient,
    /// The narrower scope asked for, if any.
    scope: Option<String>,
    now: i64,
}

impl RefreshCheck {
    /// The grant and person to issue new tokens for, when the refresh token `old` (with `found`)
    /// may be rotated; otherwise the answer and what becomes of the token.
    fn check(
        self,
        old: &RefreshTokenRecord,
        found: GrantAndUser,
    ) -> Result<(Grant, UserClaims), Refused> {
        let client_id = self.client.id();
        // RFC 6749 §6: the refresh token is bound to the client it was issued to.
        if old.client_id != client_id {
            tracing::warn!(target: "gatehouse::security", client_id, "refresh token presented by another client");
            return Err(Refused::keep(invalid()));
        }
        if old.used_at.is_some() {
            tracing::warn!(target: "gatehouse::security", client_id, "rotated refresh token reused; family revoked");
            return Err(Refused::revoke_grant(invalid()));
        }
        if old.expires_at <= self.now {
            return Err(Refused::keep(invalid()));
        }
        if found.live_grant().is_none() {
            return Err(Refused::keep(invalid()));
        }
        let Some((mut grant, user)) = found.into_live_and_active() else {
            return Err(Refused::keep(inactive_account()));
        };
        // RFC 6749 §6: a narrower scope may be asked for, never a wider one.
        if let Some(scope) = &self.scope {
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
}

/// One answer for every refresh token that cannot be used, whatever the reason.
fn invalid() -> TokenError {
    TokenError::OAuth(OAuthError::invalid_grant(
        "the refresh token is invalid, expired or revoked",
    ))
}
