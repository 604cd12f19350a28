//! `GET|POST /userinfo` with a bearer token (RFC 6750 §2.1 header, §2.2 form body).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatehouse_oidc::{Error, ErrorCode, OAuthError};

use super::no_store;
use crate::state::AppState;

fn bearer_from_header(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// RFC 6750 §3: the error goes into WWW-Authenticate.
fn bearer_error(error: Option<&OAuthError>) -> Response {
    let (status, challenge) = match error {
        None => (
            StatusCode::UNAUTHORIZED,
            "Bearer realm=\"gatehouse\"".to_owned(),
        ),
        Some(e) => {
            let status = match e.code {
                ErrorCode::InsufficientScope => StatusCode::FORBIDDEN,
                ErrorCode::InvalidRequest => StatusCode::BAD_REQUEST,
                ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::UNAUTHORIZED,
            };
            let description = e.description.replace('"', "'");
            (
                status,
                format!(
                    "Bearer realm=\"gatehouse\", error=\"{}\", error_description=\"{description}\"",
                    e.code.as_str()
                ),
            )
        }
    };
    let mut response = (status, no_store()).into_response();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

async fn respond(state: &AppState, token: Option<String>) -> Response {
    let Some(token) = token else {
        return bearer_error(None);
    };
    match state.0.provider.userinfo(&token).await {
        Ok(claims) => (no_store(), Json(claims)).into_response(),
        Err(Error::OAuth(e)) => bearer_error(Some(&e)),
        Err(e) => {
            tracing::error!(error = %e, "userinfo failed");
            // An unreachable database is `temporarily_unavailable` (503), anything else `server_error`.
            bearer_error(Some(&e.to_oauth()))
        }
    }
}

pub async fn get(State(state): State<AppState>, headers: HeaderMap) -> Response {
    respond(&state, bearer_from_header(&headers)).await
}

pub async fn post(State(state): State<AppState>, headers: HeaderMap, body: String) -> Response {
    let from_body = url::form_urlencoded::parse(body.as_bytes())
        .find(|(name, _)| name == "access_token")
        .map(|(_, v)| v.into_owned());
    match (bearer_from_header(&headers), from_body) {
        // RFC 6750 §2: a client must not use more than one method.
        (Some(_), Some(_)) => {
            bearer_error(Some(&OAuthError::invalid_request("send the token once")))
        }
        (header, body) => respond(&state, header.or(body)).await,
    }
}
