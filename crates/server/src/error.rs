//! Friendly error pages for people, and the server-error fallback.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

use crate::state::AppState;

/// A page-level failure: shown to the person, never redirected.
#[derive(Debug)]
pub enum PageError {
    /// A request we will not act on; the message says what to do next.
    BadRequest {
        title: &'static str,
        message: String,
    },
    /// The CSRF token did not match.
    Forbidden,
    /// Something broke on our side; logged, and a calm generic page shown.
    Internal(String),
    /// The database cannot be reached right now: 503 with Retry-After.
    Unavailable(String),
}

impl PageError {
    pub fn expired() -> Self {
        Self::BadRequest {
            title: "This sign-in page has expired",
            message: "For your safety, sign-in pages are only valid for a short time and in the browser that opened them.".to_owned(),
        }
    }

    pub fn render(self, state: &AppState) -> Response {
        if let Self::Unavailable(cause) = &self {
            tracing::warn!(%cause, "database unavailable");
            let mut page = render_page(
                state,
                "error.html",
                json!({
                    "title": "Gatehouse is briefly unavailable",
                    "message": "Please try again in a few seconds. Nothing was changed.",
                }),
                StatusCode::SERVICE_UNAVAILABLE,
            );
            page.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                HeaderValue::from_static("5"),
            );
            return page;
        }
        let (status, title, message) = match self {
            Self::BadRequest { title, message } => (StatusCode::BAD_REQUEST, title, message),
            Self::Forbidden => (
                StatusCode::FORBIDDEN,
                "This form could not be accepted",
                "The form was sent from a page we did not recognise, or it was open for too long."
                    .to_owned(),
            ),
            Self::Internal(cause) | Self::Unavailable(cause) => {
                tracing::error!(%cause, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong on our side",
                    "Your request could not be completed right now. Nothing was changed."
                        .to_owned(),
                )
            }
        };
        render_page(
            state,
            "error.html",
            json!({ "title": title, "message": message }),
            status,
        )
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
                "Gatehouse could not show this page.",
            )
                .into_response()
        }
    }
}
