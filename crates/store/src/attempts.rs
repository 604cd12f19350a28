//! Failure counters in fixed time windows, keyed by what is being throttled (an account, an address).
//! Increments are single atomic upserts, so concurrent requests and several nodes count correctly.

use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait as _, EntityTrait as _, QueryFilter as _};

use crate::Database;
use crate::entities::attempt_counter;
use crate::error::StoreError;

impl Database {
    /// Adds one failure to `key` in the window starting at `window_start`.
    pub async fn record_failure(&self, key: &str, window_start: i64) -> Result<(), StoreError> {
        attempt_counter::Entity::insert(attempt_counter::ActiveModel {
            key: Set(key.to_owned()),
            window_start: Set(window_start),
            failures: Set(1),
        })
        .on_conflict(
            OnConflict::columns([
                attempt_counter::Column::Key,
                attempt_counter::Column::WindowStart,
            ])
            .value(
                attempt_counter::Column::Failures,
                Expr::col((attempt_counter::Entity, attempt_counter::Column::Failures)).add(1),
            )
            .to_owned(),
        )
        .exec_without_returning(&self.conn)
        .await?;
        Ok(())
    }

    /// Failures recorded for `key` in windows starting at or after `since`.
    pub async fn failures_since(&self, key: &str, since: i64) -> Result<i64, StoreError> {
        let rows = attempt_counter::Entity::find()
            .filter(attempt_counter::Column::Key.eq(key))
            .filter(attempt_counter::Column::WindowStart.gte(since))
            .all(&self.conn)
            .await?;
        Ok(rows.iter().map(|r| i64::from(r.failures)).sum())
    }

    pub async fn clear_failures(&self, key: &str) -> Result<(), StoreError> {
        attempt_counter::Entity::delete_many()
            .filter(attempt_counter::Column::Key.eq(key))
            .exec(&self.conn)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::test_db;

    #[tokio::test]
    async fn failures_add_up_per_key_and_window() {
        let (db, _dir) = test_db::fresh().await;
        for _ in 0..3 {
            db.record_failure("acct:a", 100).await.unwrap();
        }
        db.record_failure("acct:a", 200).await.unwrap();
        db.record_failure("acct:b", 200).await.unwrap();
        assert_eq!(db.failures_since("acct:a", 100).await.unwrap(), 4);
        assert_eq!(db.failures_since("acct:a", 150).await.unwrap(), 1);
        db.clear_failures("acct:a").await.unwrap();
        assert_eq!(db.failures_since("acct:a", 0).await.unwrap(), 0);
        assert_eq!(db.failures_since("acct:b", 0).await.unwrap(), 1);
    }
}
