//! Pages people see: the authorization endpoint, sign-in, consent, sign-out, home and static files.

pub mod account;
pub mod authorize;
pub mod backup_link;
pub mod consent;
pub mod end_session;
pub mod enrol_code;
pub mod enrol_totp;
mod flow;
pub mod home;
pub mod language;
pub mod login;
pub mod mfa;
pub mod passkey;
pub mod password_reset;
pub mod security;
pub mod username;
pub mod wizard;

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::PageError;
use crate::state::AppState;

/// Checks a form's CSRF token for `purpose` in this browser; a missing or wrong one is refused (403).
pub(crate) fn check_csrf(
    state: &AppState,
    browser_id: &str,
    purpose: &str,
    presented: &str,
) -> Result<(), PageError> {
    if state.0.csrf.verify(browser_id, purpose, presented) {
        Ok(())
    } else {
        tracing::warn!(target: "gatehouse::security", purpose, "form without a valid CSRF token");
        Err(PageError::Forbidden)
    }
}

/// 303 See Other: after a form POST the browser must follow with GET (never 307, which would re-POST
/// the password to the client).
pub fn see_other(location: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, location.to_owned())],
    )
        .into_response()
}

/// Name/value pairs of a GET request's query; a malformed query counts as empty.
pub type QueryPairs = Result<Query<Vec<(String, String)>>, QueryRejection>;
/// Name/value pairs of a POSTed form; a malformed body counts as empty.
pub type FormPairs = Result<Form<Vec<(String, String)>>, FormRejection>;

pub fn query_pairs(query: QueryPairs) -> Vec<(String, String)> {
    query.map(|Query(q)| q).unwrap_or_default()
}

pub fn form_pairs(form: FormPairs) -> Vec<(String, String)> {
    form.map(|Form(f)| f).unwrap_or_default()
}
