//! Machine-facing endpoints: JSON in and out, OAuth error responses.

pub mod discovery;
pub mod introspect;
pub mod revoke;
pub mod token;
pub mod userinfo;

use std::collections::HashMap;

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatehouse_oidc::client_auth::{ClientAuthError, PresentedCredentials};
use gatehouse_oidc::{ErrorCode, OAuthError};
use serde_json::json;

/// RFC 6749 §5.2 error body with the right status; `invalid_client` gets 401 and WWW-Authenticate.
pub fn oauth_error(error: &OAuthError) -> Response {
    let body =
        Json(json!({ "error": error.code.as_str(), "error_description": error.description }));
    let status = match error.code {
        ErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
        ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    };
    let mut response = (status, no_store(), body).into_response();
    if error.code == ErrorCode::InvalidClient {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"gatehouse\""),
        );
    }
    response
}

pub fn client_auth_error(error: &ClientAuthError) -> Response {
    oauth_error(&error.error)
}

/// RFC 6749 §5.1: token responses are never cached.
pub fn no_store() -> [(header::HeaderName, &'static str); 2] {
    [
        (header::CACHE_CONTROL, "no-store"),
        (header::PRAGMA, "no-cache"),
    ]
}

/// A form body as a map; RFC 6749 §3.2: parameters must not repeat.
pub fn single_valued(pairs: Vec<(String, String)>) -> Result<HashMap<String, String>, OAuthError> {
    let mut params = HashMap::new();
    for (name, value) in pairs {
        if params.insert(name.clone(), value).is_some() {
            return Err(OAuthError::invalid_request(format!(
                "parameter {name} is repeated"
            )));
        }
    }
    Ok(params)
}

/// The client credentials in the Authorization header and the body.
pub fn presented_credentials(
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Result<PresentedCredentials, ClientAuthError> {
    let basic = match headers.get(header::AUTHORIZATION) {
        None => None,
        Some(value) => Some(PresentedCredentials::parse_basic(
            value.to_str().unwrap_or_default(),
        )?),
    };
    Ok(PresentedCredentials {
        basic,
        client_id: params.get("client_id").cloned().filter(|v| !v.is_empty()),
        client_secret: params
            .get("client_secret")
            .cloned()
            .filter(|v| !v.is_empty()),
    })
}

pub fn form_rejection() -> Response {
    oauth_error(&OAuthError::invalid_request(
        "the body must be application/x-www-form-urlencoded",
    ))
}
