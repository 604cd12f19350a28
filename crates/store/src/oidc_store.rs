//! [`gatehouse_oidc::Store`] on the database.

use async_trait::async_trait;
use gatehouse_oidc::error::Result;
use gatehouse_oidc::keys::SigningAlg;
use gatehouse_oidc::scope::Scopes;
use gatehouse_oidc::store::{
    CodeRecord, Decide, Grant, GrantAndUser, Redeemed, RefreshTokenRecord, StoredKey,
};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait as _, DbBackend, EntityTrait as _,
    QueryFilter as _, QueryTrait as _, Statement,
};

use crate::entities::{
    authorization_code, grant, refresh_token, revoked_access_token, signing_key,
};
use crate::error::oidc;
use crate::fixed_sql::HotStatements;
use crate::redemption::revoke_grant;
use crate::{Database, json_list, parse_json_list};

fn grant_model(g: &Grant) -> grant::ActiveModel {
    grant::ActiveModel {
        id: Set(g.id.clone()),
        client_id: Set(g.client_id.clone()),
        user_id: Set(g.user_id.clone()),
        scope: Set(g.scope.to_string()),
        auth_time: Set(g.auth_time),
        amr: Set(json_list(&g.amr)),
        acr: Set(g.acr.clone()),
        session_hash: Set(g.session_hash.clone()),
        created_at: Set(g.created_at),
        revoked_at: Set(g.revoked_at),
    }
}

pub(crate) fn grant_from(m: grant::Model) -> Grant {
    Grant {
        id: m.id,
        client_id: m.client_id,
        user_id: m.user_id,
        scope: Scopes::parse(&m.scope),
        auth_time: m.auth_time,
        amr: parse_json_list(&m.amr),
        acr: m.acr,
        session_hash: m.session_hash,
        created_at: m.created_at,
        revoked_at: m.revoked_at,
    }
}

pub(crate) fn code_from(m: authorization_code::Model) -> CodeRecord {
    CodeRecord {
        code_hash: m.code_hash,
        grant_id: m.grant_id,
        client_id: m.client_id,
        redirect_uri: m.redirect_uri,
        code_challenge: m.code_challenge,
        nonce: m.nonce,
        created_at: m.created_at,
        expires_at: m.expires_at,
        used_at: m.used_at,
    }
}

pub(crate) fn refresh_token_from(m: refresh_token::Model) -> RefreshTokenRecord {
    RefreshTokenRecord {
        token_hash: m.token_hash,
        grant_id: m.grant_id,
        client_id: m.client_id,
        created_at: m.created_at,
        expires_at: m.expires_at,
        used_at: m.used_at,
    }
}

pub(crate) fn insert_refresh_token(backend: DbBackend, t: &RefreshTokenRecord) -> Statement {
    refresh_token::Entity::insert(refresh_model(t)).build(backend)
}

/// The values of [`insert_refresh_token`], in its columns' order (a test holds the two together).
pub(crate) fn refresh_token_values(t: &RefreshTokenRecord) -> [sea_orm::Value; 6] {
    [
        t.token_hash.clone().into(),
        t.grant_id.clone().into(),
        t.client_id.clone().into(),
        t.created_at.into(),
        t.expires_at.into(),
        t.used_at.into(),
    ]
}

fn refresh_model(t: &RefreshTokenRecord) -> refresh_token::ActiveModel {
    refresh_token::ActiveModel {
        token_hash: Set(t.token_hash.clone()),
        grant_id: Set(t.grant_id.clone()),
        client_id: Set(t.client_id.clone()),
        created_at: Set(t.created_at),
        expires_at: Set(t.expires_at),
        used_at: Set(t.used_at),
    }
}

#[async_trait]
impl gatehouse_oidc::Store for Database {
    async fn insert_grant_and_code(&self, g: &Grant, code: &CodeRecord) -> Result<()> {
        let txn = self.conn.begin().await.map_err(oidc)?;
        grant::Entity::insert(grant_model(g))
            .exec(&txn)
            .await
            .map_err(oidc)?;
        authorization_code::Entity::insert(authorization_code::ActiveModel {
            code_hash: Set(code.code_hash.clone()),
            grant_id: Set(code.grant_id.clone()),
            client_id: Set(code.client_id.clone()),
            redirect_uri: Set(code.redirect_uri.clone()),
            code_challenge: Set(code.code_challenge.clone()),
            nonce: Set(code.nonce.clone()),
            created_at: Set(code.created_at),
            expires_at: Set(code.expires_at),
            used_at: Set(code.used_at),
        })
        .exec(&txn)
        .await
        .map_err(oidc)?;
        txn.commit().await.map_err(oidc)
    }

