//! Accounts imported from systems that signed in by username: the old username is kept (lower case,
//! unique where present) so the username-to-e-mail flow can find the account. Imported password
//! hashes need no column of their own: every format says what it is in its prefix, and `password_hash`
//! is already TEXT.

use sea_orm_migration::prelude::*;

use crate::m0001_core::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("users"))
                    .add_column(
                        ColumnDef::new(Alias::new("legacy_username"))
                            .string()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        // NULLs are distinct in a unique index on SQLite and PostgreSQL alike: only accounts that
        // have an old username take part.
        manager
            .create_index(index("users", &["legacy_username"], true))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_users_legacy_username")
                    .table(Alias::new("users"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("users"))
                    .drop_column(Alias::new("legacy_username"))
                    .to_owned(),
            )
            .await
    }
}
