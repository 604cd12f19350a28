//! The audit log of security events, and the operator's account actions that write to it.

use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _,
    QuerySelect as _,
};

use crate::Database;
use crate::entities::{audit_event, mfa_factor, recovery_code, session, user};
use crate::error::StoreError;

/// One security event. `detail` is JSON and never holds a password, code, token or full address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub user_id: Option<String>,
    pub kind: String,
    pub detail: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: i64,
}

impl Database {
    pub async fn record_event(&self, event: &AuditEvent) -> Result<(), StoreError> {
        audit_event::Entity::insert(audit_event::ActiveModel {
            // Time-ordered (UUID v7), so events within one second keep their order.
            id: Set(uuid::Uuid::now_v7().to_string()),
            user_id: Set(event.user_id.clone()),
            kind: Set(event.kind.clone()),
            detail: Set(event.detail.clone()),
            ip: Set(event.ip.clone()),
            user_agent: Set(event.user_agent.clone()),
            created_at: Set(event.created_at),
        })
        .exec(&self.conn)
        .await?;
        Ok(())
    }

    /// A user's newest events first; `kind_prefix` narrows them (e.g. `sign_in.`).
    pub async fn events_for_user(
        &self,
        user_id: &str,
        kind_prefix: Option<&str>,
        limit: u64,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        let mut query = audit_event::Entity::find().filter(audit_event::Column::UserId.eq(user_id));
        if let Some(prefix) = kind_prefix {
            query = query.filter(audit_event::Column::Kind.starts_with(prefix));
        }
        let rows = query
            .order_by_desc(audit_event::Column::CreatedAt)
            .order_by_desc(audit_event::Column::Id)
            .limit(limit)
            .all(&self.conn)
            .await?;
        Ok(rows
            .into_iter()
            .map(|e| AuditEvent {
                user_id: e.user_id,
                kind: e.kind,
                detail: e.detail,
                ip: e.ip,
                user_agent: e.user_agent,
                created_at: e.created_at,
            })
            .collect())
    }

    /// Removes every second factor, recovery code and remembered device of a user, for someone who lost their phone and
    /// their codes. Returns how many factors were removed. (The caller clears the code locks.)
    pub async fn reset_mfa(&self, user_id: &str) -> Result<u64, StoreError> {
        let removed = mfa_factor::Entity::delete_many()
            .filter(mfa_factor::Column::UserId.eq(user_id))
            .exec(&self.conn)
            .await?;
        recovery_code::Entity::delete_many()
            .filter(recovery_code::Column::UserId.eq(user_id))
            .exec(&self.conn)
            .await?;
        // A remembered device skips a factor that no longer exists: forget them all.
        self.forget_devices(user_id, None).await?;
        Ok(removed.rows_affected)
    }

    /// Disables an account and ends its browser sessions; its tokens stop working at their next use.
    pub async fn disable_user(&self, user_id: &str, now: i64) -> Result<bool, StoreError> {
        let updated = user::Entity::update_many()
            .col_expr(
                user::Column::Disabled,
                sea_orm::sea_query::Expr::value(true),
            )
            .col_expr(
                user::Column::UpdatedAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(user::Column::Id.eq(user_id))
            .exec(&self.conn)
            .await?;
        session::Entity::delete_many()
            .filter(session::Column::UserId.eq(user_id))
            .exec(&self.conn)
            .await?;
        Ok(updated.rows_affected == 1)
    }
}
