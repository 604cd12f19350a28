//! The reads behind every token request after sign-in: a code, a refresh token or an access token's
//! revocation, together with the grant it hangs off and the grant's person, in one statement each.
//! Read one after the other they were three round trips; on PostgreSQL each is a wake-up of the
//! server's backend process and of ours, which profiling showed to be most of a userinfo request's
//! CPU. The text is written out (a join and a subquery say more here than a builder would) and kept
//! once per backend, like the other hot statements.

use gatehouse_oidc::store::{CodeRecord, GrantAndUser, RefreshTokenRecord, UserClaims};
use sea_orm::{ConnectionTrait as _, DbBackend, DbErr, FromQueryResult, QueryResult, Statement};

use crate::Database;
use crate::entities::{authorization_code, grant, refresh_token};
use crate::fixed_sql::{FixedSql, HotStatements};
use crate::oidc_store::{code_from, grant_from, refresh_token_from};

/// The grant's columns (prefixed `g_`) and its person's (prefixed `u_`), for a query that joins
/// `grants g` and left-joins `users u`.
const GRANT_AND_USER: &str = "g.id AS g_id, g.client_id AS g_client_id, g.user_id AS g_user_id, \
     g.scope AS g_scope, g.auth_time AS g_auth_time, g.amr AS g_amr, g.acr AS g_acr, \
     g.session_hash AS g_session_hash, g.created_at AS g_created_at, g.revoked_at AS g_revoked_at, \
     u.id AS u_id, u.email AS u_email, u.email_verified AS u_email_verified, u.name AS u_name, \
     u.updated_at AS u_updated_at, u.disabled AS u_disabled";

const JOIN_USER: &str = "LEFT JOIN users u ON u.id = g.user_id";

/// The columns of a person that tokens and userinfo carry: only these (not the password hash or the
/// second-factor settings) are selected.
#[derive(Debug, FromQueryResult)]
struct ClaimsRow {
    id: String,
    email: String,
    email_verified: bool,
    name: String,
    updated_at: i64,
    disabled: bool,
}

impl Database {
    /// The code `code_hash` with its grant and person (redemptions read it inside their
    /// transaction: [`crate::redemption`]).
    #[cfg(test)]
    pub(crate) async fn code_with_grant(
        &self,
        code_hash: &str,
    ) -> Result<Option<(CodeRecord, GrantAndUser)>, DbErr> {
        self.read_with_grant(code_hash).await
    }

    /// The refresh token `token_hash` with its grant and person.
    pub(crate) async fn refresh_token_with_grant(
        &self,
        token_hash: &str,
    ) -> Result<Option<(RefreshTokenRecord, GrantAndUser)>, DbErr> {
        self.read_with_grant(token_hash).await
    }

    /// The code or refresh token `key` with its grant and person.
    async fn read_with_grant<R: ReadWithGrant>(
        &self,
        key: &str,
    ) -> Result<Option<(R, GrantAndUser)>, DbErr> {
        let statement = R::with_grant(&self.hot, self.conn.get_database_backend(), key);
        self.conn
            .query_one(statement)
            .await?
            .map(|row| R::with_grant_from(&row))
            .transpose()
    }

    pub(crate) async fn access_token_with_grant(
        &self,
        jti: &str,
        grant_id: &str,
    ) -> Result<Option<(bool, GrantAndUser)>, DbErr> {
        let sql = || {
            format!(
                "SELECT (SELECT r.jti FROM revoked_access_tokens r WHERE r.jti = ?) AS revoked_jti, \
                 {GRANT_AND_USER} FROM grants g {JOIN_USER} WHERE g.id = ?"
            )
        };
        let Some(row) = self
            .read_one(
                &self.hot.access_token_grant,
                sql,
                [jti.into(), grant_id.into()],
            )
            .await?
        else {
            return Ok(None);
        };
        let revoked = row.try_get::<Option<String>>("", "revoked_jti")?.is_some();
        Ok(Some((revoked, grant_and_user(&row)?)))
    }

    /// The one row (or none) of the text `sql` makes, with `values` bound in the order of its `?`s.
    async fn read_one<const N: usize>(
        &self,
        fixed: &FixedSql,
        sql: impl FnOnce() -> String,
        values: [sea_orm::Value; N],
    ) -> Result<Option<QueryResult>, DbErr> {
        let statement = fixed_statement(self.conn.get_database_backend(), fixed, sql, values);
        self.conn.query_one(statement).await
    }
}