    async fn redeem_code(
        &self,
        code_hash: &str,
        now: i64,
        decide: Decide<CodeRecord>,
    ) -> Result<Redeemed> {
        self.redeem(code_hash, now, decide).await.map_err(oidc)
    }

    async fn revoke_grant(&self, grant_id: &str, now: i64) -> Result<()> {
        let backend = self.conn.get_database_backend();
        self.conn
            .execute(revoke_grant(backend, grant_id, now))
            .await
            .map_err(oidc)?;
        Ok(())
    }

    async fn revoke_session_grants(&self, session_hash: &str, now: i64) -> Result<()> {
        let grants = grant::Entity::find()
            .filter(grant::Column::SessionHash.eq(session_hash))
            .filter(grant::Column::RevokedAt.is_null())
            .all(&self.conn)
            .await
            .map_err(oidc)?;
        for g in grants.into_iter().map(grant_from) {
            if !g.scope.contains(gatehouse_oidc::scope::OFFLINE_ACCESS) {
                self.revoke_grant(&g.id, now).await?;
            }
        }
        Ok(())
    }

    async fn insert_refresh_token(&self, token: &RefreshTokenRecord) -> Result<()> {
        self.conn
            .execute(self.insert_refresh_token_statement(token))
            .await
            .map_err(oidc)?;
        Ok(())
    }

    async fn find_refresh_token(&self, token_hash: &str) -> Result<Option<RefreshTokenRecord>> {
        let found = self
            .read_by_key::<refresh_token::Model>(
                &self.hot.refresh_token,
                |backend| refresh_token::Entity::find_by_id("").build(backend),
                token_hash,
            )
            .await
            .map_err(oidc)?;
        Ok(found.map(refresh_token_from))
    }

    async fn find_refresh_token_with_grant(
        &self,
        token_hash: &str,
    ) -> Result<Option<(RefreshTokenRecord, GrantAndUser)>> {
        self.refresh_token_with_grant(token_hash)
            .await
            .map_err(oidc)
    }

    async fn redeem_refresh_token(
        &self,
        token_hash: &str,
        now: i64,
        decide: Decide<RefreshTokenRecord>,
    ) -> Result<Redeemed> {
        self.redeem(token_hash, now, decide).await.map_err(oidc)
    }

    async fn revoke_access_token(&self, jti: &str, expires_at: i64) -> Result<()> {
        revoked_access_token::Entity::insert(revoked_access_token::ActiveModel {
            jti: Set(jti.to_owned()),
            expires_at: Set(expires_at),
        })
        .on_conflict(
            OnConflict::column(revoked_access_token::Column::Jti)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&self.conn)
        .await
        .map_err(oidc)?;
        Ok(())
    }

    async fn access_token_revoked(&self, jti: &str) -> Result<bool> {
        Ok(self
            .read_by_key::<revoked_access_token::Model>(
                &self.hot.access_token_revoked,
                |backend| revoked_access_token::Entity::find_by_id("").build(backend),
                jti,
            )
            .await
            .map_err(oidc)?
            .is_some())
    }

    async fn access_token_grant(
        &self,
        jti: &str,
        grant_id: &str,
    ) -> Result<Option<(bool, GrantAndUser)>> {
        self.access_token_with_grant(jti, grant_id)
            .await
            .map_err(oidc)
    }

    async fn signing_keys(&self) -> Result<Vec<StoredKey>> {
        let rows = signing_key::Entity::find()
            .all(&self.conn)
            .await
            .map_err(oidc)?;
        rows.into_iter()
            .map(|k| {
                let alg = SigningAlg::parse(&k.alg).ok_or_else(|| {
                    gatehouse_oidc::Error::Keys(format!(
                        "unknown algorithm {} for key {}",
                        k.alg, k.kid
                    ))
                })?;
                Ok(StoredKey {
                    kid: k.kid,
                    alg,
                    private_sealed: k.private_sealed,
                    public_jwk: k.public_jwk,
                    created_at: k.created_at,
                    retired_at: k.retired_at,
                })
            })
            .collect()
    }

