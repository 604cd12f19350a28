//! Consent remembered per user and client.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, EntityTrait as _};

use crate::Database;
use crate::entities::consent;
use crate::error::StoreError;

impl Database {
    /// The scopes the user has agreed to share with the client, space-separated.
    pub async fn consent(
        &self,
        user_id: &str,
        client_id: &str,
    ) -> Result<Option<String>, StoreError> {
        let found = consent::Entity::find_by_id((user_id.to_owned(), client_id.to_owned()))
            .one(&self.conn)
            .await?;
        Ok(found.map(|c| c.scope))
    }

    pub async fn save_consent(
        &self,
        user_id: &str,
        client_id: &str,
        scope: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        consent::Entity::insert(consent::ActiveModel {
            user_id: Set(user_id.to_owned()),
            client_id: Set(client_id.to_owned()),
            scope: Set(scope.to_owned()),
            created_at: Set(now),
        })
        .on_conflict(
            OnConflict::columns([consent::Column::UserId, consent::Column::ClientId])
                .update_columns([consent::Column::Scope, consent::Column::CreatedAt])
                .to_owned(),
        )
        .exec_without_returning(&self.conn)
        .await?;
        Ok(())
    }
}
