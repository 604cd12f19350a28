//! Browser sessions: who is signed in behind a session cookie. Only the cookie value's hash is stored.

use sea_orm::{ActiveValue::Set, ColumnTrait as _, EntityTrait as _, QueryFilter as _};

use crate::entities::session;
use crate::error::StoreError;
use crate::{Database, json_list, parse_json_list};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserSession {
    pub id_hash: String,
    pub user_id: String,
    pub auth_time: i64,
    pub amr: Vec<String>,
    pub acr: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

impl Database {
    pub async fn create_session(&self, s: &BrowserSession) -> Result<(), StoreError> {
        session::Entity::insert(session::ActiveModel {
            id_hash: Set(s.id_hash.clone()),
            user_id: Set(s.user_id.clone()),
            auth_time: Set(s.auth_time),
            amr: Set(json_list(&s.amr)),
            acr: Set(s.acr.clone()),
            created_at: Set(s.created_at),
            expires_at: Set(s.expires_at),
        })
        .exec(&self.conn)
        .await?;
        Ok(())
    }

    /// The session, if it exists and has not expired at `now`.
    pub async fn live_session(
        &self,
        id_hash: &str,
        now: i64,
    ) -> Result<Option<BrowserSession>, StoreError> {
        let found = session::Entity::find_by_id(id_hash).one(&self.conn).await?;
        Ok(found
            .filter(|s| s.expires_at > now)
            .map(|s| BrowserSession {
                id_hash: s.id_hash,
                user_id: s.user_id,
                auth_time: s.auth_time,
                amr: parse_json_list(&s.amr),
                acr: s.acr,
                created_at: s.created_at,
                expires_at: s.expires_at,
            }))
    }

    /// Ends every session of a user except `keep` (the one making the change).
    pub async fn end_other_sessions(&self, user_id: &str, keep: &str) -> Result<u64, StoreError> {
        let result = session::Entity::delete_many()
            .filter(session::Column::UserId.eq(user_id))
            .filter(session::Column::IdHash.ne(keep))
            .exec(&self.conn)
            .await?;
        Ok(result.rows_affected)
    }

    /// Records that a session now stands at `acr` (a remembered device stood in for a second step).
    pub async fn set_session_acr(&self, id_hash: &str, acr: &str) -> Result<(), StoreError> {
        session::Entity::update_many()
            .col_expr(session::Column::Acr, sea_orm::sea_query::Expr::value(acr))
            .filter(session::Column::IdHash.eq(id_hash))
            .exec(&self.conn)
            .await?;
        Ok(())
    }

    pub async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
        session::Entity::delete_many()
            .filter(session::Column::IdHash.eq(id_hash))
            .exec(&self.conn)
            .await?;
        Ok(())
    }
}
