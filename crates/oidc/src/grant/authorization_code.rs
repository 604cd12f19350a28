//! `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.6, OpenID Connect Core §3.1.3).

use crate::client::GrantType;
use crate::client_auth::AuthenticatedClient;
use crate::error::OAuthError;
use crate::pkce;
use crate::provider::Provider;
use crate::scope;
use crate::store::{CodeRecord, Grant, GrantAndUser, Redeemed, Redemption, UserClaims};
use crate::token::{TokenError, TokenRequest, TokenResponse, inactive_account};

use super::refresh_token::NextRefreshToken;
use super::{Refused, decided_in_store};

impl Provider {
    pub(crate) async fn exchange_authorization_code(
        &self,
        client: &AuthenticatedClient,
        request: &TokenRequest,
    ) -> Result<TokenResponse, TokenError> {
        let code = request.required("code")?;
        let redirect_uri = request.required("redirect_uri")?;
        let now = self.now();

        // Drawn before the store's write, which should hold nothing up; issued if the grant has
        // `offline_access`.
        let next_refresh_token = client
            .client()
            .allows_grant(GrantType::RefreshToken)
            .then(|| NextRefreshToken::draw(self, client, now));
        let check = CodeCheck {
            client: client.clone(),
            redirect_uri: redirect_uri.to_owned(),
            code_verifier: request.param("code_verifier").map(str::to_owned),
            now,
        };
        let (decide, checked) = decided_in_store(move |record: CodeRecord, found| {
            let (grant, user) = match check.check(&record, found) {
                Ok(checked) => checked,
                Err(refused) => return refused.split(),
            };
            let (refresh_token, refresh_record) = match next_refresh_token {
                Some((token, next)) if grant.scope.contains(scope::OFFLINE_ACCESS) => {
                    let record = next.record(&grant);
                    (Some(token), Some(record))
                }
                _ => (None, None),
            };
            // Used and its refresh token stored in one transaction: never one without the other.
            let issued = (grant, user, record.nonce, refresh_token);
            (Redemption::Spend(refresh_record), Ok(issued))
        });
        let redeemed = self
            .store
            .redeem_code(&crate::token_hash(code), now, decide)
            .await?;
        let (grant, user, nonce, refresh_token) = match (redeemed, checked.take()) {
            (Redeemed::Done, Some(issued)) => issued?,
            // Another request used it first: the store revoked the grant.
            (Redeemed::UsedMeanwhile, _) => {
                tracing::warn!(target: "gatehouse::security", client_id = client.id(), "authorization code redeemed twice at once; grant revoked");
                return Err(invalid_code());
            }
            _ => return Err(invalid_code()),
        };
        self.tokens_for_grant(client, &grant, &user, nonce.as_deref(), refresh_token)
    }
}

/// What a presented code is checked against.
struct CodeCheck {
    client: AuthenticatedClient,
    redirect_uri: String,
    code_verifier: Option<String>,
    now: i64,
}

impl CodeCheck {
    /// The grant and person to issue tokens for, when the code `record` (with `found`) may be
    /// redeemed; otherwise the answer and what becomes of the code.
    fn check(
        self,
        record: &CodeRecord,
        found: GrantAndUser,
    ) -> Result<(Grant, UserClaims), Refused> {
        let client_id = self.client.id();
        // RFC 6749 §4.1.2: the code was issued to another client.
        if record.client_id != client_id {
            tracing::warn!(target: "gatehouse::security", client_id, "authorization code presented by another client");
            return Err(Refused::keep(invalid_code()));
        }
        // RFC 6749 §4.1.2: a code used twice revokes everything issued with it.
        if record.used_at.is_some() {
            tracing::warn!(target: "gatehouse::security", client_id, "authorization code reused; grant revoked");
            return Err(Refused::revoke_grant(invalid_code()));
        }
        // The code gets one try: when a check below fails, it is used up all the same.
        check_code_matches(
            record,
            &self.redirect_uri,
            self.code_verifier.as_deref(),
            self.now,
        )
        .map_err(Refused::use_up)?;
        if found.live_grant().is_none() {
            return Err(Refused::use_up(invalid_code()));
        }
        found
            .into_live_and_active()
            .ok_or_else(|| Refused::use_up(inactive_account()))
    }
}

/// What a code must match besides being unused and the caller's: its lifetime, the `redirect_uri`
/// it was issued for and its PKCE challenge.
fn check_code_matches(
    record: &CodeRecord,
    redirect_uri: &str,
    code_verifier: Option<&str>,
    now: i64,
) -> Result<(), TokenError> {
    if record.expires_at <= now || record.redirect_uri != redirect_uri {
        return Err(invalid_code());
    }
    match (&record.code_challenge, code_verifier) {
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
