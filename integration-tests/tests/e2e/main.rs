//! End-to-end tests: each starts a real Gatehouse on 127.0.0.1 with a fresh database (SQLite, or a
//! PostgreSQL schema of its own when DATABASE_URL is set) and drives it as a relying party and a
//! browser would.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test by panicking"
)]
mod account_security;
mod authorize_errors;
mod backup_link;
mod browser;
mod code_flow;
mod devices;
mod email_code;
mod harness;
mod key_rotation;
mod languages;
mod legacy_import;
mod live_config;
mod log_secrets;
mod logout;
mod operations;
mod outage;
mod outbox;
mod passkeys;
mod password_policy;
mod password_reset;
mod policy;
mod query_plans;
mod second_factor;
mod several_nodes;
mod sign_in;
mod sms_code;
mod themes;
mod token_errors;
mod userinfo_errors;
mod username_migration;
