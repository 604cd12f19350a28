//! The `mfa_factors` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mfa_factors")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub user_id: String,
    pub kind: String,
    pub label: String,
    pub secret_sealed: Option<String>,
    pub detail: String,
    pub is_default: bool,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub last_step: Option<i64>,
    pub credential_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
