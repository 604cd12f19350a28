//! Passkeys: a credential id on factors (unique: one credential belongs to one account), and the
//! server-side state of WebAuthn ceremonies, each taken exactly once.

use sea_orm_migration::prelude::*;

use crate::m0001_core::{index, string, string_null, table, text, text_pk, time};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("mfa_factors"))
                    .add_column(ColumnDef::new(Alias::new("credential_id")).string().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("mfa_factors", &["credential_id"], true))
            .await?;
        manager
            .create_table(table(
                "ceremonies",
                vec![
                    text_pk("id_hash"),
                    string("purpose"),
                    string_null("user_id"),
                    text("state"),
                    time("expires_at"),
                ],
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(Alias::new("ceremonies"))
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_mfa_factors_credential_id")
                    .table(Alias::new("mfa_factors"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("mfa_factors"))
                    .drop_column(Alias::new("credential_id"))
                    .to_owned(),
            )
            .await
    }
}
