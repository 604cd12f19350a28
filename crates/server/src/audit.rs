//! Writing security events to the audit log, with where they came from.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use gatehouse_login::audit as audit_kind;
use gatehouse_store::audit::AuditEvent;
use serde_json::Value;

use crate::state::AppState;

/// The client's address and user agent, for the audit log and the list of recent sign-ins. Behind a
/// trusted proxy the address is the forwarded one (`forwarded::client_address` put it in `ConnectInfo`).
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
    state.0.metrics.audit_event(kind, &detail);
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

/// "Firefox on Windows": enough to recognise a device, from its user agent.
pub fn device_summary(user_agent: &str) -> String {
    let browser = [
        ("Edg/", "Edge"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ]
    .iter()
    .find(|(marker, _)| user_agent.contains(marker))
    .map_or("A browser", |(_, name)| name);
    let system = [
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Windows", "Windows"),
        ("Mac OS", "macOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(marker, _)| user_agent.contains(marker))
    .map(|(_, name)| *name);
    match system {
        Some(system) => format!("{browser} on {system}"),
        None => browser.to_owned(),
    }
}

/// Records a successful sign-in, and tells the person by e-mail when it came from a device their
/// recent sign-ins have not shown before.
pub async fn signed_in(state: &AppState, user_id: &str, detail: Value, client: &ClientInfo) {
    let device = client.user_agent.as_deref().map(device_summary);
    let earlier = state
        .0
        .db
        .events_for_user(user_id, Some(audit_kind::SIGN_IN_SUCCEEDED), 50)
        .await
        .unwrap_or_default();
    let seen = earlier
        .iter()
        .any(|e| e.user_agent.as_deref().map(device_summary) == device);
    record(
        state,
        Some(user_id),
        audit_kind::SIGN_IN_SUCCEEDED,
        detail,
        client,
    )
    .await;
    if !earlier.is_empty() && !seen {
        crate::notify::security_notice(
            state,
            user_id,
            gatehouse_login::i18n::Text::new("notice-new-device"),
            client,
        )
        .await;
    }
}
