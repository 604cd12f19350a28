//! The audit log: security events (sign-ins, factors added, removed and used, resets, locks).

use sea_orm_migration::prelude::*;

use crate::m0001_core::{index, string, string_null, table, text, text_null, text_pk, time};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(table(
                "audit_events",
                vec![
                    text_pk("id"),
                    string_null("user_id"),
                    string("kind"),
                    text("detail"),
                    string_null("ip"),
                    text_null("user_agent"),
                    time("created_at"),
                ],
            ))
            .await?;
        manager
            .create_index(index("audit_events", &["user_id", "created_at"], false))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(Alias::new("audit_events"))
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}
