//! Machine-facing endpoints: JSON in and out, OAuth error responses.

pub mod discovery;
pub mod introspect;
pub mod revoke;
pub mod token;
pub mod userinfo;

use std::collections::HashMap;

use axum::Json;
use axum::extract::Form;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatehouse_oidc::client_auth::{AuthenticatedClient, ClientAuthError, PresentedCredentials};
use gatehouse_oidc::{ErrorCode, OAuthError};
use serde_json::json;

use crate::state::AppState;

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

/// Why a back-channel request was refused before reaching the protocol.
#[derive(Debug)]
pub enum Rejection {
    Body(OAuthError),
    Client(ClientAuthError),
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        match self {
            Self::Body(e) => oauth_error(&e),
            Self::Client(e) => client_auth_error(&e),
        }
    }
}

/// The single-valued form body of a back-channel request.
pub fn form_params(
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<HashMap<String, String>, Rejection> {
    let Ok(Form(pairs)) = form else {
        return Err(Rejection::Body(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        )));
    };
    single_valued(pairs).map_err(Rejection::Body)
}

/// A client secret this process has not checked yet is checked with argon2 on a hashing thread,
/// under the same bound as password hashes, before the request goes on: so no async thread waits on
/// a hash, and a burst of new (or wrong) secrets cannot outgrow memory. Authentication then answers
/// from the remembered outcome. `Err` (503) when the hashing threads are saturated.
pub async fn settle_client_secret(
    state: &AppState,
    credentials: &PresentedCredentials,
) -> Result<(), OAuthError> {
    let provider = &state.0.provider;
    if !provider.client_secret_check_pending(credentials) {
        return Ok(());
    }
    let credentials = credentials.clone();
    state
        .hash(move |state| {
            let passwords = &state.0.passwords;
            state
                .0
                .provider
                .check_client_secret(&credentials, &|phc, secret| {
                    passwords.matches_phc(phc, secret)
                });
        })
        .await
        .map_err(|_| {
            tracing::warn!("every password hashing thread is busy");
            OAuthError::temporarily_unavailable()
        })
}

/// Authenticates the calling client of a back-channel request and returns the request's `token`.
pub async fn authenticated_token_request(
    state: &AppState,
    headers: &HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
    allow_public: bool,
) -> Result<(AuthenticatedClient, String), Rejection> {
    let params = form_params(form)?;
    let credentials = presented_credentials(headers, &params).map_err(Rejection::Client)?;
    settle_client_secret(state, &credentials)
        .await
        .map_err(Rejection::Body)?;
    let client = state
        .0
        .provider
        .authenticate_client(&credentials, allow_public)
        .map_err(Rejection::Client)?;
    let token = params
        .get("token")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Rejection::Body(OAuthError::invalid_request("token is required")))?;
    Ok((client, token.clone()))
}
