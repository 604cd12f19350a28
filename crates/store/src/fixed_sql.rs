//! SQL text built once for the statements every token request makes: the reads of a refresh token,
//! of an access token's revocation and the joined reads of `grant_reads`; marking a code or a refresh
//! token used; inserting a refresh token. Building a statement with sea-query (quoting every column,
//! walking the expression tree) was 9 % of an introspection's CPU and 5 % of a refresh's, for text
//! that never changes; only the values do. Each text is built on its first use, for this database's
//! backend, and kept; later calls bind their own values to it.

use std::sync::OnceLock;

use sea_orm::{ConnectionTrait as _, DbBackend, DbErr, FromQueryResult, Statement, Value};

use crate::Database;

/// The text of one statement whose shape never changes.
#[derive(Debug, Default)]
pub(crate) struct FixedSql(OnceLock<String>);

impl FixedSql {
    /// `build` makes the statement the first time (its values are dropped, only the text is kept);
    /// `values` are this call's, in the order of the text's placeholders.
    pub(crate) fn statement(
        &self,
        backend: DbBackend,
        build: impl FnOnce() -> Statement,
        values: impl IntoIterator<Item = Value>,
    ) -> Statement {
        let sql = self.0.get_or_init(|| build().sql);
        Statement::from_sql_and_values(backend, sql.as_str(), values)
    }
}

/// The hot statements of [`gatehouse_oidc::Store`], one text each.
#[derive(Debug, Default)]
pub(crate) struct HotStatements {
    pub(crate) refresh_token: FixedSql,
    pub(crate) access_token_revoked: FixedSql,
    pub(crate) access_token_grant: FixedSql,
    pub(crate) code_with_grant: FixedSql,
    pub(crate) refresh_token_with_grant: FixedSql,
    pub(crate) use_code: FixedSql,
    pub(crate) use_refresh_token: FixedSql,
    pub(crate) insert_refresh_token: FixedSql,
}

impl Database {
    /// The row whose key is `key`, read with the text `sql` keeps; `build` makes the statement (for
    /// this database's backend, with any key) the first time.
    pub(crate) async fn read_by_key<M: FromQueryResult>(
        &self,
        sql: &FixedSql,
        build: impl FnOnce(DbBackend) -> Statement,
        key: &str,
    ) -> Result<Option<M>, DbErr> {
        let backend = self.conn.get_database_backend();
        let statement = sql.statement(backend, || build(backend), [key.into()]);
        M::find_by_statement(statement).one(&self.conn).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use sea_orm::{EntityTrait as _, QueryTrait as _};

    use super::*;
    use crate::entities::grant;

    #[test]
    fn the_text_is_built_once_and_each_call_binds_its_own_key() {
        let fixed = FixedSql::default();
        let mut builds = 0;
        for (backend, key) in [(DbBackend::Sqlite, "a"), (DbBackend::Sqlite, "b")] {
            let statement = fixed.statement(
                backend,
                || {
                    builds += 1;
                    grant::Entity::find_by_id("first").build(backend)
                },
                [key.into()],
            );
            assert!(
                statement.sql.contains("WHERE \"grants\".\"id\" = ?"),
                "{}",
                statement.sql
            );
            assert_eq!(statement.values.unwrap().0, vec![Value::from(key)]);
        }
        assert_eq!(builds, 1);
    }
}
