//! A backup e-mail address per user (confirmed by a code), and the one-time sign-in links sent to it
//! when someone cannot use their second factor.

use sea_orm_migration::prelude::*;

use crate::m0001_core::{index, string, string_null, table, text_pk, time, time_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("users"))
                    .add_column(string_null("backup_email"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(table(
                "sign_in_links",
                vec![
                    text_pk("token_hash"),
                    string("flow_hash"),
                    string("browser_hash"),
                    string("user_id"),
                    time("created_at"),
                    time("expires_at"),
                    time_null("used_at"),
                ],
            ))
            .await?;
        manager
            .create_index(index("sign_in_links", &["user_id"], false))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(Alias::new("sign_in_links"))
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("users"))
                    .drop_column(Alias::new("backup_email"))
                    .to_owned(),
            )
            .await
    }
}