/// The statement for the text `sql` makes (kept in `fixed`), with `values` bound in the order of its
/// `?`s.
fn fixed_statement<const N: usize>(
    backend: DbBackend,
    fixed: &FixedSql,
    sql: impl FnOnce() -> String,
    values: [sea_orm::Value; N],
) -> Statement {
    fixed.statement(
        backend,
        || Statement::from_string(backend, numbered(backend, &sql())),
        values,
    )
}

/// A code or a refresh token: read by its hash together with its grant and the grant's person, in
/// one statement that runs on the database or inside a transaction.
pub(crate) trait ReadWithGrant: Sized {
    /// The statement that reads the record `key` with its grant and person.
    fn with_grant(hot: &HotStatements, backend: DbBackend, key: &str) -> Statement;
    /// The record and its grant and person, from a row of [`with_grant`](Self::with_grant).
    fn with_grant_from(row: &QueryResult) -> Result<(Self, GrantAndUser), DbErr>;
}

impl ReadWithGrant for CodeRecord {
    fn with_grant(hot: &HotStatements, backend: DbBackend, code_hash: &str) -> Statement {
        let sql = || {
            format!(
                "SELECT c.code_hash AS code_hash, c.grant_id AS grant_id, c.client_id AS client_id, \
                 c.redirect_uri AS redirect_uri, c.code_challenge AS code_challenge, \
                 c.nonce AS nonce, c.created_at AS created_at, c.expires_at AS expires_at, \
                 c.used_at AS used_at, {GRANT_AND_USER} \
                 FROM authorization_codes c JOIN grants g ON g.id = c.grant_id {JOIN_USER} \
                 WHERE c.code_hash = ?"
            )
        };
        fixed_statement(backend, &hot.code_with_grant, sql, [code_hash.into()])
    }

    fn with_grant_from(row: &QueryResult) -> Result<(Self, GrantAndUser), DbErr> {
        let code = code_from(authorization_code::Model::from_query_result(row, "")?);
        Ok((code, grant_and_user(row)?))
    }
}

impl ReadWithGrant for RefreshTokenRecord {
    fn with_grant(hot: &HotStatements, backend: DbBackend, token_hash: &str) -> Statement {
        let sql = || {
            format!(
                "SELECT t.token_hash AS token_hash, t.grant_id AS grant_id, \
                 t.client_id AS client_id, t.created_at AS created_at, \
                 t.expires_at AS expires_at, t.used_at AS used_at, {GRANT_AND_USER} \
                 FROM refresh_tokens t JOIN grants g ON g.id = t.grant_id {JOIN_USER} \
                 WHERE t.token_hash = ?"
            )
        };
        fixed_statement(
            backend,
            &hot.refresh_token_with_grant,
            sql,
            [token_hash.into()],
        )
    }

    fn with_grant_from(row: &QueryResult) -> Result<(Self, GrantAndUser), DbErr> {
        let token = refresh_token_from(refresh_token::Model::from_query_result(row, "")?);
        Ok((token, grant_and_user(row)?))
    }
}

/// The grant (`g_` columns) and its person (`u_` columns, all null when the person is gone).
fn grant_and_user(row: &QueryResult) -> Result<GrantAndUser, DbErr> {
    let grant = grant_from(grant::Model::from_query_result(row, "g_")?);
    let user = match row.try_get::<Option<String>>("u_", "id")? {
        None => None,
        Some(_) => {
            let u = ClaimsRow::from_query_result(row, "u_")?;
            Some(UserClaims {
                sub: u.id,
                email: u.email,
                email_verified: u.email_verified,
                name: u.name,
                updated_at: u.updated_at,
                disabled: u.disabled,
            })
        }
    };
    Ok(GrantAndUser { grant, user })
}

