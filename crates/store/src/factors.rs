//! Second factors and recovery codes. Secrets arrive sealed; recovery codes arrive as keyed hashes.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, Condition, EntityTrait as _, PaginatorTrait as _,
    QueryFilter as _, QueryOrder as _,
};

use crate::Database;
use crate::entities::{mfa_factor, recovery_code};
use crate::error::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFactor {
    pub id: String,
    pub user_id: String,
    /// `gatehouse_mfa::MethodKind::as_str`.
    pub kind: String,
    pub label: String,
    pub secret_sealed: Option<String>,
    pub detail: String,
    pub is_default: bool,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub last_step: Option<i64>,
    /// A passkey's credential id (base64url); unique across all accounts.
    pub credential_id: Option<String>,
}

impl From<mfa_factor::Model> for StoredFactor {
    fn from(m: mfa_factor::Model) -> Self {
        Self {
            id: m.id,
            user_id: m.user_id,
            kind: m.kind,
            label: m.label,
            secret_sealed: m.secret_sealed,
            detail: m.detail,
            is_default: m.is_default,
            created_at: m.created_at,
            last_used_at: m.last_used_at,
            last_step: m.last_step,
            credential_id: m.credential_id,
        }
    }
}

impl Database {
    pub async fn add_factor(&self, f: &StoredFactor) -> Result<(), StoreError> {
        mfa_factor::Entity::insert(mfa_factor::ActiveModel {
            id: Set(f.id.clone()),
            user_id: Set(f.user_id.clone()),
            kind: Set(f.kind.clone()),
            label: Set(f.label.clone()),
            secret_sealed: Set(f.secret_sealed.clone()),
            detail: Set(f.detail.clone()),
            is_default: Set(f.is_default),
            created_at: Set(f.created_at),
            last_used_at: Set(f.last_used_at),
            last_step: Set(f.last_step),
            credential_id: Set(f.credential_id.clone()),
        })
        .exec(&self.conn)
        .await?;
        Ok(())
    }

    /// A user's factors, default first, then oldest first.
    pub async fn factors(&self, user_id: &str) -> Result<Vec<StoredFactor>, StoreError> {
        let rows = mfa_factor::Entity::find()
            .filter(mfa_factor::Column::UserId.eq(user_id))
            .order_by_desc(mfa_factor::Column::IsDefault)
            .order_by_asc(mfa_factor::Column::CreatedAt)
            .all(&self.conn)
            .await?;
        Ok(rows.into_iter().map(StoredFactor::from).collect())
    }

