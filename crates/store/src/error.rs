//! The storage error type.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("an account with this e-mail address already exists")]
    DuplicateEmail,
    #[error("an account with this username already exists")]
    DuplicateLegacyUsername,
    #[error("setup: {0}")]
    Setup(String),
}

impl StoreError {
    /// Whether the database could not be reached (down, restarting, connections cut), as opposed to a
    /// statement that failed: worth a 503 and a retry, not a 500.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Database(e) if unreachable(e))
    }
}

/// Connection failures, a closed or exhausted pool, a connection lost mid-statement, and PostgreSQL's
/// "shutting down" (class 57P) and "connection exception" (class 08) errors.
fn unreachable(e: &sea_orm::DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    use sea_orm::{DbErr, RuntimeErr};
    match e {
        // Acquiring or opening a connection failed, whatever the detail.
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => match e {
            Sqlx::Io(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed => true,
            Sqlx::Database(db) => db
                .code()
                .is_some_and(|code| code.starts_with("57P") || code.starts_with("08")),
            _ => false,
        },
        _ => false,
    }
}

impl From<StoreError> for gatehouse_oidc::Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Database(e) => oidc(e),
            other => gatehouse_oidc::Error::Storage(other.to_string()),
        }
    }
}

pub(crate) fn oidc(e: sea_orm::DbErr) -> gatehouse_oidc::Error {
    if unreachable(&e) {
        gatehouse_oidc::Error::Unavailable(e.to_string())
    } else {
        gatehouse_oidc::Error::Storage(e.to_string())
    }
}
