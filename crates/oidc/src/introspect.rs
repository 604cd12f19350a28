//! Token introspection (RFC 7662), for confidential clients.

use serde_json::{Value, json};

use crate::client_auth::AuthenticatedClient;
use crate::error::Error;
use crate::provider::Provider;

impl Provider {
    /// RFC 7662 §2.2: `{"active": false}` for anything not currently valid, with no reason given.
    pub async fn introspect(
        &self,
        _caller: &AuthenticatedClient,
        token: &str,
    ) -> Result<Value, Error> {
        let inactive = json!({ "active": false });
        if token.matches('.').count() == 2 {
            return match self.validate_access_token(token).await {
                Ok(valid) => {
                    let claims = valid.claims;
                    Ok(json!({
                        "active": true,
                        "token_type": "Bearer",
                        "scope": claims.scope,
                        "client_id": claims.client_id,
                        "sub": claims.sub,
                        "aud": claims.aud,
                        "iss": claims.iss,
                        "exp": claims.exp,
                        "iat": claims.iat,
                        "jti": claims.jti,
                    }))
                }
                Err(Error::OAuth(_)) => Ok(inactive),
                Err(e) => Err(e),
            };
        }
        let now = self.now();
        let Some((record, found)) = self
            .store
            .find_refresh_token_with_grant(&crate::token_hash(token))
            .await?
        else {
            return Ok(inactive);
        };
        if record.used_at.is_some() || record.expires_at <= now {
            return Ok(inactive);
        }
        let Some((grant, user)) = found.into_live_and_active() else {
            return Ok(inactive);
        };
        Ok(json!({
            "active": true,
            "token_type": "refresh_token",
            "scope": grant.scope.to_string(),
            "client_id": record.client_id,
            "sub": user.sub,
            "iss": self.issuer,
            "exp": record.expires_at,
            "iat": record.created_at,
        }))
    }
}