    /// Removes one of the user's factors; `false` if the user has no such factor.
    pub async fn remove_factor(&self, user_id: &str, factor_id: &str) -> Result<bool, StoreError> {
        let result = mfa_factor::Entity::delete_many()
            .filter(mfa_factor::Column::Id.eq(factor_id))
            .filter(mfa_factor::Column::UserId.eq(user_id))
            .exec(&self.conn)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Makes one of the user's factors the one asked for first; `false` if the user has no such factor.
    pub async fn set_default_factor(
        &self,
        user_id: &str,
        factor_id: &str,
    ) -> Result<bool, StoreError> {
        let txn = self.conn.begin().await?;
        let chosen = mfa_factor::Entity::update_many()
            .col_expr(mfa_factor::Column::IsDefault, Expr::value(true))
            .filter(mfa_factor::Column::Id.eq(factor_id))
            .filter(mfa_factor::Column::UserId.eq(user_id))
            .exec(&txn)
            .await?;
        if chosen.rows_affected != 1 {
            txn.rollback().await?;
            return Ok(false);
        }
        mfa_factor::Entity::update_many()
            .col_expr(mfa_factor::Column::IsDefault, Expr::value(false))
            .filter(mfa_factor::Column::UserId.eq(user_id))
            .filter(mfa_factor::Column::Id.ne(factor_id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(true)
    }

    /// Renames one of the user's factors (e.g. a passkey); `false` if the user has no such factor.
    pub async fn rename_factor(
        &self,
        user_id: &str,
        factor_id: &str,
        label: &str,
    ) -> Result<bool, StoreError> {
        let renamed = mfa_factor::Entity::update_many()
            .col_expr(mfa_factor::Column::Label, Expr::value(label))
            .filter(mfa_factor::Column::Id.eq(factor_id))
            .filter(mfa_factor::Column::UserId.eq(user_id))
            .exec(&self.conn)
            .await?;
        Ok(renamed.rows_affected == 1)
    }

    /// Records that a TOTP factor accepted `step`, if no later or equal step was accepted before.
    /// `false` means the code was already used (here or on another node).
    pub async fn accept_totp_step(
        &self,
        factor_id: &str,
        step: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let result = mfa_factor::Entity::update_many()
            .col_expr(mfa_factor::Column::LastStep, Expr::value(step))
            .col_expr(mfa_factor::Column::LastUsedAt, Expr::value(now))
            .filter(mfa_factor::Column::Id.eq(factor_id))
            .filter(
                Condition::any()
                    .add(mfa_factor::Column::LastStep.is_null())
                    .add(mfa_factor::Column::LastStep.lt(step)),
            )
            .exec(&self.conn)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// The factor holding a passkey credential, whoever owns it.
    pub async fn factor_by_credential(
        &self,
        credential_id: &str,
    ) -> Result<Option<StoredFactor>, StoreError> {
        let found = mfa_factor::Entity::find()
            .filter(mfa_factor::Column::CredentialId.eq(credential_id))
            .one(&self.conn)
            .await?;
        Ok(found.map(StoredFactor::from))
    }

    /// Saves a factor's new details (a passkey's counter and flags) after use.
    pub async fn update_factor_detail(
        &self,
        factor_id: &str,
        detail: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        mfa_factor::Entity::update_many()
            .col_expr(mfa_factor::Column::Detail, Expr::value(detail))
            .col_expr(mfa_factor::Column::LastUsedAt, Expr::value(now))
            .filter(mfa_factor::Column::Id.eq(factor_id))
            .exec(&self.conn)
            .await?;
        Ok(())
    }

    /// Replaces the user's recovery codes with `hashes` (the old set stops working).
    pub async fn replace_recovery_codes(
        &self,
        user_id: &str,
        hashes: &[String],
        now: i64,
    ) -> Result<(), StoreError> {
        let txn = self.conn.begin().await?;
        recovery_code::Entity::delete_many()
            .filter(recovery_code::Column::UserId.eq(user_id))
            .exec(&txn)
            .await?;
        for hash in hashes {
            recovery_code::Entity::insert(recovery_code::ActiveModel {
                code_hash: Set(hash.clone()),
                user_id: Set(user_id.to_owned()),
                created_at: Set(now),
                used_at: Set(None),
            })
            .exec(&txn)
            .await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// Uses one of the user's recovery codes, once; `false` if it is unknown, another user's, or used.
    pub async fn use_recovery_code(
        &self,
        user_id: &str,
        hash: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let result = recovery_code::Entity::update_many()
            .col_expr(recovery_code::Column::UsedAt, Expr::value(now))
            .filter(recovery_code::Column::CodeHash.eq(hash))
            .filter(recovery_code::Column::UserId.eq(user_id))
            .filter(recovery_code::Column::UsedAt.is_null())
            .exec(&self.conn)
            .await?;
        Ok(result.rows_affected == 1)
    }

    pub async fn recovery_codes_left(&self, user_id: &str) -> Result<u64, StoreError> {
        Ok(recovery_code::Entity::find()
            .filter(recovery_code::Column::UserId.eq(user_id))
            .filter(recovery_code::Column::UsedAt.is_null())
            .count(&self.conn)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_db;

    fn totp(id: &str, user: &str) -> StoredFactor {
        StoredFactor {
            id: id.into(),
            user_id: user.into(),
            kind: "totp".into(),
            label: "Phone".into(),
            secret_sealed: Some("sealed".into()),
            detail: "{}".into(),
            is_default: true,
            created_at: 1,
            last_used_at: None,
            last_step: None,
            credential_id: None,
        }
    }

    #[tokio::test]
    async fn totp_step_is_accepted_once_and_never_backwards() {
        let (db, _guard) = test_db::fresh().await;
        db.add_factor(&totp("f1", "u1")).await.unwrap();
        assert!(db.accept_totp_step("f1", 100, 5).await.unwrap());
        assert!(!db.accept_totp_step("f1", 100, 6).await.unwrap());
        assert!(!db.accept_totp_step("f1", 99, 6).await.unwrap());
        assert!(db.accept_totp_step("f1", 101, 7).await.unwrap());
    }

    #[tokio::test]
    async fn recovery_code_is_single_use_and_bound_to_its_user() {
        let (db, _guard) = test_db::fresh().await;
        db.replace_recovery_codes("u1", &["h1".into(), "h2".into()], 1)
            .await
            .unwrap();
        assert!(!db.use_recovery_code("u2", "h1", 2).await.unwrap());
        assert!(db.use_recovery_code("u1", "h1", 2).await.unwrap());
        assert!(!db.use_recovery_code("u1", "h1", 3).await.unwrap());
        assert_eq!(db.recovery_codes_left("u1").await.unwrap(), 1);
        db.replace_recovery_codes("u1", &["h3".into()], 4)
            .await
            .unwrap();
        assert!(
            !db.use_recovery_code("u1", "h2", 5).await.unwrap(),
            "regenerating voids the old set"
        );
    }

    #[tokio::test]
    async fn factor_is_removed_only_by_its_owner() {
        let (db, _guard) = test_db::fresh().await;
        db.add_factor(&totp("f1", "u1")).await.unwrap();
        assert!(!db.remove_factor("u2", "f1").await.unwrap());
        assert_eq!(db.factors("u1").await.unwrap().len(), 1);
        assert!(db.remove_factor("u1", "f1").await.unwrap());
        assert!(db.factors("u1").await.unwrap().is_empty());
    }
}
