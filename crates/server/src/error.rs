//! Friendly error pages for people, and the server-error fallback.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use gatehouse_login::i18n::Text;
use serde_json::json;

use crate::state::AppState;

/// A page-level failure: shown to the person, never redirected.
#[derive(Debug)]
pub enum PageError {
    /// A request we will not act on; the message says what to do next.
    BadRequest {
        title: Text,
        message: Text,
        /// A technical detail for the app's developers (an invalid request's description).
        detail: Option<String>,
    },
    /// The CSRF token did not match.
    Forbidden,
    /// Something broke on our side; logged, and a calm generic page shown.
    Internal(String),
    /// The database cannot be reached right now: 503 with Retry-After.
    Unavailable(String),
    /// Every password hashing thread is taken and the queue is full (a storm of sign-ins): 503
    /// with Retry-After.
    Busy,
}

impl PageError {
    /// A page for a request we will not act on: what happened (`title`) and what to do (`message`).
    pub fn bad_request(title: &'static str, message: &'static str) -> Self {
        Self::BadRequest {
            title: Text::new(title),
            message: Text::new(message),
            detail: None,
        }
    }

    pub fn expired() -> Self {
        Self::bad_request("error-expired-title", "error-expired-text")
    }

    pub fn render(self, state: &AppState) -> Response {
        let (status, title, message, detail) = match self {
            Self::BadRequest {
                title,
                message,
                detail,
            } => (StatusCode::BAD_REQUEST, title, message, detail),
            Self::Forbidden => (
                StatusCode::FORBIDDEN,
                Text::new("error-forbidden-title"),
                Text::new("error-forbidden-text"),
                None,
            ),
            Self::Unavailable(cause) => {
                tracing::warn!(%cause, "database unavailable");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    Text::new("error-unavailable-title"),
                    Text::new("error-unavailable-text"),
                    None,
                )
            }
            Self::Busy => (
                StatusCode::SERVICE_UNAVAILABLE,
                Text::new("login-busy-title"),
                Text::new("login-busy"),
                None,
            ),
            Self::Internal(cause) => {
                tracing::error!(%cause, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Text::new("error-internal-title"),
                    Text::new("error-internal-text"),
                    None,
                )
            }
        };
        let mut page = render_page(
            state,
            "error.html",
            json!({ "title": title, "message": message, "detail": detail }),
            status,
        );
        // Both kinds of 503 pass: say when to come back.
        if status == StatusCode::SERVICE_UNAVAILABLE {
            page.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                HeaderValue::from_static("5"),
            );
        }
        page
    }
}

impl From<gatehouse_store::StoreError> for PageError {
    fn from(e: gatehouse_store::StoreError) -> Self {
        if e.is_unavailable() {
            Self::Unavailable(e.to_string())
        } else {
            Self::Internal(e.to_string())
        }
    }
}

impl From<gatehouse_oidc::Error> for PageError {
    fn from(e: gatehouse_oidc::Error) -> Self {
        match e {
            gatehouse_oidc::Error::Unavailable(cause) => Self::Unavailable(cause),
            other => Self::Internal(other.to_string()),
        }
    }
}

/// Renders a theme page; a rendering failure becomes a plain 500 (and a log line), never a blank page.
pub fn render_page(
    state: &AppState,
    page: &str,
    context: serde_json::Value,
    status: StatusCode,
) -> Response {
    match state.theme().render(page, context) {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "page rendering failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                state.text(&Text::new("error-page-failed")),
            )
                .into_response()
        }
    }
}
