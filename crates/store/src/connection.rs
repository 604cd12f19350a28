//! The connection the repositories use: sqlx's pool on PostgreSQL, [`InlineSqlite`] on a SQLite
//! file. Both are sea-orm connections, so the repositories' queries are written once.

use std::sync::Arc;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult,
    QueryResult, Statement, TransactionTrait as _,
};

use crate::sqlite_inline::{InlineSqlite, InlineTransaction};

#[derive(Debug, Clone)]
pub(crate) enum Conn {
    Pool(DatabaseConnection),
    Inline(Arc<InlineSqlite>),
}

/// A transaction on a [`Conn`]; dropped without `commit`, it rolls back.
#[derive(Debug)]
pub(crate) enum Txn {
    Pool(DatabaseTransaction),
    Inline(InlineTransaction),
}

impl Conn {
    pub(crate) async fn begin(&self) -> Result<Txn, DbErr> {
        Ok(match self {
            Self::Pool(pool) => Txn::Pool(pool.begin().await?),
            Self::Inline(sqlite) => Txn::Inline(sqlite.begin().await?),
        })
    }

    fn inner(&self) -> &dyn ConnectionTrait {
        match self {
            Self::Pool(pool) => pool,
            Self::Inline(sqlite) => sqlite.as_ref(),
        }
    }
}

impl Txn {
    pub(crate) async fn commit(self) -> Result<(), DbErr> {
        match self {
            Self::Pool(txn) => txn.commit().await,
            Self::Inline(txn) => txn.commit().await,
        }
    }

    pub(crate) async fn rollback(self) -> Result<(), DbErr> {
        match self {
            Self::Pool(txn) => txn.rollback().await,
            Self::Inline(txn) => txn.rollback().await,
        }
    }

    fn inner(&self) -> &dyn ConnectionTrait {
        match self {
            Self::Pool(txn) => txn,
            Self::Inline(txn) => txn,
        }
    }
}

/// Both delegate every call to the connection they hold.
macro_rules! delegate_connection {
    ($type:ty) => {
        #[async_trait::async_trait]
        impl ConnectionTrait for $type {
            fn get_database_backend(&self) -> DbBackend {
                self.inner().get_database_backend()
            }

            async fn execute(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
                self.inner().execute(stmt).await
            }

            async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
                self.inner().execute_unprepared(sql).await
            }

            async fn query_one(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
                self.inner().query_one(stmt).await
            }

            async fn query_all(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
                self.inner().query_all(stmt).await
            }

            fn support_returning(&self) -> bool {
                self.inner().support_returning()
            }
        }
    };
}

delegate_connection!(Conn);
delegate_connection!(Txn);
