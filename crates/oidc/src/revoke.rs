//! Token revocation (RFC 7009).

use crate::client_auth::AuthenticatedClient;
use crate::error::Error;
use crate::jwt;
use crate::provider::Provider;
use crate::token::AccessTokenClaims;

impl Provider {
    /// Revokes `token` if it belongs to `client`. RFC 7009 §2.2: unknown or foreign tokens are not an
    /// error, so the caller always answers 200.
    pub async fn revoke(&self, client: &AuthenticatedClient, token: &str) -> Result<(), Error> {
        let now = self.now();
        if let Some(record) = self
            .store
            .find_refresh_token(&crate::token_hash(token))
            .await?
        {
            // RFC 7009 §2.1: revoking a refresh token revokes its grant, and the access tokens with it.
            if record.client_id == client.id() {
                self.store.revoke_grant(&record.grant_id, now).await?;
            }
            return Ok(());
        }
        let keys = self.keys.current();
        if let Ok(claims) = jwt::verify::<AccessTokenClaims>(&keys, token, jwt::TYP_ACCESS_TOKEN)
            && claims.iss == self.issuer
            && claims.client_id == client.id()
            && claims.exp > now
        {
            self.store
                .revoke_access_token(&claims.jti, claims.exp)
                .await?;
        }
        Ok(())
    }
}
