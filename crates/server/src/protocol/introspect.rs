//! `POST /introspect` (RFC 7662), for confidential clients.

use axum::Json;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use super::{authenticated_token_request, no_store, oauth_error};
use crate::state::AppState;

pub async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let (client, token) = match authenticated_token_request(&state, &headers, form, false).await {
        Ok(request) => request,
        Err(rejection) => return rejection.into_response(),
    };
    match state.0.provider.introspect(&client, &token).await {
        Ok(body) => (no_store(), Json(body)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "introspection failed");
            oauth_error(&e.to_oauth())
        }
    }
}
