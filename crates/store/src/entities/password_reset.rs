//! The `password_resets` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "password_resets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id_hash: String,
    pub browser_hash: String,
    pub user_id: Option<String>,
    pub email: String,
    pub code: String,
    pub attempts: i32,
    pub created_at: i64,
    pub expires_at: i64,
    pub verified_at: Option<i64>,
    pub used_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