    async fn rotate_signing_keys(&self, new: &[StoredKey], retire_at: i64) -> Result<()> {
        let txn = self.conn.begin().await.map_err(oidc)?;
        for key in new {
            signing_key::Entity::update_many()
                .col_expr(signing_key::Column::RetiredAt, Expr::value(retire_at))
                .filter(signing_key::Column::Alg.eq(key.alg.as_str()))
                .filter(signing_key::Column::RetiredAt.is_null())
                .exec(&txn)
                .await
                .map_err(oidc)?;
            signing_key::Entity::insert(key_row(key))
                .exec(&txn)
                .await
                .map_err(oidc)?;
        }
        txn.commit().await.map_err(oidc)
    }

    async fn add_first_signing_keys(&self, new: &[StoredKey]) -> Result<()> {
        let txn = self.conn.begin().await.map_err(oidc)?;
        for key in new {
            signing_key::Entity::insert(key_row(key))
                .exec(&txn)
                .await
                .map_err(oidc)?;
        }
        txn.commit().await.map_err(oidc)
    }
}

impl Database {
    fn insert_refresh_token_statement(&self, token: &RefreshTokenRecord) -> Statement {
        insert_refresh_token_statement(&self.hot, self.conn.get_database_backend(), token)
    }
}

/// [`insert_refresh_token`] with its text built once.
pub(crate) fn insert_refresh_token_statement(
    hot: &HotStatements,
    backend: DbBackend,
    token: &RefreshTokenRecord,
) -> Statement {
    hot.insert_refresh_token.statement(
        backend,
        || insert_refresh_token(backend, token),
        refresh_token_values(token),
    )
}

fn key_row(key: &StoredKey) -> signing_key::ActiveModel {
    signing_key::ActiveModel {
        kid: Set(key.kid.clone()),
        alg: Set(key.alg.as_str().to_owned()),
        private_sealed: Set(key.private_sealed.clone()),
        public_jwk: Set(key.public_jwk.clone()),
        created_at: Set(key.created_at),
        retired_at: Set(key.retired_at),
    }
}

#[cfg(test)]
mod tests {
    use gatehouse_oidc::Store as _;

    use super::*;
    use crate::test_db;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn nodes_starting_together_on_a_fresh_database_share_one_set_of_keys() {
        use gatehouse_oidc::{ClientRegistry, Lifetimes, MasterKey, Provider, SystemClock};
        let (db, _guard) = test_db::fresh().await;
        let master = MasterKey::generate().to_base64();
        let start = |db: Database| {
            let master = MasterKey::from_base64(&master).unwrap();
            tokio::spawn(async move {
                Provider::new(
                    "https://id.example".into(),
                    ClientRegistry::default(),
                    std::sync::Arc::new(db),
                    Lifetimes::default(),
                    std::sync::Arc::new(SystemClock),
                    master,
                )
                .await
            })
        };
        let (a, b) = (start(db.clone()), start(db.clone()));
        let (a, b) = (a.await.unwrap().unwrap(), b.await.unwrap().unwrap());
        let stored = db.signing_keys().await.unwrap();
        assert_eq!(stored.len(), 3, "one key per algorithm, not two");
        for alg in gatehouse_oidc::keys::SigningAlg::ALL {
            assert_eq!(
                a.keys.current().signing_key(alg).unwrap().kid,
                b.keys.current().signing_key(alg).unwrap().kid
            );
        }
    }

    #[tokio::test]
    async fn a_second_unretired_key_for_an_algorithm_is_refused() {
        let (db, _guard) = test_db::fresh().await;
        let master = gatehouse_oidc::MasterKey::generate();
        let key = |now| {
            gatehouse_oidc::keys::generate(gatehouse_oidc::keys::SigningAlg::EdDSA, &master, now)
                .unwrap()
        };
        db.add_first_signing_keys(&[key(1)]).await.unwrap();
        assert!(db.add_first_signing_keys(&[key(2)]).await.is_err());
        // Rotation retires the old key first, so it is allowed.
        db.rotate_signing_keys(&[key(3)], 3).await.unwrap();
        assert_eq!(db.signing_keys().await.unwrap().len(), 2);
    }
}
