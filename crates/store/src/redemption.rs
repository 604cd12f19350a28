//! Redeeming a code or a refresh token: read it with its grant and person, let the provider decide
//! ([`Redemption`]), and write what it decided.
//!
//! On SQLite the read and the write are one transaction on the writer connection. A read on a reader
//! connection would start with an empty page cache (in WAL mode a connection drops its cache whenever
//! another connection has committed, which under a stream of refreshes is every time) and take and
//! release the log's read lock with `fcntl` calls of its own; the writer connection's cache is always
//! current, since it made every change. Measured on refresh: 6.7 `pread`s and 7.2 `fcntl`s a request
//! before, and the read was 15 % of the server's CPU.
//!
//! On PostgreSQL the read runs on the pool and the write is one statement (a data-modifying `WITH`)
//! that marks the code or token used only if it still is unused: one round trip where a transaction
//! would take four (BEGIN, UPDATE, INSERT, COMMIT). A concurrent statement waits for the row's lock
//! and then finds it used, and the grant is revoked, as for a token presented twice.

use std::sync::Arc;

use gatehouse_oidc::store::{Decide, Redeemed, Redemption, RefreshTokenRecord};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait as _, ConnectionTrait, DbBackend, DbErr, EntityTrait as _, QueryFilter as _,
    QueryTrait as _, Statement,
};

use crate::Database;
use crate::connection::Conn;
use crate::entities::{authorization_code, grant, refresh_token};
use crate::fixed_sql::HotStatements;
use crate::grant_reads::ReadWithGrant;
use crate::oidc_store::{insert_refresh_token_statement, refresh_token_values};
use crate::sqlite_inline;

/// See [`OneTime::USE_THEN_INSERT`].
const USE_CODE_THEN_INSERT: &str = "WITH used AS (UPDATE authorization_codes SET used_at = $1 \
     WHERE code_hash = $2 AND used_at IS NULL RETURNING code_hash) \
     INSERT INTO refresh_tokens (token_hash, grant_id, client_id, created_at, expires_at, used_at) \
     SELECT $3, $4, $5, $6, $7, $8 FROM used";

/// See [`OneTime::USE_THEN_INSERT`].
const USE_REFRESH_TOKEN_THEN_INSERT: &str = "WITH used AS (UPDATE refresh_tokens SET used_at = $1 \
     WHERE token_hash = $2 AND used_at IS NULL RETURNING token_hash) \
     INSERT INTO refresh_tokens (token_hash, grant_id, client_id, created_at, expires_at, used_at) \
     SELECT $3, $4, $5, $6, $7, $8 FROM used";

/// A code or a refresh token: what a redemption reads and then marks used.
pub(crate) trait OneTime: ReadWithGrant {
    /// PostgreSQL: the row `$2` marked used at `$1` if unused and, only then, the refresh token
    /// `$3`…`$8` (in the order of [`refresh_token_values`]) stored, in one statement.
    const USE_THEN_INSERT: &'static str;
    /// Marks the row `hash` used at `now`, if it is unused.
    fn mark_used(hot: &HotStatements, backend: DbBackend, hash: &str, now: i64) -> Statement;
    fn grant_id(&self) -> &str;
}

impl OneTime for gatehouse_oidc::store::CodeRecord {
    const USE_THEN_INSERT: &'static str = USE_CODE_THEN_INSERT;
    fn mark_used(hot: &HotStatements, backend: DbBackend, hash: &str, now: i64) -> Statement {
        let build = || use_code(backend, "", 0);
        hot.use_code
            .statement(backend, build, [now.into(), hash.into()])
    }
    fn grant_id(&self) -> &str {
        &self.grant_id
    }
}

impl OneTime for RefreshTokenRecord {
    const USE_THEN_INSERT: &'static str = USE_REFRESH_TOKEN_THEN_INSERT;
    fn mark_used(hot: &HotStatements, backend: DbBackend, hash: &str, now: i64) -> Statement {
        let build = || use_refresh_token(backend, "", 0);
        hot.use_refresh_token
            .statement(backend, build, [now.into(), hash.into()])
    }
    fn grant_id(&self) -> &str {
        &self.grant_id
    }
}

