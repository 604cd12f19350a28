//! Gatehouse's HTTP face: the axum router, thin handlers for the protocol endpoints and the hosted
//! pages, cookies, and the security headers every response carries.
//!
//! Handlers extract, call one function of `gatehouse-oidc` or `gatehouse-login`, and map the result.

mod audit;
mod cookies;
mod error;
pub mod forwarded;
mod hashing;
mod headers;
mod health;
mod language;
pub mod metrics;
mod notify;
pub mod outbox;
mod pages;
mod protocol;
mod router;
mod state;
pub(crate) mod theme_choice;

pub use router::{metrics_router, router};
pub use state::{AppState, DemoAccount, Senders, Settings};
