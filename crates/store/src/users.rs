//! User accounts. E-mail addresses are stored normalised (trimmed, lower case) and unique.

use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _,
};

use crate::Database;
use crate::entities::user;
use crate::error::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub email_verified: bool,
    pub disabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<user::Model> for User {
    fn from(m: user::Model) -> Self {
        Self {
            id: m.id,
            email: m.email,
            name: m.name,
            password_hash: m.password_hash,
            email_verified: m.email_verified,
            disabled: m.disabled,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// The form an address is stored and looked up in.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

impl Database {
    /// Creates an account with a fresh random id (the stable `sub`). Fails with
    /// [`StoreError::DuplicateEmail`] when the address is taken.
    pub async fn create_user(
        &self,
        email: &str,
        name: &str,
        password_hash: &str,
        now: i64,
    ) -> Result<User, StoreError> {
        let email = normalize_email(email);
        if self.user_by_email(&email).await?.is_some() {
            return Err(StoreError::DuplicateEmail);
        }
        let model = user::ActiveModel {
            id: Set(uuid::Uuid::new_v4().to_string()),
            email: Set(email),
            name: Set(name.trim().to_owned()),
            password_hash: Set(password_hash.to_owned()),
            email_verified: Set(false),
            disabled: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
        };
        let inserted = user::Entity::insert(model)
            .exec_with_returning(&self.conn)
            .await;
        match inserted {
            Ok(m) => Ok(m.into()),
            // The unique index catches a concurrent insert of the same address.
            Err(e) if e.to_string().to_lowercase().contains("unique") => {
                Err(StoreError::DuplicateEmail)
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        let found = user::Entity::find()
            .filter(user::Column::Email.eq(normalize_email(email)))
            .one(&self.conn)
            .await?;
        Ok(found.map(User::from))
    }

    pub async fn user(&self, id: &str) -> Result<Option<User>, StoreError> {
        Ok(user::Entity::find_by_id(id)
            .one(&self.conn)
            .await?
            .map(User::from))
    }

    /// Every account, by e-mail address.
    pub async fn users(&self) -> Result<Vec<User>, StoreError> {
        let all = user::Entity::find()
            .order_by_asc(user::Column::Email)
            .all(&self.conn)
            .await?;
        Ok(all.into_iter().map(User::from).collect())
    }

    pub async fn set_password_hash(
        &self,
        id: &str,
        password_hash: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        user::Entity::update(user::ActiveModel {
            id: Set(id.to_owned()),
            password_hash: Set(password_hash.to_owned()),
            updated_at: Set(now),
            ..Default::default()
        })
        .exec(&self.conn)
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_db;

    #[tokio::test]
    async fn email_is_unique_whatever_its_case() {
        let (db, _dir) = test_db::fresh().await;
        let user = db
            .create_user(" Ann@Example.com ", "Ann", "$hash", 1)
            .await
            .unwrap();
        assert_eq!(user.email, "ann@example.com");
        assert!(matches!(
            db.create_user("ANN@example.com", "Other", "$h", 2).await,
            Err(StoreError::DuplicateEmail)
        ));
        assert_eq!(
            db.user_by_email("ann@EXAMPLE.com")
                .await
                .unwrap()
                .unwrap()
                .id,
            user.id
        );
        assert_eq!(db.users().await.unwrap().len(), 1);
    }
}
