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
    pub organisation_id: String,
    /// A second factor is required whatever the organisation says.
    pub require_mfa: bool,
    /// A mobile number in E.164, from an operator or confirmed with a code (then `verified`).
    pub phone_number: Option<String>,
    pub phone_number_verified: bool,
    /// A confirmed second address that may receive a one-time sign-in link (where the organisation
    /// allows it) when the person cannot use their second factor.
    pub backup_email: Option<String>,
    /// The username of an account imported from a system that signed in by username (lower case).
    pub legacy_username: Option<String>,
    /// The language the person chose (a code such as `nl`), if they did.
    pub language: Option<String>,
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
            organisation_id: m.organisation_id,
            require_mfa: m.require_mfa,
            phone_number: m.phone_number,
            phone_number_verified: m.phone_number_verified,
            backup_email: m.backup_email,
            legacy_username: m.legacy_username,
            language: m.language,
        }
    }
}

/// The form an address is stored and looked up in.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// The form an old username is stored and looked up in: usernames are case-insensitive.
pub fn normalize_username(username: &str) -> String {
    username.trim().to_lowercase()
}

/// An account to create, as `gatehouse user import` reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: &'a str,
    pub organisation_id: &'a str,
    pub legacy_username: Option<&'a str>,
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
        self.create_user_in(email, name, password_hash, "default", now)
            .await
    }

    /// Creates an account; the old username, when given, is stored lower case. Fails with
    /// [`StoreError::DuplicateEmail`] or [`StoreError::DuplicateLegacyUsername`].
    pub async fn create_user_with(&self, new: &NewUser<'_>, now: i64) -> Result<User, StoreError> {
        let email = normalize_email(new.email);
        if self.user_by_email(&email).await?.is_some() {
            return Err(StoreError::DuplicateEmail);
        }
        let username = new.legacy_username.map(normalize_username);
        if let Some(username) = &username
            && self.user_by_legacy_username(username).await?.is_some()
        {
            return Err(StoreError::DuplicateLegacyUsername);
        }
        let model = user::ActiveModel {
            id: Set(uuid::Uuid::new_v4().to_string()),
            email: Set(email),
            name: Set(new.name.trim().to_owned()),
            password_hash: Set(new.password_hash.to_owned()),
            email_verified: Set(false),
            disabled: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
            organisation_id: Set(new.organisation_id.to_owned()),
            require_mfa: Set(false),
            phone_number: Set(None),
            phone_number_verified: Set(false),
            backup_email: Set(None),
            legacy_username: Set(username),
            language: Set(None),
        };
        let inserted = user::Entity::insert(model)
            .exec_with_returning(&self.conn)
            .await;
        match inserted {
            Ok(m) => Ok(m.into()),
            // The unique indexes catch a concurrent insert of the same address or username.
            Err(e) => {
                let message = e.to_string().to_lowercase();
                if message.contains("unique") && message.contains("legacy_username") {
                    Err(StoreError::DuplicateLegacyUsername)
                } else if message.contains("unique") {
                    Err(StoreError::DuplicateEmail)
                } else {
                    Err(e.into())
                }
            }
        }
    }

    /// The account that used to sign in as `username` (any case) on the system it was imported from.
    pub async fn user_by_legacy_username(
        &self,
        username: &str,
    ) -> Result<Option<User>, StoreError> {
        let found = user::Entity::find()
            .filter(user::Column::LegacyUsername.eq(normalize_username(username)))
            .one(&self.conn)
            .await?;
        Ok(found.map(User::from))
    }

    /// As [`Database::create_user`], in organisation `organisation_id`.
    pub async fn create_user_in(
        &self,
        email: &str,
        name: &str,
        password_hash: &str,
        organisation_id: &str,
        now: i64,
    ) -> Result<User, StoreError> {
        self.create_user_with(
            &NewUser {
                email,
                name,
                password_hash,
                organisation_id,
                legacy_username: None,
            },
            now,
        )
        .await
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

    /// Makes a second factor mandatory (or not) for one user; `false` when there is no such user.
    pub async fn set_require_mfa(
        &self,
        id: &str,
        required: bool,
        now: i64,
    ) -> Result<bool, StoreError> {
        let result = user::Entity::update_many()
            .col_expr(
                user::Column::RequireMfa,
                sea_orm::sea_query::Expr::value(required),
            )
            .col_expr(
                user::Column::UpdatedAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(user::Column::Id.eq(id))
            .exec(&self.conn)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Records a user's mobile number (E.164); `verified` when they typed a code sent to it.
    pub async fn set_phone_number(
        &self,
        id: &str,
        phone_number: &str,
        verified: bool,
        now: i64,
    ) -> Result<(), StoreError> {
        user::Entity::update(user::ActiveModel {
            id: Set(id.to_owned()),
            phone_number: Set(Some(phone_number.to_owned())),
            phone_number_verified: Set(verified),
            updated_at: Set(now),
            ..Default::default()
        })
        .exec(&self.conn)
        .await?;
        Ok(())
    }

    /// Sets (or, with `None`, removes) the backup address.
    pub async fn set_backup_email(
        &self,
        id: &str,
        backup_email: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        user::Entity::update(user::ActiveModel {
            id: Set(id.to_owned()),
            backup_email: Set(backup_email.map(str::to_owned)),
            updated_at: Set(now),
            ..Default::default()
        })
        .exec(&self.conn)
        .await?;
        Ok(())
    }

    /// Saves the language the person chose (`None` forgets it).
    pub async fn set_user_language(
        &self,
        id: &str,
        language: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        user::Entity::update(user::ActiveModel {
            id: Set(id.to_owned()),
            language: Set(language.map(str::to_owned)),
            updated_at: Set(now),
            ..Default::default()
        })
        .exec(&self.conn)
        .await?;
        Ok(())
    }

    /// Replaces the password hash only if it is still `old` (the upgrade of an imported hash after a
    /// sign-in must not undo a password change made meanwhile); `false` when it was not.
    pub async fn replace_password_hash(
        &self,
        id: &str,
        old: &str,
        new: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let result = user::Entity::update_many()
            .col_expr(
                user::Column::PasswordHash,
                sea_orm::sea_query::Expr::value(new),
            )
            .col_expr(
                user::Column::UpdatedAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(user::Column::Id.eq(id))
            .filter(user::Column::PasswordHash.eq(old))
            .exec(&self.conn)
            .await?;
        Ok(result.rows_affected == 1)
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
    async fn legacy_username_is_unique_whatever_its_case_and_optional() {
        let (db, _dir) = test_db::fresh().await;
        let new = |email, username| NewUser {
            email,
            name: "Ann",
            password_hash: "!",
            organisation_id: "default",
            legacy_username: username,
        };
        let ann = db
            .create_user_with(&new("ann@example.com", Some(" Ann01 ")), 1)
            .await
            .unwrap();
        assert_eq!(ann.legacy_username.as_deref(), Some("ann01"));
        assert!(matches!(
            db.create_user_with(&new("other@example.com", Some("ANN01")), 1)
                .await,
            Err(StoreError::DuplicateLegacyUsername)
        ));
        // Accounts without an old username do not collide with each other.
        db.create_user_with(&new("bo@example.com", None), 1)
            .await
            .unwrap();
        db.create_user_with(&new("cy@example.com", None), 1)
            .await
            .unwrap();
        assert_eq!(
            db.user_by_legacy_username("aNN01")
                .await
                .unwrap()
                .unwrap()
                .id,
            ann.id
        );
        assert!(
            db.user_by_legacy_username("nobody")
                .await
                .unwrap()
                .is_none()
        );
    }

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
