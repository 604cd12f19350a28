//! Remembered devices: where a person chose not to be asked for a code for a while.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _,
};

use crate::Database;
use crate::entities::remembered_device;
use crate::error::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RememberedDevice {
    /// Shown on the account page and used to revoke it (not the cookie's token).
    pub id: String,
    pub label: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub last_used_at: i64,
}

impl Database {
    pub async fn remember_device(
        &self,
        token_hash: &str,
        user_id: &str,
        label: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        remembered_device::Entity::insert(remembered_device::ActiveModel {
            token_hash: Set(token_hash.to_owned()),
            id: Set(uuid::Uuid::new_v4().simple().to_string()),
            user_id: Set(user_id.to_owned()),
            label: Set(label.to_owned()),
            created_at: Set(now),
            expires_at: Set(expires_at),
            last_used_at: Set(now),
        })
        .exec(&self.conn)
        .await?;
        Ok(())
    }

    /// Whether the device token is remembered for this user and not expired; marks it used.
    pub async fn device_remembered(
        &self,
        token_hash: &str,
        user_id: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let updated = remembered_device::Entity::update_many()
            .col_expr(remembered_device::Column::LastUsedAt, Expr::value(now))
            .filter(remembered_device::Column::TokenHash.eq(token_hash))
            .filter(remembered_device::Column::UserId.eq(user_id))
            .filter(remembered_device::Column::ExpiresAt.gt(now))
            .exec(&self.conn)
            .await?;
        Ok(updated.rows_affected == 1)
    }

    /// A user's remembered devices that have not expired, most recently used first.
    pub async fn remembered_devices(
        &self,
        user_id: &str,
        now: i64,
    ) -> Result<Vec<RememberedDevice>, StoreError> {
        let rows = remembered_device::Entity::find()
            .filter(remembered_device::Column::UserId.eq(user_id))
            .filter(remembered_device::Column::ExpiresAt.gt(now))
            .order_by_desc(remembered_device::Column::LastUsedAt)
            .all(&self.conn)
            .await?;
        Ok(rows
            .into_iter()
            .map(|d| RememberedDevice {
                id: d.id,
                label: d.label,
                created_at: d.created_at,
                expires_at: d.expires_at,
                last_used_at: d.last_used_at,
            })
            .collect())
    }

    /// Forgets one device (`Some(id)`) or all of a user's devices (`None`).
    pub async fn forget_devices(&self, user_id: &str, id: Option<&str>) -> Result<u64, StoreError> {
        let mut query = remembered_device::Entity::delete_many()
            .filter(remembered_device::Column::UserId.eq(user_id));
        if let Some(id) = id {
            query = query.filter(remembered_device::Column::Id.eq(id));
        }
        Ok(query.exec(&self.conn).await?.rows_affected)
    }
}
