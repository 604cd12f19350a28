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

impl From<StoreError> for gatehouse_oidc::Error {
    fn from(e: StoreError) -> Self {
        gatehouse_oidc::Error::Storage(e.to_string())
    }
}

pub(crate) fn oidc(e: sea_orm::DbErr) -> gatehouse_oidc::Error {
    gatehouse_oidc::Error::Storage(e.to_string())
}
