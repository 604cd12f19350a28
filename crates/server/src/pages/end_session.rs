//! RP-Initiated Logout: `GET|POST /end_session`, and `POST /end_session/confirm` when we must ask.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use gatehouse_login::i18n::Text;
use gatehouse_oidc::end_session::{EndSessionRequest, LogoutPlan};
use serde_json::json;

use super::{FormPairs, QueryPairs, flow, form_pairs, query_pairs, see_other};
use crate::cookies;
use crate::error::{PageError, render_page};
use crate::state::AppState;

const CSRF_PURPOSE: &str = "end-session";
const FIELDS: [&str; 4] = [
    "id_token_hint",
    "client_id",
    "post_logout_redirect_uri",
    "state",
];

fn parse(pairs: &[(String, String)]) -> EndSessionRequest {
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(n, v)| n == name && !v.is_empty())
            .map(|(_, v)| v.clone())
    };
    EndSessionRequest {
        id_token_hint: get("id_token_hint"),
        client_id: get("client_id"),
        post_logout_redirect_uri: get("post_logout_redirect_uri"),
        state: get("state"),
    }
}

pub async fn get(State(state): State<AppState>, jar: CookieJar, query: QueryPairs) -> Response {
    let pairs = query_pairs(query);
    start(&state, jar, pairs)
        .await
        .unwrap_or_else(|e| e.render(&state))
}

pub async fn post(State(state): State<AppState>, jar: CookieJar, form: FormPairs) -> Response {
    let pairs = form_pairs(form);
    start(&state, jar, pairs)
        .await
        .unwrap_or_else(|e| e.render(&state))
}

async fn start(
    state: &AppState,
    jar: CookieJar,
    pairs: Vec<(String, String)>,
) -> Result<Response, PageError> {
    let plan = plan(state, &pairs)?;
    let Some(signed_in) = flow::signed_in(state, &jar).await? else {
        // Nobody is signed in here: nothing to end.
        return Ok(after_logout(state, jar, &plan));
    };
    // RP-Initiated Logout §2: without proof that the application speaks for this person, ask them.
    if plan.hinted_sub.as_deref() == Some(signed_in.user_id.as_str()) {
        return log_out(state, jar, &signed_in.session_hash, &plan).await;
    }
    let (jar, browser_id) = cookies::browser_id(jar, state.0.settings.secure_cookies);
    let client_name = plan
        .client_id
        .as_deref()
        .and_then(|id| state.0.provider.clients.get(id))
        .map(|c| c.name.clone());
    let request = parse(&pairs);
    let values = [
        request.id_token_hint,
        request.client_id,
        request.post_logout_redirect_uri,
        request.state,
    ];
    let fields: Vec<(&str, String)> = FIELDS
        .iter()
        .zip(values)
        .filter_map(|(name, value)| value.map(|v| (*name, v)))
        .collect();
    let context = json!({
        "csrf": state.0.csrf.token(&browser_id, CSRF_PURPOSE),
        "client_name": client_name,
        "fields": fields,
    });
    Ok((
        jar,
        render_page(state, "logout.html", context, StatusCode::OK),
    )
        .into_response())
}

pub async fn confirm(State(state): State<AppState>, jar: CookieJar, form: FormPairs) -> Response {
    let pairs = form_pairs(form);
    confirmed(&state, jar, pairs)
        .await
        .unwrap_or_else(|e| e.render(&state))
}

async fn confirmed(
    state: &AppState,
    jar: CookieJar,
    pairs: Vec<(String, String)>,
) -> Result<Response, PageError> {
    let csrf = pairs
        .iter()
        .find(|(n, _)| n == "csrf")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    let browser_id = jar
        .get(cookies::BROWSER)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    if browser_id.is_empty() || !state.0.csrf.verify(&browser_id, CSRF_PURPOSE, csrf) {
        return Err(PageError::Forbidden);
    }
    let plan = plan(state, &pairs)?;
    match flow::signed_in(state, &jar).await? {
        Some(signed_in) => log_out(state, jar, &signed_in.session_hash, &plan).await,
        None => Ok(after_logout(state, jar, &plan)),
    }
}

fn plan(state: &AppState, pairs: &[(String, String)]) -> Result<LogoutPlan, PageError> {
    state
        .0
        .provider
        .plan_end_session(&parse(pairs))
        .map_err(|description| PageError::BadRequest {
            title: Text::new("error-bad-sign-out-link"),
            message: Text::new("error-link-from-app"),
            detail: Some(description),
        })
}

/// Ends the browser session and revokes the tokens that lived only for it.
async fn log_out(
    state: &AppState,
    jar: CookieJar,
    session_hash: &str,
    plan: &LogoutPlan,
) -> Result<Response, PageError> {
    let now = state.0.provider.now();
    state.0.db.delete_session(session_hash).await?;
    state
        .0
        .provider
        .store
        .revoke_session_grants(session_hash, now)
        .await?;
    tracing::info!(target: "gatehouse::security", client_id = ?plan.client_id, "signed out");
    Ok(after_logout(state, cookies::clear_session(jar), plan))
}

fn after_logout(state: &AppState, jar: CookieJar, plan: &LogoutPlan) -> Response {
    match &plan.redirect {
        Some(uri) => (jar, see_other(uri)).into_response(),
        None => (
            jar,
            render_page(state, "logged_out.html", json!({}), StatusCode::OK),
        )
            .into_response(),
    }
}