/// `sql` with its `?` placeholders as this backend writes them: `$1`, `$2`, … on PostgreSQL.
fn numbered(backend: DbBackend, sql: &str) -> String {
    if backend != DbBackend::Postgres {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use gatehouse_oidc::Store as _;
    use gatehouse_oidc::scope::Scopes;
    use gatehouse_oidc::store::Grant;

    use super::*;
    use crate::test_db;

    /// The code `code` of the grant `g`.
    fn code() -> CodeRecord {
        CodeRecord {
            code_hash: "code".into(),
            grant_id: "g".into(),
            client_id: "c".into(),
            redirect_uri: "https://app/cb".into(),
            code_challenge: Some("challenge".into()),
            nonce: None,
            created_at: 1,
            expires_at: 60,
            used_at: None,
        }
    }

    /// A grant of `user_id`'s, with a code `code` and a refresh token `refresh` hanging off it.
    async fn grant_with_code_and_refresh_token(db: &Database, user_id: &str) -> Grant {
        let grant = Grant {
            id: "g".into(),
            client_id: "c".into(),
            user_id: user_id.into(),
            scope: Scopes::parse("openid email offline_access"),
            auth_time: 1,
            amr: vec!["pwd".into(), "otp".into()],
            acr: Some("mfa".into()),
            session_hash: Some("s".into()),
            created_at: 1,
            revoked_at: None,
        };
        db.insert_grant_and_code(&grant, &code()).await.unwrap();
        db.insert_refresh_token(&RefreshTokenRecord {
            token_hash: "refresh".into(),
            grant_id: "g".into(),
            client_id: "c".into(),
            created_at: 2,
            expires_at: 100,
            used_at: None,
        })
        .await
        .unwrap();
        grant
    }

    /// Ann (created at 5), with a grant, its code and its refresh token.
    async fn ann_with_a_grant(db: &Database) -> (crate::users::User, Grant) {
        let ann = db
            .create_user("ann@example.com", "Ann", "$hash", 5)
            .await
            .unwrap();
        let grant = grant_with_code_and_refresh_token(db, &ann.id).await;
        (ann, grant)
    }

    #[tokio::test]
    async fn a_code_and_a_refresh_token_come_with_their_grant_and_person() {
        let (db, _guard) = test_db::fresh().await;
        let (ann, grant) = ann_with_a_grant(&db).await;
        let claims = UserClaims {
            sub: ann.id.clone(),
            email: "ann@example.com".into(),
            email_verified: false,
            name: "Ann".into(),
            updated_at: 5,
            disabled: false,
        };
        let expected = GrantAndUser {
            grant,
            user: Some(claims),
        };

        let (found_code, found) = db.code_with_grant("code").await.unwrap().unwrap();
        assert_eq!(found_code, code());
        assert_eq!(found, expected);
        let (token, found) = db
            .find_refresh_token_with_grant("refresh")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            token,
            db.find_refresh_token("refresh").await.unwrap().unwrap()
        );
        assert_eq!(found, expected);

        assert!(db.code_with_grant("other").await.unwrap().is_none());
        assert!(
            db.find_refresh_token_with_grant("other")
                .await
                .unwrap()
                .is_none()
        );
    }

    #[tokio::test]
    async fn a_disabled_or_missing_person_and_a_revoked_grant_show() {
        let (db, _guard) = test_db::fresh().await;
        let (ann, _) = ann_with_a_grant(&db).await;
        db.disable_user(&ann.id, 7).await.unwrap();
        db.revoke_grant("g", 8).await.unwrap();
        let (_, found) = db.code_with_grant("code").await.unwrap().unwrap();
        assert_eq!(found.grant.revoked_at, Some(8));
        assert!(found.live_grant().is_none());
        assert!(found.user.as_ref().unwrap().disabled);
        let under_a_live_grant = GrantAndUser {
            grant: Grant {
                revoked_at: None,
                ..found.grant.clone()
            },
            user: found.user.clone(),
        };
        assert!(
            under_a_live_grant.into_live_and_active().is_none(),
            "a disabled person is not active"
        );

        let (db, _guard) = test_db::fresh().await;
        grant_with_code_and_refresh_token(&db, "nobody").await;
        let (_, found) = db
            .find_refresh_token_with_grant("refresh")
            .await
            .unwrap()
            .unwrap();
        assert!(found.live_grant().is_some());
        assert_eq!(found.user, None);
    }

    #[tokio::test]
    async fn an_access_token_s_revocation_comes_with_its_grant() {
        let (db, _guard) = test_db::fresh().await;
        let (ann, grant) = ann_with_a_grant(&db).await;
        let (revoked, found) = db.access_token_grant("jti", "g").await.unwrap().unwrap();
        assert!(!revoked);
        assert_eq!(found.grant, grant);
        assert_eq!(found.user.unwrap().sub, ann.id);

        db.revoke_access_token("jti", 100).await.unwrap();
        let (revoked, _) = db.access_token_grant("jti", "g").await.unwrap().unwrap();
        assert!(revoked);
        let (revoked, _) = db.access_token_grant("other", "g").await.unwrap().unwrap();
        assert!(!revoked, "only that token is revoked");
        assert!(
            db.access_token_grant("jti", "gone")
                .await
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn placeholders_are_numbered_only_for_postgres() {
        let sql = "SELECT a FROM t WHERE b = ? AND c = ?";
        assert_eq!(numbered(DbBackend::Sqlite, sql), sql);
        assert_eq!(
            numbered(DbBackend::Postgres, sql),
            "SELECT a FROM t WHERE b = $1 AND c = $2"
        );
    }
}
