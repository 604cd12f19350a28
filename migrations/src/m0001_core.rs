//! Users, signing keys, browser sessions, pending sign-ins, grants, codes, tokens, consents, throttling.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

pub(crate) fn text_pk(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .string()
        .not_null()
        .primary_key()
        .to_owned()
}
pub(crate) fn text(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .text()
        .not_null()
        .to_owned()
}
pub(crate) fn text_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name)).text().null().to_owned()
}
pub(crate) fn string(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .string()
        .not_null()
        .to_owned()
}
pub(crate) fn string_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name)).string().null().to_owned()
}
pub(crate) fn time(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .big_integer()
        .not_null()
        .to_owned()
}
pub(crate) fn time_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .big_integer()
        .null()
        .to_owned()
}
pub(crate) fn flag(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .boolean()
        .not_null()
        .default(false)
        .to_owned()
}

pub(crate) fn table(name: &'static str, columns: Vec<ColumnDef>) -> TableCreateStatement {
    let mut statement = Table::create();
    statement.table(Alias::new(name)).if_not_exists();
    for mut column in columns {
        statement.col(&mut column);
    }
    statement.to_owned()
}

pub(crate) fn with_primary_key(
    mut statement: TableCreateStatement,
    columns: &[&'static str],
) -> TableCreateStatement {
    let mut key = Index::create();
    for column in columns {
        key.col(Alias::new(*column));
    }
    statement.primary_key(&mut key);
    statement
}

pub(crate) fn index(
    table: &'static str,
    columns: &[&'static str],
    unique: bool,
) -> IndexCreateStatement {
    let mut statement = Index::create();
    statement
        .name(format!("idx_{}_{}", table, columns.join("_")))
        .table(Alias::new(table))
        .if_not_exists();
    for column in columns {
        statement.col(Alias::new(*column));
    }
    if unique {
        statement.unique();
    }
    statement.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = [
            table(
                "users",
                vec![
                    text_pk("id"),
                    string("email"),
                    string("name"),
                    text("password_hash"),
                    flag("email_verified"),
                    flag("disabled"),
                    time("created_at"),
                    time("updated_at"),
                ],
            ),
            table(
                "signing_keys",
                vec![
                    text_pk("kid"),
                    string("alg"),
                    text("private_sealed"),
                    text("public_jwk"),
                    time("created_at"),
                    time_null("retired_at"),
                ],
            ),
            table(
                "sessions",
                vec![
                    text_pk("id_hash"),
                    string("user_id"),
                    time("auth_time"),
                    text("amr"),
                    string_null("acr"),
                    time("created_at"),
                    time("expires_at"),
                ],
            ),
            table(
                "auth_flows",
                vec![
                    text_pk("id_hash"),
                    string("browser_hash"),
                    text("request"),
                    text("state"),
                    time("created_at"),
                    time("expires_at"),
                ],
            ),
            table(
                "grants",
                vec![
                    text_pk("id"),
                    string("client_id"),
                    string("user_id"),
                    text("scope"),
                    time("auth_time"),
                    text("amr"),
                    string_null("acr"),
                    string_null("session_hash"),
                    time("created_at"),
                    time_null("revoked_at"),
                ],
            ),
            table(
                "authorization_codes",
                vec![
                    text_pk("code_hash"),
                    string("grant_id"),
                    string("client_id"),
                    text("redirect_uri"),
                    string_null("code_challenge"),
                    text_null("nonce"),
                    time("created_at"),
                    time("expires_at"),
                    time_null("used_at"),
                ],
            ),
            table(
                "refresh_tokens",
                vec![
                    text_pk("token_hash"),
                    string("grant_id"),
                    string("client_id"),
                    time("created_at"),
                    time("expires_at"),
                    time_null("used_at"),
                ],
            ),
            table(
                "revoked_access_tokens",
                vec![text_pk("jti"), time("expires_at")],
            ),
            with_primary_key(
                table(
                    "consents",
                    vec![
                        string("user_id"),
                        string("client_id"),
                        text("scope"),
                        time("created_at"),
                    ],
                ),
                &["user_id", "client_id"],
            ),
            with_primary_key(
                table(
                    "attempt_counters",
                    vec![
                        string("key"),
                        time("window_start"),
                        ColumnDef::new(Alias::new("failures"))
                            .integer()
                            .not_null()
                            .to_owned(),
                    ],
                ),
                &["key", "window_start"],
            ),
        ];
        for statement in tables {
            manager.create_table(statement).await?;
        }
        let indexes = [
            index("users", &["email"], true),
            index("sessions", &["user_id"], false),
            index("grants", &["user_id"], false),
            index("grants", &["session_hash"], false),
            index("refresh_tokens", &["grant_id"], false),
        ];
        for statement in indexes {
            manager.create_index(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in [
            "attempt_counters",
            "consents",
            "revoked_access_tokens",
            "refresh_tokens",
            "authorization_codes",
            "grants",
            "auth_flows",
            "sessions",
            "signing_keys",
            "users",
        ] {
            manager
                .drop_table(Table::drop().table(Alias::new(name)).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
