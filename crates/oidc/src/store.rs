//! What the protocol needs from storage. Implemented for SQL databases by `gatehouse-store`.

use async_trait::async_trait;

use crate::error::Result;
use crate::keys::SigningAlg;
use crate::scope::Scopes;

/// A user's consent to one client: what the user signed in with, to whom, for what. Authorization codes,
/// refresh tokens and access tokens all hang off a grant; revoking it revokes them all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub id: String,
    pub client_id: String,
    pub user_id: String,
    pub scope: Scopes,
    pub auth_time: i64,
    pub amr: Vec<String>,
    pub acr: Option<String>,
    /// Hash of the browser session this grant was made in; logging out of it revokes the grant's
    /// online tokens.
    pub session_hash: Option<String>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRecord {
    pub code_hash: String,
    pub grant_id: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: Option<String>,
    pub nonce: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenRecord {
    pub token_hash: String,
    pub grant_id: String,
    pub client_id: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

/// The claims a user can release, by scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserClaims {
    pub sub: String,
    pub email: String,
    pub email_verified: bool,
    pub name: String,
    pub updated_at: i64,
    pub disabled: bool,
}

/// A grant with the claims of its person (`None` when the person is gone), read in the same
/// statement as the code, refresh token or access token that hangs off it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantAndUser {
    pub grant: Grant,
    pub user: Option<UserClaims>,
}

impl GrantAndUser {
    /// The grant, unless it was revoked.
    pub fn live_grant(&self) -> Option<&Grant> {
        self.grant.revoked_at.is_none().then_some(&self.grant)
    }

    /// The grant and its person, if the grant stands and the person is active.
    pub fn into_live_and_active(self) -> Option<(Grant, UserClaims)> {
        let user = self.user.filter(|u| !u.disabled)?;
        self.grant
            .revoked_at
            .is_none()
            .then_some((self.grant, user))
    }
}

/// What becomes of a code or refresh token the store found: the provider decides, from the record,
/// its grant and its person, while the store holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redemption {
    /// Nothing is written.
    Keep,
    /// It was presented again after its use: its grant, and so everything issued with it, is revoked
    /// (RFC 6749 §4.1.2, RFC 9700 §4.14.2).
    RevokeGrant,
    /// It is marked used and then, only if it was still unused, this refresh token is stored with it.
    /// If another request used it first, its grant is revoked instead.
    Spend(Option<RefreshTokenRecord>),
}

/// The provider's decision on a code or refresh token (with its grant and person), which the store
/// may take on another task's behalf, inside a transaction that writes for several requests.
pub type Decide<R> = Box<dyn FnOnce(R, GrantAndUser) -> Redemption + Send>;

/// What the store did for a redemption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redeemed {
    /// No such code or refresh token (or its grant is gone): nothing was decided.
    NotFound,
    /// The decision was carried out.
    Done,
    /// [`Redemption::Spend`] found it used by another request meanwhile: its grant was revoked and
    /// nothing stored.
    UsedMeanwhile,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub kid: String,
    pub alg: SigningAlg,
    /// The private JWK, sealed with the master key (context: the kid).
    pub private_sealed: String,
    pub public_jwk: String,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    async fn insert_grant_and_code(&self, grant: &Grant, code: &CodeRecord) -> Result<()>;
    /// Finds the code with its grant and the grant's person, lets `decide` say what becomes of it,
    /// and does that: on SQLite all inside one write transaction, so no other request comes between
    /// the read and the write.
    async fn redeem_code(
        &self,
        code_hash: &str,
        now: i64,
        decide: Decide<CodeRecord>,
    ) -> Result<Redeemed>;

    async fn revoke_grant(&self, grant_id: &str, now: i64) -> Result<()>;
    /// Revokes the grants made in a browser session, except those with `offline_access`.
    async fn revoke_session_grants(&self, session_hash: &str, now: i64) -> Result<()>;

    async fn insert_refresh_token(&self, token: &RefreshTokenRecord) -> Result<()>;
    async fn find_refresh_token(&self, token_hash: &str) -> Result<Option<RefreshTokenRecord>>;
    /// The refresh token with its grant and the grant's person, in one statement (a token whose
    /// grant is gone is not found).
    async fn find_refresh_token_with_grant(
        &self,
        token_hash: &str,
    ) -> Result<Option<(RefreshTokenRecord, GrantAndUser)>>;
    /// Finds the refresh token with its grant and the grant's person, lets `decide` say what becomes
    /// of it, and does that, as [`redeem_code`](Self::redeem_code) does.
    async fn redeem_refresh_token(
        &self,
        token_hash: &str,
        now: i64,
        decide: Decide<RefreshTokenRecord>,
    ) -> Result<Redeemed>;

    async fn revoke_access_token(&self, jti: &str, expires_at: i64) -> Result<()>;
    async fn access_token_revoked(&self, jti: &str) -> Result<bool>;
    /// Whether the access token `jti` is revoked, with its grant `grant_id` and the grant's person,
    /// in one statement; `None` when the grant is gone.
    async fn access_token_grant(
        &self,
        jti: &str,
        grant_id: &str,
    ) -> Result<Option<(bool, GrantAndUser)>>;

    async fn signing_keys(&self) -> Result<Vec<StoredKey>>;
    /// Stores `new` and sets `retired_at = retire_at` on every unretired key of the same algorithms, in
    /// one transaction.
    async fn rotate_signing_keys(&self, new: &[StoredKey], retire_at: i64) -> Result<()>;
    /// Stores the first keys of algorithms that have none, in one transaction, retiring nothing. The
    /// store keeps at most one unretired key per algorithm, so when another node stored one first this
    /// fails and changes nothing.
    async fn add_first_signing_keys(&self, new: &[StoredKey]) -> Result<()>;
}
