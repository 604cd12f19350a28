//! The e-mail outbox (messages written with the change that causes them, sent by a worker with
//! retries) and forgotten-password resets (a code bound to the browser that asked).

use sea_orm_migration::prelude::*;

use crate::m0001_core::{
    index, string, string_null, table, text, text_null, text_pk, time, time_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn counter(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .integer()
        .not_null()
        .default(0)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(table(
                "outbox",
                vec![
                    text_pk("id"),
                    text("recipient"),
                    text("subject"),
                    text("body_text"),
                    text_null("body_html"),
                    time("created_at"),
                    // When the message is next due; a worker that takes it moves this forward by
                    // its lease, so no other worker takes it meanwhile.
                    time("next_attempt_at"),
                    counter("attempts"),
                    time_null("sent_at"),
                    time_null("failed_at"),
                    text_null("last_error"),
                ],
            ))
            .await?;
        manager
            .create_index(index(
                "outbox",
                &["sent_at", "failed_at", "next_attempt_at"],
                false,
            ))
            .await?;
        manager
            .create_table(table(
                "password_resets",
                vec![
                    text_pk("id_hash"),
                    string("browser_hash"),
                    string_null("user_id"),
                    string("email"),
                    text("code"),
                    counter("attempts"),
                    time("created_at"),
                    time("expires_at"),
                    time_null("verified_at"),
                    time_null("used_at"),
                ],
            ))
            .await?;
        manager
            .create_index(index("password_resets", &["user_id"], false))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in ["password_resets", "outbox"] {
            manager
                .drop_table(Table::drop().table(Alias::new(name)).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