/// Marks the refresh token `hash` used at `now`, if it is unused: the values are `now`, then `hash`.
pub(crate) fn use_refresh_token(backend: DbBackend, hash: &str, now: i64) -> Statement {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
        .filter(refresh_token::Column::TokenHash.eq(hash))
        .filter(refresh_token::Column::UsedAt.is_null())
        .build(backend)
}

/// Marks the code `hash` used at `now`, if it is unused: the values are `now`, then `hash`.
pub(crate) fn use_code(backend: DbBackend, hash: &str, now: i64) -> Statement {
    authorization_code::Entity::update_many()
        .col_expr(authorization_code::Column::UsedAt, Expr::value(now))
        .filter(authorization_code::Column::CodeHash.eq(hash))
        .filter(authorization_code::Column::UsedAt.is_null())
        .build(backend)
}

/// Revokes the grant `grant_id` at `now`, unless it was revoked before.
pub(crate) fn revoke_grant(backend: DbBackend, grant_id: &str, now: i64) -> Statement {
    grant::Entity::update_many()
        .col_expr(grant::Column::RevokedAt, Expr::value(now))
        .filter(grant::Column::Id.eq(grant_id))
        .filter(grant::Column::RevokedAt.is_null())
        .build(backend)
}

impl Database {
    /// Reads the code or refresh token `hash` with its grant and person, asks `decide` what becomes
    /// of it, and does that (see the module's notes).
    pub(crate) async fn redeem<R: OneTime + Send + 'static>(
        &self,
        hash: &str,
        now: i64,
        decide: Decide<R>,
    ) -> Result<Redeemed, DbErr> {
        let backend = self.conn.get_database_backend();
        match &self.conn {
            Conn::Inline(sqlite) => {
                let hot = Arc::clone(&self.hot);
                let hash = hash.to_owned();
                sqlite
                    .write_batched(move |writer| {
                        sqlite_inline::run_to_end(redeem_on(writer, &hot, &hash, now, decide))
                    })
                    .await
            }
            Conn::Pool(_) if backend == DbBackend::Postgres => {
                redeem_on(&self.conn, &self.hot, hash, now, decide).await
            }
            // SQLite in memory, on sqlx's pool: in a transaction of its own.
            Conn::Pool(_) => {
                let txn = self.conn.begin().await?;
                let redeemed = redeem_on(&txn, &self.hot, hash, now, decide).await?;
                txn.commit().await?;
                Ok(redeemed)
            }
        }
    }
}

/// [`Database::redeem`] on `conn`: a transaction, or on PostgreSQL the pool.
async fn redeem_on<R: OneTime>(
    conn: &impl ConnectionTrait,
    hot: &HotStatements,
    hash: &str,
    now: i64,
    decide: Decide<R>,
) -> Result<Redeemed, DbErr> {
    let backend = conn.get_database_backend();
    let Some(row) = conn.query_one(R::with_grant(hot, backend, hash)).await? else {
        return Ok(Redeemed::NotFound);
    };
    let (record, found) = R::with_grant_from(&row)?;
    let grant_id = record.grant_id().to_owned();
    match decide(record, found) {
        Redemption::Keep => Ok(Redeemed::Done),
        Redemption::RevokeGrant => {
            conn.execute(revoke_grant(backend, &grant_id, now)).await?;
            Ok(Redeemed::Done)
        }
        Redemption::Spend(token) => {
            if mark_used_then_insert::<R>(conn, hot, hash, now, token.as_ref()).await? {
                Ok(Redeemed::Done)
            } else {
                conn.execute(revoke_grant(backend, &grant_id, now)).await?;
                Ok(Redeemed::UsedMeanwhile)
            }
        }
    }
}

