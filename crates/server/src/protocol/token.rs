//! `POST /token`.

use axum::Json;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use gatehouse_oidc::token::{TokenError, TokenRequest};

use super::{
    client_auth_error, form_params, no_store, oauth_error, presented_credentials,
    settle_client_secret,
};
use crate::state::AppState;

pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let params = match form_params(form) {
        Ok(params) => params,
        Err(rejection) => return rejection.into_response(),
    };
    let credentials = match presented_credentials(&headers, &params) {
        Ok(c) => c,
        Err(e) => return client_auth_error(&e),
    };
    if let Err(e) = settle_client_secret(&state, &credentials).await {
        return oauth_error(&e);
    }
    let grant_type = params.get("grant_type").cloned().unwrap_or_default();
    match state
        .0
        .provider
        .token(&TokenRequest {
            params,
            credentials,
        })
        .await
    {
        Ok(response) => {
            state.0.metrics.token_issued(&grant_type);
            (no_store(), Json(response)).into_response()
        }
        Err(TokenError::Client(e)) => client_auth_error(&e),
        Err(TokenError::OAuth(e)) => oauth_error(&e),
        Err(TokenError::Server(e)) => {
            tracing::error!(error = %e, "token request failed");
            oauth_error(&e.to_oauth())
        }
    }
}
