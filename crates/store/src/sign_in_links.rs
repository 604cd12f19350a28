//! One-time sign-in links to a backup address: the token's hash, the pending sign-in and browser it
//! belongs to, used at most once.

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait as _, EntityTrait as _, QueryFilter as _};

use crate::Database;
use crate::entities::sign_in_link;
use crate::error::StoreError;
use crate::outbox::{OutgoingEmail, enqueue_in};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInLink {
    pub token_hash: String,
    /// The pending sign-in it completes.
    pub flow_hash: String,
    /// The browser that asked; the link works only there.
    pub browser_hash: String,
    pub user_id: String,
    pub created_at: i64,
    pub expires_at: i64,
}

impl Database {
    /// Saves a link and, in the same transaction, the e-mail that carries it.
    pub async fn create_sign_in_link(
        &self,
        link: &SignInLink,
        mail: &OutgoingEmail,
    ) -> Result<(), StoreError> {
        let txn = self.conn.begin().await?;
        sign_in_link::Entity::insert(sign_in_link::ActiveModel {
            token_hash: Set(link.token_hash.clone()),
            flow_hash: Set(link.flow_hash.clone()),
            browser_hash: Set(link.browser_hash.clone()),
            user_id: Set(link.user_id.clone()),
            created_at: Set(link.created_at),
            expires_at: Set(link.expires_at),
            used_at: Set(None),
        })
        .exec(&txn)
        .await?;
        enqueue_in(&txn, mail, link.created_at).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Uses the link once: the link when it existed, was unused and unexpired at `now` and belongs to
    /// `browser_hash`; `None` otherwise (and a link opened in another browser stays unused).
    pub async fn use_sign_in_link(
        &self,
        token_hash: &str,
        browser_hash: &str,
        now: i64,
    ) -> Result<Option<SignInLink>, StoreError> {
        let used = sign_in_link::Entity::update_many()
            .col_expr(sign_in_link::Column::UsedAt, Expr::value(now))
            .filter(sign_in_link::Column::TokenHash.eq(token_hash))
            .filter(sign_in_link::Column::BrowserHash.eq(browser_hash))
            .filter(sign_in_link::Column::UsedAt.is_null())
            .filter(sign_in_link::Column::ExpiresAt.gt(now))
            .exec(&self.conn)
            .await?;
        if used.rows_affected != 1 {
            return Ok(None);
        }
        Ok(sign_in_link::Entity::find_by_id(token_hash)
            .one(&self.conn)
            .await?
            .map(|m| SignInLink {
                token_hash: m.token_hash,
                flow_hash: m.flow_hash,
                browser_hash: m.browser_hash,
                user_id: m.user_id,
                created_at: m.created_at,
                expires_at: m.expires_at,
            }))
    }
}
