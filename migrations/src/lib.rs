//! Gatehouse's database schema, as sea-orm migrations that run on SQLite and PostgreSQL alike.
//! Every timestamp is seconds since the Unix epoch (BIGINT); every secret column holds a hash or a
//! value sealed with the master key.

pub use sea_orm_migration::prelude::*;

mod m0001_core;
mod m0002_second_factors;
mod m0003_passkeys;
mod m0004_organisations;
mod m0005_audit;
mod m0006_remembered_devices;
mod m0007_phone_numbers;
mod m0008_outbox_and_resets;
mod m0009_backup_links;
mod m0101_one_signing_key_per_alg;
mod m0201_legacy_accounts;
mod m0301_user_language;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_core::Migration),
            Box::new(m0002_second_factors::Migration),
            Box::new(m0003_passkeys::Migration),
            Box::new(m0004_organisations::Migration),
            Box::new(m0005_audit::Migration),
            Box::new(m0006_remembered_devices::Migration),
            Box::new(m0007_phone_numbers::Migration),
            Box::new(m0008_outbox_and_resets::Migration),
            Box::new(m0009_backup_links::Migration),
            Box::new(m0201_legacy_accounts::Migration),
            Box::new(m0101_one_signing_key_per_alg::Migration),
            Box::new(m0301_user_language::Migration),
        ]
    }
}
