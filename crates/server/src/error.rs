//! Friendly error pages for people, and the server-error fallback.

use axum::http::StatusCode;
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
}

impl PageError {
    pub fn expired() -> Self {
        Self::BadRequest {
            title: "This sign-in page has expired",
            message: "For your safety, sign-in pages are only valid for a short time and in the browser that opened them.".to_owned(),
        }
    }

    pub fn render(self, state: &AppState) -> Response {
        let (status, title, message) = match self {
            Self::BadRequest { title, message } => (StatusCode::BAD_REQUEST, title, message),
            Self::Forbidden => (
                StatusCode::FORBIDDEN,
                "This form could not be accepted",
                "The form was sent from a page we did not recognise, or it was open for too long."
                    .to_owned(),
            ),
            Self::Internal(cause) => {
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
        Self::Internal(e.to_string())
    }
}

impl From<gatehouse_oidc::Error> for PageError {
    fn from(e: gatehouse_oidc::Error) -> Self {
        Self::Internal(e.to_string())
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
