//! Seeding by SQL into the schema `gatehouse migrate` made: people with a password, people with a
//! password and an authenticator app, and (scale mode) a million accounts with live refresh tokens.

use std::time::Instant;

use anyhow::Context as _;
use gatehouse_oidc::MasterKey;
use rand::RngCore as _;
use sea_orm::{ConnectionTrait as _, DatabaseConnection, TransactionTrait as _};

use crate::http::Person;

pub const PASSWORD: &str = "a benchmark password of some length";
const ROWS_PER_INSERT: usize = 500;

pub async fn connect(url: &str) -> anyhow::Result<DatabaseConnection> {
    sea_orm::Database::connect(url)
        .await
        .context("connecting to the benchmark database")
}

fn now() -> i64 {
    gatehouse_oidc::Clock::now(&gatehouse_oidc::SystemClock)
}

/// Inserts `rows` (each a parenthesised VALUES tuple) into `table` in multi-row INSERTs, in one
/// transaction.
async fn insert(
    db: &DatabaseConnection,
    table: &str,
    columns: &str,
    rows: &[String],
) -> anyhow::Result<()> {
    let txn = db.begin().await?;
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        txn.execute_unprepared(&format!(
            "INSERT INTO {table} ({columns}) VALUES {}",
            chunk.join(", ")
        ))
        .await
        .with_context(|| format!("inserting into {table}"))?;
    }
    txn.commit().await?;
    Ok(())
}

const USER_COLUMNS: &str = "id, email, name, password_hash, email_verified, disabled, created_at, updated_at, organisation_id, require_mfa";

/// Adds `password_only` people and `with_totp` people who also have a confirmed authenticator app.
/// Every account shares one password hash (made once; argon2 at 40 hashes/s would make seeding the
/// bottleneck), which changes nothing for the server: each sign-in still verifies it in full.
pub async fn people(
    db: &DatabaseConnection,
    master: &MasterKey,
    password_hash: &str,
    password_only: usize,
    with_totp: usize,
) -> anyhow::Result<(Vec<Person>, Vec<Person>)> {
    let now = now();
    let mut users = Vec::new();
    let mut factors = Vec::new();
    let mut plain = Vec::new();
    let mut totp = Vec::new();
    for i in 0..password_only + with_totp {
        let id = uuid::Uuid::new_v4().to_string();
        let has_totp = i >= password_only;
        let email = if has_totp {
            format!("totp{i}@bench.test")
        } else {
            format!("password{i}@bench.test")
        };
        users.push(format!(
            "('{id}', '{email}', 'Bench Person', '{password_hash}', TRUE, FALSE, {now}, {now}, 'default', FALSE)"
        ));
        let person = Person {
            email,
            password: PASSWORD.into(),
            totp: None,
            totp_time: 0,
        };
        if has_totp {
            let mut secret = vec![0u8; 20];
            rand::rngs::OsRng.fill_bytes(&mut secret);
            let factor_id = uuid::Uuid::new_v4().to_string();
            let sealed = master.seal(&secret, &factor_id)?;
            factors.push(format!(
                "('{factor_id}', '{id}', 'totp', 'Authenticator app', '{sealed}', '{{}}', TRUE, {now}, NULL, NULL, NULL)"
            ));
            totp.push(Person {
                totp: Some(secret),
                ..person
            });
        } else {
            plain.push(person);
        }
    }
    insert(db, "users", USER_COLUMNS, &users).await?;
    insert(
        db,
        "mfa_factors",
        "id, user_id, kind, label, secret_sealed, detail, is_default, created_at, last_used_at, last_step, credential_id",
        &factors,
    )
    .await?;
    Ok((plain, totp))
}

/// Scale mode: `count` accounts, each with a live grant and refresh token for `client_id`, generated
/// inside the database (a recursive CTE on SQLite, `generate_series` on PostgreSQL). Returns the
/// seconds it took.
pub async fn scale(
    db: &DatabaseConnection,
    postgres: bool,
    count: u64,
    password_hash: &str,
    client_id: &str,
) -> anyhow::Result<f64> {
    let started = Instant::now();
    let now = now();
    let expires = now + 30 * 24 * 3600;
    let (with, from, i) = if postgres {
        (
            String::new(),
            format!("FROM generate_series(1, {count}) AS s(i)"),
            "s.i",
        )
    } else {
        (
            format!(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count}) "
            ),
            "FROM n".to_owned(),
            "n.i",
        )
    };
    let token_hash = if postgres {
        format!("md5({i}::text) || md5(({i} + {count})::text)")
    } else {
        "hex(randomblob(32))".to_owned()
    };
    let txn = db.begin().await?;
    txn.execute_unprepared(&format!(
        "{with}INSERT INTO users ({USER_COLUMNS}) SELECT 'scale-user-' || {i}, 'scale' || {i} || '@bench.test', 'Scale Person', '{password_hash}', TRUE, FALSE, {now}, {now}, 'default', FALSE {from}"
    ))
    .await
    .context("scale: users")?;
    txn.execute_unprepared(&format!(
        "{with}INSERT INTO grants (id, client_id, user_id, scope, auth_time, amr, acr, session_hash, created_at, revoked_at) SELECT 'scale-grant-' || {i}, '{client_id}', 'scale-user-' || {i}, 'openid offline_access', {now}, '[\"pwd\"]', NULL, NULL, {now}, NULL {from}"
    ))
    .await
    .context("scale: grants")?;
    txn.execute_unprepared(&format!(
        "{with}INSERT INTO refresh_tokens (token_hash, grant_id, client_id, created_at, expires_at, used_at) SELECT {token_hash}, 'scale-grant-' || {i}, '{client_id}', {now}, {expires}, NULL {from}"
    ))
    .await
    .context("scale: refresh tokens")?;
    txn.commit().await?;
    // Fresh planner statistics, as autovacuum (PostgreSQL) or `PRAGMA optimize` would give in time.
    db.execute_unprepared("ANALYZE").await?;
    Ok(started.elapsed().as_secs_f64())
}
