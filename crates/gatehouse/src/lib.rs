//! The Gatehouse binary's library: configuration, building and serving the app, the CLI and the demo
//! relying party. Integration tests start servers through [`app::Gatehouse`].

pub mod allocator;
pub mod app;
mod background;
pub mod cli;
pub mod config;
mod demo;
pub mod import;
mod log_writer;
pub mod logging;
mod reload;
