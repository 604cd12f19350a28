//! Pending sign-ins: an authorization request waiting for the person to sign in or consent, bound to
//! the browser that started it. The request and the sign-in state are opaque JSON to this crate.

use sea_orm::{ActiveValue::Set, ColumnTrait as _, EntityTrait as _, QueryFilter as _};

use crate::Database;
use crate::entities::auth_flow;
use crate::error::StoreError;
use crate::outbox::{OutgoingEmail, enqueue_in};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSignIn {
    pub id_hash: String,
    pub browser_hash: String,
    pub request: String,
    pub state: String,
    pub created_at: i64,
    pub expires_at: i64,
}

impl Database {
    pub async fn insert_pending_sign_in(&self, p: &PendingSignIn) -> Result<(), StoreError> {
        auth_flow::Entity::insert(auth_flow::ActiveModel {
            id_hash: Set(p.id_hash.clone()),
            browser_hash: Set(p.browser_hash.clone()),
            request: Set(p.request.clone()),
            state: Set(p.state.clone()),
            created_at: Set(p.created_at),
            expires_at: Set(p.expires_at),
        })
        .exec(&self.conn)
        .await?;
        Ok(())
    }

    /// The pending sign-in, if it exists and has not expired at `now`.
    pub async fn pending_sign_in(
        &self,
        id_hash: &str,
        now: i64,
    ) -> Result<Option<PendingSignIn>, StoreError> {
        let found = auth_flow::Entity::find_by_id(id_hash)
            .one(&self.conn)
            .await?;
        Ok(found.filter(|f| f.expires_at > now).map(|f| PendingSignIn {
            id_hash: f.id_hash,
            browser_hash: f.browser_hash,
            request: f.request,
            state: f.state,
            created_at: f.created_at,
            expires_at: f.expires_at,
        }))
    }

    pub async fn update_pending_sign_in(
        &self,
        id_hash: &str,
        state: &str,
    ) -> Result<(), StoreError> {
        update_state(&self.conn, id_hash, state).await
    }

    /// As [`Database::update_pending_sign_in`], with `mail` (the code the new state waits for) queued
    /// in the same transaction.
    pub async fn update_pending_sign_in_and_send(
        &self,
        id_hash: &str,
        state: &str,
        mail: &OutgoingEmail,
        now: i64,
    ) -> Result<(), StoreError> {
        let txn = self.conn.begin().await?;
        update_state(&txn, id_hash, state).await?;
        enqueue_in(&txn, mail, now).await?;
        txn.commit().await?;
        Ok(())
    }

    pub async fn delete_pending_sign_in(&self, id_hash: &str) -> Result<(), StoreError> {
        auth_flow::Entity::delete_many()
            .filter(auth_flow::Column::IdHash.eq(id_hash))
            .exec(&self.conn)
            .await?;
        Ok(())
    }
}

async fn update_state<C: sea_orm::ConnectionTrait>(
    conn: &C,
    id_hash: &str,
    state: &str,
) -> Result<(), StoreError> {
    auth_flow::Entity::update_many()
        .col_expr(
            auth_flow::Column::State,
            sea_orm::sea_query::Expr::value(state),
        )
        .filter(auth_flow::Column::IdHash.eq(id_hash))
        .exec(conn)
        .await?;
    Ok(())
}
