//! The UserInfo endpoint (OpenID Connect Core §5.3).

use serde_json::{Map, Value, json};

use crate::error::{Error, ErrorCode, OAuthError};
use crate::provider::Provider;
use crate::scope::{self, Scopes};

impl Provider {
    /// Claims for the bearer of `access_token`, by the scopes it carries.
    pub async fn userinfo(&self, access_token: &str) -> Result<Map<String, Value>, Error> {
        let token = self.validate_access_token(access_token).await?;
        let scopes = Scopes::parse(&token.claims.scope);
        // OpenID Connect Core §5.3: the access token must have been issued to a user with `openid`.
        let Some((_, user)) = token.grant.filter(|_| scopes.contains(scope::OPENID)) else {
            return Err(Error::OAuth(OAuthError::new(
                ErrorCode::InsufficientScope,
                "the access token lacks the openid scope",
            )));
        };
        let mut out = Map::new();
        out.insert("sub".into(), json!(user.sub));
        if scopes.contains(scope::PROFILE) {
            out.insert("name".into(), json!(user.name));
            out.insert("updated_at".into(), json!(user.updated_at));
        }
        if scopes.contains(scope::EMAIL) {
            out.insert("email".into(), json!(user.email));
            out.insert("email_verified".into(), json!(user.email_verified));
        }
        Ok(out)
    }
}
