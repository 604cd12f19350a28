//! Gatehouse storage on SQLite or PostgreSQL through sea-orm.
//!
//! [`Database`] implements the protocol's [`gatehouse_oidc::Store`] trait and offers the plain
//! repositories the sign-in pages and the CLI need: users, browser sessions, pending sign-ins,
//! consents and attempt counters. Decisions (is this code still valid? is this account throttled?)
//! are made by the protocol and login crates; this crate only keeps the facts.

pub mod attempts;
pub mod audit;
pub mod ceremonies;
mod connection;
pub mod consents;
pub mod devices;
mod entities;
pub mod error;
pub mod factors;
mod fixed_sql;
pub mod flows;
mod grant_reads;
mod oidc_store;
pub mod outbox;
pub mod password_resets;
mod redemption;
pub mod retention;
pub mod sessions;
pub mod sign_in_links;
mod sqlite_checkpoint;
mod sqlite_inline;
#[cfg(feature = "statement-log")]
pub mod statement_log;
pub mod users;

use std::sync::Arc;
use std::time::Duration;

use gatehouse_migrations::Migrator;
use sea_orm::TransactionTrait as _;
use sea_orm::{ConnectOptions, ConnectionTrait as _, DatabaseConnection};
use sea_orm_migration::MigratorTrait;

pub use error::StoreError;

use crate::connection::Conn;
use crate::sqlite_inline::InlineSqlite;

/// The database: what the repositories query through (`conn`), and sqlx's pool, which applies the
/// migrations and, on PostgreSQL, is `conn` too.
#[derive(Debug, Clone)]
pub struct Database {
    conn: Conn,
    pool: DatabaseConnection,
    /// The SQL text of the statements every token request makes, built once (`fixed_sql`).
    hot: std::sync::Arc<fixed_sql::HotStatements>,
}

impl Database {
    /// Connects to `url` (`sqlite://path?mode=rwc` or `postgres://...`). For SQLite the file's folder is
    /// created, the database runs in WAL mode, and statements run on the calling thread
    /// ([`sqlite_inline`]); an in-memory SQLite database stays on sqlx's pool.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with_schema(url, None).await
    }

    /// As [`Database::connect`], with PostgreSQL's `search_path` set to `schema` (created if missing).
    /// Tests use one schema each.
    pub async fn connect_with_schema(url: &str, schema: Option<&str>) -> Result<Self, StoreError> {
        let file = sqlite_file(url);
        if let Some(path) = file
            && let Some(parent) = std::path::Path::new(path).parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::Setup(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        if let Some(schema) = schema {
            let admin = sea_orm::Database::connect(url).await?;
            admin
                .execute_unprepared(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
                .await?;
            admin.close().await?;
        }
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .sqlx_logging(false)
            .acquire_timeout(Duration::from_secs(5))
            // Every statement's connection is known good or reports its own error; a ping first
            // would double the round trips.
            .test_before_acquire(false)
            // On a SQLite file the pool only applies migrations; statements go inline.
            .max_connections(match (url.starts_with("sqlite"), file) {
                (true, Some(_)) => 2,
                (true, None) => 8,
                (false, _) => 16,
            })
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
            });
        if let Some(schema) = schema {
            options.set_schema_search_path(schema.to_owned());
        }
        let pool = sea_orm::Database::connect(options).await?;
        let conn = match file {
            Some(path) => Conn::Inline(Arc::new(InlineSqlite::open(std::path::Path::new(path))?)),
            None => Conn::Pool(pool.clone()),
        };
        Ok(Self {
            conn,
            pool,
            hot: std::sync::Arc::default(),
        })
    }

    /// Applies every pending migration, all or nothing.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        migrate_atomically::<Migrator>(&self.pool).await
    }

    /// Whether the database answers (a round trip on the connection requests use).
    pub async fn ping(&self) -> Result<(), StoreError> {
        match &self.conn {
            Conn::Pool(pool) => pool.ping().await?,
            Conn::Inline(sqlite) => {
                sqlite
                    .query_one(sea_orm::Statement::from_string(
                        sea_orm::DbBackend::Sqlite,
                        "SELECT 1",
                    ))
                    .await?;
            }
        }
        Ok(())
    }

    /// Closes the database for this process: later statements fail as unavailable.
    pub async fn close(&self) -> Result<(), StoreError> {
        if let Conn::Inline(sqlite) = &self.conn {
            sqlite.close();
        }
        self.pool.clone().close().await?;
        Ok(())
    }

    /// sqlx's pool, for tools and tests that run their own SQL.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.pool
    }

    /// Drops a test schema from synchronous code (a `Drop`), on a thread with a runtime of its own.
    pub fn drop_schema_blocking(url: String, schema: String) {
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async { Self::drop_schema(&url, &schema).await.ok() });
        })
        .join();
    }

    /// Drops a test schema (PostgreSQL).
    pub async fn drop_schema(url: &str, schema: &str) -> Result<(), StoreError> {
        let admin = sea_orm::Database::connect(url).await?;
        admin
            .execute_unprepared(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
            .await?;
        admin.close().await?;
        Ok(())
    }
}

fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then_some(path)
}

fn json_list(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".to_owned())
}

fn parse_json_list(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

#[cfg(test)]
pub(crate) mod test_db {
    use super::Database;

    /// Keeps a test database alive; dropping it removes the SQLite file or the PostgreSQL schema.
    pub struct Guard {
        _dir: Option<tempfile::TempDir>,
        schema: Option<(String, String)>,
    }

    impl Drop for Guard {
        fn drop(&mut self) {
            if let Some((url, schema)) = self.schema.take() {
                Database::drop_schema_blocking(url, schema);
            }
        }
    }

    /// A fresh database: PostgreSQL in its own schema when `DATABASE_URL` is set, else a temporary
    /// SQLite file.
    pub async fn fresh() -> (Database, Guard) {
        if let Ok(url) = std::env::var("DATABASE_URL") {
            let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
            let db = Database::connect_with_schema(&url, Some(&schema))
                .await
                .unwrap();
            db.migrate().await.unwrap();
            return (
                db,
                Guard {
                    _dir: None,
                    schema: Some((url, schema)),
                },
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/test.db?mode=rwc", dir.path().display());
        let db = Database::connect(&url).await.unwrap();
        db.migrate().await.unwrap();
        (
            db,
            Guard {
                _dir: Some(dir),
                schema: None,
            },
        )
    }

    /// A live grant `id` of person `u` to client `c`, for `openid`, made at 1 after a password.
    pub fn grant(id: &str) -> gatehouse_oidc::store::Grant {
        gatehouse_oidc::store::Grant {
            id: id.into(),
            client_id: "c".into(),
            user_id: "u".into(),
            scope: gatehouse_oidc::scope::Scopes::parse("openid"),
            auth_time: 1,
            amr: vec!["pwd".into()],
            acr: None,
            session_hash: None,
            created_at: 1,
            revoked_at: None,
        }
    }
}

/// Applies `M`'s pending migrations in one transaction. sea-orm-migration does that itself on
/// PostgreSQL but not on SQLite, whose schema changes are transactional too: without it a migration
/// cut short (a crash, a kill during an upgrade) left a column added but not recorded, and every
/// later start failed on it.
async fn migrate_atomically<M: MigratorTrait>(conn: &DatabaseConnection) -> Result<(), StoreError> {
    if conn.get_database_backend() == sea_orm::DbBackend::Sqlite {
        let transaction = conn.begin().await?;
        M::up(&transaction, None).await?;
        transaction.commit().await?;
    } else {
        M::up(conn, None).await?;
    }
    Ok(())
}

#[cfg(test)]
mod migration_tests {
    use sea_orm_migration::prelude::*;

    use super::*;

    struct AddsATable;
    impl MigrationName for AddsATable {
        fn name(&self) -> &str {
            "t0001_adds_a_table"
        }
    }
    #[async_trait::async_trait]
    impl MigrationTrait for AddsATable {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .create_table(
                    Table::create()
                        .table(Alias::new("first"))
                        .col(ColumnDef::new(Alias::new("id")).integer().primary_key())
                        .to_owned(),
                )
                .await
        }
    }

    struct Fails;
    impl MigrationName for Fails {
        fn name(&self) -> &str {
            "t0002_fails"
        }
    }
    #[async_trait::async_trait]
    impl MigrationTrait for Fails {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .get_connection()
                .execute_unprepared("ALTER TABLE first ADD COLUMN name TEXT")
                .await?;
            Err(DbErr::Migration("cut short".into()))
        }
    }

    struct CutShort;
    #[async_trait::async_trait]
    impl MigratorTrait for CutShort {
        fn migrations() -> Vec<Box<dyn MigrationTrait>> {
            vec![Box::new(AddsATable), Box::new(Fails)]
        }
    }

    #[tokio::test]
    async fn a_migration_cut_short_on_sqlite_leaves_the_database_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let db = Database::connect(&url).await.unwrap();
        assert!(migrate_atomically::<CutShort>(&db.pool).await.is_err());
        let tables: Vec<String> = db
            .conn
            .query_all(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Sqlite,
                "SELECT name FROM sqlite_master WHERE type = 'table'",
            ))
            .await
            .unwrap()
            .iter()
            .map(|row| row.try_get::<String>("", "name").unwrap())
            .collect();
        assert!(
            !tables
                .iter()
                .any(|t| t == "first" || t == "seaql_migrations"),
            "nothing of the cut-short run stays: {tables:?}"
        );
        // The real migrations still apply on that database afterwards.
        db.migrate().await.unwrap();
    }
}
