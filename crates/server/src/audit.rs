//! Writing security events to the audit log, with where they came from.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use gatehouse_store::audit::AuditEvent;
use serde_json::Value;

use crate::state::AppState;

/// The client's address and user agent, for the audit log and the list of recent sign-ins.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for ClientInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string());
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(300).collect());
        Ok(Self { ip, user_agent })
    }
}

/// Records an event; a failure to record is logged and does not fail the request.
pub async fn record(
    state: &AppState,
    user_id: Option<&str>,
    kind: &str,
    detail: Value,
    client: &ClientInfo,
) {
    let event = AuditEvent {
        user_id: user_id.map(str::to_owned),
        kind: kind.to_owned(),
        detail: detail.to_string(),
        ip: client.ip.clone(),
        user_agent: client.user_agent.clone(),
        created_at: state.0.provider.now(),
    };
    if let Err(e) = state.0.db.record_event(&event).await {
        tracing::error!(error = %e, kind, "writing the audit log failed");
    }
}
