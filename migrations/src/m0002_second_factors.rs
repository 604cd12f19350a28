//! Second factors and recovery codes.

use sea_orm_migration::prelude::*;

use crate::m0001_core::{flag, index, string, table, text, text_null, text_pk, time, time_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(table(
                "mfa_factors",
                vec![
                    text_pk("id"),
                    string("user_id"),
                    string("kind"),
                    string("label"),
                    // The factor's secret (a TOTP key), sealed with the master key; context: the factor id.
                    text_null("secret_sealed"),
                    // Method-specific public details, as JSON.
                    text("detail"),
                    flag("is_default"),
                    time("created_at"),
                    time_null("last_used_at"),
                    // The last TOTP time step accepted: no step is accepted twice.
                    ColumnDef::new(Alias::new("last_step"))
                        .big_integer()
                        .null()
                        .to_owned(),
                ],
            ))
            .await?;
        manager
            .create_table(table(
                "recovery_codes",
                vec![
                    text_pk("code_hash"),
                    string("user_id"),
                    time("created_at"),
                    time_null("used_at"),
                ],
            ))
            .await?;
        manager
            .create_index(index("mfa_factors", &["user_id"], false))
            .await?;
        manager
            .create_index(index("recovery_codes", &["user_id"], false))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in ["recovery_codes", "mfa_factors"] {
            manager
                .drop_table(Table::drop().table(Alias::new(name)).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
