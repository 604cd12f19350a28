//! Forgotten-password resets: a code e-mailed to the account's address, bound to the browser that
//! asked for it. A reset is made for every address typed, known or not, so the answer (and the work
//! behind it) is the same either way; only a known address gets a message.

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait as _, EntityTrait as _, QueryFilter as _};

use crate::Database;
use crate::entities::{grant, password_reset, remembered_device, session, user};
use crate::error::StoreError;
use crate::outbox::{OutgoingEmail, enqueue_in};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordReset {
    /// SHA-256 of the random id in the reset pages' links.
    pub id_hash: String,
    /// SHA-256 of the browser cookie of the browser that asked.
    pub browser_hash: String,
    /// The account, when the address typed belongs to one.
    pub user_id: Option<String>,
    /// The address as typed (normalised), to show it back.
    pub email: String,
    /// The sent code, as the MFA crate serialises it (a keyed hash, never the code).
    pub code: String,
    pub attempts: i32,
    pub created_at: i64,
    pub expires_at: i64,
    /// When the right code was typed.
    pub verified_at: Option<i64>,
    /// When a new password was set with it.
    pub used_at: Option<i64>,
}

impl From<password_reset::Model> for PasswordReset {
    fn from(m: password_reset::Model) -> Self {
        Self {
            id_hash: m.id_hash,
            browser_hash: m.browser_hash,
            user_id: m.user_id,
            email: m.email,
            code: m.code,
            attempts: m.attempts,
            created_at: m.created_at,
            expires_at: m.expires_at,
            verified_at: m.verified_at,
            used_at: m.used_at,
        }
    }
}

impl Database {
    /// Saves a reset and, in the same transaction, the e-mail with its code (none for an unknown address).
    pub async fn start_password_reset(
        &self,
        reset: &PasswordReset,
        mail: Option<&OutgoingEmail>,
    ) -> Result<(), StoreError> {
        let txn = self.conn.begin().await?;
        password_reset::Entity::insert(password_reset::ActiveModel {
            id_hash: Set(reset.id_hash.clone()),
            browser_hash: Set(reset.browser_hash.clone()),
            user_id: Set(reset.user_id.clone()),
            email: Set(reset.email.clone()),
            code: Set(reset.code.clone()),
            attempts: Set(reset.attempts),
            created_at: Set(reset.created_at),
            expires_at: Set(reset.expires_at),
            verified_at: Set(reset.verified_at),
            used_at: Set(reset.used_at),
        })
        .exec(&txn)
        .await?;
        if let Some(mail) = mail {
            enqueue_in(&txn, mail, reset.created_at).await?;
        }
        txn.commit().await?;
        Ok(())
    }

    pub async fn password_reset(&self, id_hash: &str) -> Result<Option<PasswordReset>, StoreError> {
        Ok(password_reset::Entity::find_by_id(id_hash)
            .one(&self.conn)
            .await?
            .map(PasswordReset::from))
    }

    /// Counts one try at the code, atomically (concurrent guesses each count); returns the new count.
    pub async fn count_password_reset_try(&self, id_hash: &str) -> Result<i32, StoreError> {
        password_reset::Entity::update_many()
            .col_expr(
                password_reset::Column::Attempts,
                Expr::col(password_reset::Column::Attempts).add(1),
            )
            .filter(password_reset::Column::IdHash.eq(id_hash))
            .exec(&self.conn)
            .await?;
        Ok(self
            .password_reset(id_hash)
            .await?
            .map_or(i32::MAX, |r| r.attempts))
    }

    /// Marks the code as typed correctly; `false` when it already was.
    pub async fn verify_password_reset(&self, id_hash: &str, now: i64) -> Result<bool, StoreError> {
        let updated = password_reset::Entity::update_many()
            .col_expr(password_reset::Column::VerifiedAt, Expr::value(now))
            .filter(password_reset::Column::IdHash.eq(id_hash))
            .filter(password_reset::Column::VerifiedAt.is_null())
            .exec(&self.conn)
            .await?;
        Ok(updated.rows_affected == 1)
    }

    /// Sets the new password with a verified, unused reset, all at once: the reset is used up (only
    /// once: `false` when it already was), every session, refresh token (through its grant) and
    /// remembered device of the account ends, and `notice` is queued.
    pub async fn complete_password_reset(
        &self,
        id_hash: &str,
        user_id: &str,
        password_hash: &str,
        now: i64,
        notice: Option<&OutgoingEmail>,
    ) -> Result<bool, StoreError> {
        let txn = self.conn.begin().await?;
        let used = password_reset::Entity::update_many()
            .col_expr(password_reset::Column::UsedAt, Expr::value(now))
            .filter(password_reset::Column::IdHash.eq(id_hash))
            .filter(password_reset::Column::UserId.eq(user_id))
            .filter(password_reset::Column::VerifiedAt.is_not_null())
            .filter(password_reset::Column::UsedAt.is_null())
            .exec(&txn)
            .await?;
        if used.rows_affected != 1 {
            txn.rollback().await?;
            return Ok(false);
        }
        user::Entity::update_many()
            .col_expr(user::Column::PasswordHash, Expr::value(password_hash))
            .col_expr(user::Column::UpdatedAt, Expr::value(now))
            .filter(user::Column::Id.eq(user_id))
            .exec(&txn)
            .await?;
        session::Entity::delete_many()
            .filter(session::Column::UserId.eq(user_id))
            .exec(&txn)
            .await?;
        grant::Entity::update_many()
            .col_expr(grant::Column::RevokedAt, Expr::value(now))
            .filter(grant::Column::UserId.eq(user_id))
            .filter(grant::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?;
        remembered_device::Entity::delete_many()
            .filter(remembered_device::Column::UserId.eq(user_id))
            .exec(&txn)
            .await?;
        if let Some(notice) = notice {
            enqueue_in(&txn, notice, now).await?;
        }
        txn.commit().await?;
        Ok(true)
    }
}
