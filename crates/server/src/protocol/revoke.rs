//! `POST /revoke` (RFC 7009).

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{authenticated_token_request, no_store, oauth_error};
use crate::state::AppState;

pub async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let (client, token) = match authenticated_token_request(&state, &headers, form, true).await {
        Ok(request) => request,
        Err(rejection) => return rejection.into_response(),
    };
    match state.0.provider.revoke(&client, &token).await {
        Ok(()) => (StatusCode::OK, no_store()).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "revocation failed");
            oauth_error(&e.to_oauth())
        }
    }
}
