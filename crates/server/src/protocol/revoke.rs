//! `POST /revoke` (RFC 7009).

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use gatehouse_oidc::OAuthError;

use super::{
    client_auth_error, form_rejection, no_store, oauth_error, presented_credentials, single_valued,
};
use crate::state::AppState;

pub async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let Ok(Form(pairs)) = form else {
        return form_rejection();
    };
    let params = match single_valued(pairs) {
        Ok(params) => params,
        Err(e) => return oauth_error(&e),
    };
    let client = match presented_credentials(&headers, &params)
        .and_then(|c| state.0.provider.authenticate_client(&c, true))
    {
        Ok(client) => client,
        Err(e) => return client_auth_error(&e),
    };
    let Some(token) = params.get("token").filter(|t| !t.is_empty()) else {
        return oauth_error(&OAuthError::invalid_request("token is required"));
    };
    match state.0.provider.revoke(&client, token).await {
        Ok(()) => (StatusCode::OK, no_store()).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "revocation failed");
            oauth_error(&OAuthError::server_error())
        }
    }
}
