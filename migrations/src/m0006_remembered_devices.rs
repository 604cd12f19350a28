//! Remembered devices: a random token in a long-lived cookie, stored hashed, bound to one user.

use sea_orm_migration::prelude::*;

use crate::m0001_core::{index, string, table, text, text_pk, time};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(table(
                "remembered_devices",
                vec![
                    text_pk("token_hash"),
                    string("id"),
                    string("user_id"),
                    text("label"),
                    time("created_at"),
                    time("expires_at"),
                    time("last_used_at"),
                ],
            ))
            .await?;
        manager
            .create_index(index("remembered_devices", &["user_id"], false))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(Alias::new("remembered_devices"))
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
