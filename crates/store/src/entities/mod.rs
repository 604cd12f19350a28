//! sea-orm entities, one per table (see `migrations/`).

pub mod attempt_counter;
pub mod audit_event;
pub mod auth_flow;
pub mod authorization_code;
pub mod ceremony;
pub mod consent;
pub mod grant;
pub mod mfa_factor;
pub mod outbox_message;
pub mod password_reset;
pub mod recovery_code;
pub mod refresh_token;
pub mod remembered_device;
pub mod revoked_access_token;
pub mod session;
pub mod sign_in_link;
pub mod signing_key;
pub mod user;