/// Marks the code or refresh token `hash` used at `now`, if it is unused, and only then stores
/// `token`: `false`, with nothing changed, when it was used already. On SQLite `conn` is a
/// transaction, which holds the two statements together.
async fn mark_used_then_insert<R: OneTime>(
    conn: &impl ConnectionTrait,
    hot: &HotStatements,
    hash: &str,
    now: i64,
    token: Option<&RefreshTokenRecord>,
) -> Result<bool, DbErr> {
    let backend = conn.get_database_backend();
    if let (DbBackend::Postgres, Some(token)) = (backend, token) {
        let values: Vec<sea_orm::Value> = [now.into(), hash.into()]
            .into_iter()
            .chain(refresh_token_values(token))
            .collect();
        let statement = Statement::from_sql_and_values(backend, R::USE_THEN_INSERT, values);
        return Ok(conn.execute(statement).await?.rows_affected() == 1);
    }
    let mark_used = R::mark_used(hot, backend, hash, now);
    if conn.execute(mark_used).await?.rows_affected() != 1 {
        return Ok(false);
    }
    if let Some(token) = token {
        conn.execute(insert_refresh_token_statement(hot, backend, token))
            .await?;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use gatehouse_oidc::Store as _;
    use gatehouse_oidc::store::{CodeRecord, Grant};

    use super::*;
    use crate::oidc_store::insert_refresh_token;
    use crate::test_db;

    /// The refresh token `hash` of the grant `g`.
    fn record(hash: &str) -> RefreshTokenRecord {
        RefreshTokenRecord {
            token_hash: hash.into(),
            grant_id: "g".into(),
            client_id: "c".into(),
            created_at: 1,
            expires_at: 100,
            used_at: None,
        }
    }

    /// A grant `g` with its code `h` and its refresh token `old`, stored.
    async fn grant_code_and_refresh_token(db: &Database) -> Grant {
        let grant = test_db::grant("g");
        let code = CodeRecord {
            code_hash: "h".into(),
            grant_id: "g".into(),
            client_id: "c".into(),
            redirect_uri: "https://app/cb".into(),
            code_challenge: None,
            nonce: Some("n".into()),
            created_at: 1,
            expires_at: 60,
            used_at: None,
        };
        db.insert_grant_and_code(&grant, &code).await.unwrap();
        db.insert_refresh_token(&record("old")).await.unwrap();
        grant
    }

    /// Redeems the refresh token `hash` with `redemption`, whatever is found.
    async fn redeem_token(db: &Database, hash: &str, now: i64, redemption: Redemption) -> Redeemed {
        db.redeem_refresh_token(hash, now, Box::new(move |_, _| redemption))
            .await
            .unwrap()
    }

    async fn grant_revoked_at(db: &Database) -> Option<i64> {
        let (_, found) = db.code_with_grant("h").await.unwrap().unwrap();
        found.grant.revoked_at
    }

    #[test]
    fn fixed_writes_bind_their_values_in_the_order_of_their_text() {
        let token = RefreshTokenRecord {
            used_at: Some(7),
            ..record("new")
        };
        for backend in [DbBackend::Sqlite, DbBackend::Postgres] {
            let built = insert_refresh_token(backend, &token);
            assert_eq!(
                built.values.unwrap().0,
                refresh_token_values(&token).to_vec()
            );
            for built in [
                use_refresh_token(backend, "old", 42),
                use_code(backend, "old", 42),
            ] {
                assert_eq!(
                    built.values.unwrap().0,
                    vec![sea_orm::Value::from(42_i64), sea_orm::Value::from("old")]
                );
            }
        }
    }

    #[tokio::test]
    async fn the_decision_sees_the_record_with_its_grant_and_nothing_is_written_when_it_keeps_it() {
        let (db, _guard) = test_db::fresh().await;
        let grant = grant_code_and_refresh_token(&db).await;
        let seen = Arc::new(std::sync::Mutex::new(None));
        let redeemed = db
            .redeem_refresh_token("old", 5, {
                let seen = Arc::clone(&seen);
                Box::new(move |token, found| {
                    *seen.lock().unwrap() = Some((token, found));
                    Redemption::Keep
                })
            })
            .await
            .unwrap();
        assert_eq!(redeemed, Redeemed::Done);
        let (token, found) = seen.lock().unwrap().take().unwrap();
        assert_eq!(token, record("old"));
        assert_eq!(found.grant, grant);
        assert_eq!(found.user, None, "no person u stored");
        assert_eq!(
            db.find_refresh_token("old").await.unwrap(),
            Some(record("old"))
        );
        assert_eq!(grant_revoked_at(&db).await, None);

        let unknown = db
            .redeem_code("other", 5, Box::new(|_, _| panic!("nothing to decide on")))
            .await
            .unwrap();
        assert_eq!(unknown, Redeemed::NotFound);
    }

    #[tokio::test]
    async fn a_refresh_token_rotates_exactly_once_and_a_second_spend_revokes_its_grant() {
        let (db, _guard) = test_db::fresh().await;
        grant_code_and_refresh_token(&db).await;
        let first = redeem_token(&db, "old", 5, Redemption::Spend(Some(record("new1")))).await;
        assert_eq!(first, Redeemed::Done);
        assert_eq!(
            db.find_refresh_token("new1").await.unwrap(),
            Some(record("new1")),
            "stored as given, every column in its place"
        );
        assert_eq!(
            db.find_refresh_token("old").await.unwrap().unwrap().used_at,
            Some(5)
        );
        assert_eq!(grant_revoked_at(&db).await, None);

        let second = redeem_token(&db, "old", 6, Redemption::Spend(Some(record("new2")))).await;
        assert_eq!(second, Redeemed::UsedMeanwhile);
        assert!(db.find_refresh_token("new2").await.unwrap().is_none());
        assert_eq!(grant_revoked_at(&db).await, Some(6));
    }

    #[tokio::test]
    async fn a_reused_refresh_token_revokes_its_grant() {
        let (db, _guard) = test_db::fresh().await;
        grant_code_and_refresh_token(&db).await;
        assert_eq!(
            redeem_token(&db, "old", 7, Redemption::RevokeGrant).await,
            Redeemed::Done
        );
        assert_eq!(grant_revoked_at(&db).await, Some(7));
        // A grant revoked already keeps the time it was first revoked at.
        redeem_token(&db, "old", 8, Redemption::RevokeGrant).await;
        assert_eq!(grant_revoked_at(&db).await, Some(7));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_rotations_of_one_refresh_token_let_exactly_one_win() {
        let (db, _guard) = test_db::fresh().await;
        grant_code_and_refresh_token(&db).await;
        let rotations: Vec<_> = (0..8)
            .map(|i| {
                let db = db.clone();
                tokio::spawn(async move {
                    let new = record(&format!("new{i}"));
                    redeem_token(&db, "old", 5, Redemption::Spend(Some(new))).await
                })
            })
            .collect();
        let mut won = 0;
        let mut stored = 0;
        for (i, rotation) in rotations.into_iter().enumerate() {
            match rotation.await.unwrap() {
                Redeemed::Done => won += 1,
                other => assert_eq!(other, Redeemed::UsedMeanwhile),
            }
            if db
                .find_refresh_token(&format!("new{i}"))
                .await
                .unwrap()
                .is_some()
            {
                stored += 1;
            }
        }
        assert_eq!((won, stored), (1, 1));
        assert_eq!(
            grant_revoked_at(&db).await,
            Some(5),
            "the losers revoked it"
        );
    }

    #[tokio::test]
    async fn a_code_is_redeemed_once_and_only_the_winner_stores_its_refresh_token() {
        let (db, _guard) = test_db::fresh().await;
        grant_code_and_refresh_token(&db).await;
        let redeem = |hash: &'static str, now, token: Option<RefreshTokenRecord>| {
            let db = db.clone();
            async move {
                db.redeem_code(hash, now, Box::new(move |_, _| Redemption::Spend(token)))
                    .await
                    .unwrap()
            }
        };
        assert_eq!(redeem("h", 2, Some(record("first"))).await, Redeemed::Done);
        assert_eq!(
            redeem("h", 3, Some(record("second"))).await,
            Redeemed::UsedMeanwhile
        );
        assert_eq!(redeem("h", 3, None).await, Redeemed::UsedMeanwhile);
        assert_eq!(
            db.find_refresh_token("first").await.unwrap(),
            Some(record("first"))
        );
        assert!(db.find_refresh_token("second").await.unwrap().is_none());
        let (code, _) = db.code_with_grant("h").await.unwrap().unwrap();
        assert_eq!(code.used_at, Some(2));
        assert_eq!(grant_revoked_at(&db).await, Some(3));
    }

    #[tokio::test]
    async fn a_code_spent_without_a_refresh_token_is_only_marked_used() {
        let (db, _guard) = test_db::fresh().await;
        grant_code_and_refresh_token(&db).await;
        let redeemed = db
            .redeem_code("h", 2, Box::new(|_, _| Redemption::Spend(None)))
            .await
            .unwrap();
        assert_eq!(redeemed, Redeemed::Done);
        let (code, found) = db.code_with_grant("h").await.unwrap().unwrap();
        assert_eq!(code.used_at, Some(2));
        assert_eq!(found.grant.revoked_at, None);
    }
}
