//! Server-side state of a WebAuthn ceremony between its two requests. A state is *taken* — read and
//! deleted — exactly once, so an answer can never be checked against the same challenge twice.

use sea_orm::{ActiveValue::Set, ColumnTrait as _, EntityTrait as _, QueryFilter as _};

use crate::Database;
use crate::entities::ceremony;
use crate::error::StoreError;

impl Database {
    pub async fn insert_ceremony(
        &self,
        id_hash: &str,
        purpose: &str,
        user_id: Option<&str>,
        state: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        ceremony::Entity::insert(ceremony::ActiveModel {
            id_hash: Set(id_hash.to_owned()),
            purpose: Set(purpose.to_owned()),
            user_id: Set(user_id.map(str::to_owned)),
            state: Set(state.to_owned()),
            expires_at: Set(expires_at),
        })
        .exec(&self.conn)
        .await?;
        Ok(())
    }

    /// Takes the ceremony: returns `(user_id, state)` to exactly one caller, and only while it has not
    /// expired and was started for `purpose`.
    pub async fn take_ceremony(
        &self,
        id_hash: &str,
        purpose: &str,
        now: i64,
    ) -> Result<Option<(Option<String>, String)>, StoreError> {
        let Some(found) = ceremony::Entity::find_by_id(id_hash)
            .one(&self.conn)
            .await?
        else {
            return Ok(None);
        };
        let deleted = ceremony::Entity::delete_many()
            .filter(ceremony::Column::IdHash.eq(id_hash))
            .exec(&self.conn)
            .await?;
        if deleted.rows_affected != 1 || found.purpose != purpose || found.expires_at <= now {
            return Ok(None);
        }
        Ok(Some((found.user_id, found.state)))
    }
}

#[cfg(test)]
mod tests {
    use crate::test_db;

    #[tokio::test]
    async fn a_ceremony_is_taken_once_for_its_purpose_before_it_expires() {
        let (db, _guard) = test_db::fresh().await;
        db.insert_ceremony("c1", "register", Some("u1"), "{}", 100)
            .await
            .unwrap();
        assert_eq!(
            db.take_ceremony("c1", "register", 50).await.unwrap(),
            Some((Some("u1".into()), "{}".into()))
        );
        assert_eq!(db.take_ceremony("c1", "register", 50).await.unwrap(), None);
        db.insert_ceremony("c2", "register", None, "{}", 100)
            .await
            .unwrap();
        assert_eq!(
            db.take_ceremony("c2", "sign-in", 50).await.unwrap(),
            None,
            "another purpose burns it"
        );
        db.insert_ceremony("c3", "register", None, "{}", 100)
            .await
            .unwrap();
        assert_eq!(
            db.take_ceremony("c3", "register", 100).await.unwrap(),
            None,
            "expired"
        );
    }
}
