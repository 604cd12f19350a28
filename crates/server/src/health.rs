//! Health checks for load balancers and orchestrators.
//!
//! `/health/live`: the process answers HTTP (restart it when this fails).
//! `/health/ready`: it can serve sign-ins now: the database answers within [`DATABASE_TIMEOUT`] and
//! a signing key is loaded for every algorithm (send it traffic only when this succeeds).

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::state::AppState;

/// How long readiness waits for the database before it calls it unreachable.
pub const DATABASE_TIMEOUT: Duration = Duration::from_secs(2);

pub async fn live() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

pub async fn ready(State(state): State<AppState>) -> Response {
    let database = tokio::time::timeout(DATABASE_TIMEOUT, state.0.db.ping()).await;
    let reason = match database {
        Err(_) => Some("the database did not answer in time"),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: the database is unreachable");
            Some("the database is unreachable")
        }
        Ok(Ok(())) if !state.0.provider.keys.current().missing_algs().is_empty() => {
            Some("signing keys are not loaded")
        }
        Ok(Ok(())) => None,
    };
    match reason {
        None => Json(json!({ "status": "ready" })).into_response(),
        Some(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unavailable", "reason": reason })),
        )
            .into_response(),
    }
}
