//! Pages people see: the authorization endpoint, sign-in, consent, sign-out, home and static files.

pub mod authorize;
pub mod consent;
pub mod end_session;
mod flow;
pub mod home;
pub mod login;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// 303 See Other: after a form POST the browser must follow with GET (never 307, which would re-POST
/// the password to the client).
pub fn see_other(location: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, location.to_owned())],
    )
        .into_response()
}
