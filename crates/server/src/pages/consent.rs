//! `GET|POST /consent`: the person allows or refuses the application's access.

use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum_extra::extract::CookieJar;
use gatehouse_login::i18n::Text;
use gatehouse_login::sign_in::SignInStep;
use gatehouse_oidc::ErrorCode;
use gatehouse_oidc::authorize::SignedIn;
use serde::Deserialize;
use serde_json::json;

use super::flow::{self, SignInFor};
use super::login::FlowQuery;
use super::see_other;
use crate::error::{PageError, render_page};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct ConsentForm {
    #[serde(default)]
    flow: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    decision: String,
}

fn describe(scope: &str) -> Option<Text> {
    match scope {
        "openid" => Some(Text::new("scope-openid")),
        "profile" => Some(Text::new("scope-profile")),
        "email" => Some(Text::new("scope-email")),
        "offline_access" => Some(Text::new("scope-offline-access")),
        _ => None,
    }
}

pub async fn get(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(query): Query<FlowQuery>,
) -> Response {
    show(&state, jar, &query.flow)
        .await
        .unwrap_or_else(|e| e.render(&state))
}

async fn show(state: &AppState, jar: CookieJar, flow_id: &str) -> Result<Response, PageError> {
    let (pending, browser_id) = flow::load(state, &jar, flow_id).await?;
    let (SignInStep::Consent { .. }, SignInFor::Client { request }) =
        (&pending.step, &pending.target)
    else {
        return flow::go_to_step(state, &pending.id, &pending.step).await;
    };
    let scopes: Vec<Text> = request.scope.iter().filter_map(describe).collect();
    let context = json!({
        "flow": pending.id,
        "csrf": state.0.csrf.token(&browser_id, &flow::csrf_purpose(&pending.id)),
        "client_name": pending.target.audience_name(state),
        "scopes": scopes,
    });
    Ok(render_page(state, "consent.html", context, StatusCode::OK))
}

pub async fn post(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<ConsentForm>,
) -> Response {
    submit(&state, jar, form)
        .await
        .unwrap_or_else(|e| e.render(&state))
}

async fn submit(
    state: &AppState,
    jar: CookieJar,
    form: ConsentForm,
) -> Result<Response, PageError> {
    let (pending, _browser_id) = flow::load_submitted(state, &jar, &form.flow, &form.csrf).await?;
    let (
        SignInStep::Consent {
            user_id,
            authenticated_now,
        },
        SignInFor::Client { request },
    ) = (&pending.step, &pending.target)
    else {
        return flow::go_to_step(state, &pending.id, &pending.step).await;
    };
    // The session must still be the one that reached this step.
    let Some(session) = flow::signed_in(state, &jar)
        .await?
        .filter(|s| s.user_id == *user_id)
    else {
        return Err(PageError::expired());
    };
    let signed_in = SignedIn {
        authenticated_now: *authenticated_now,
        ..session
    };
    if form.decision != "allow" {
        let redirect = state.0.provider.error_redirect(
            request,
            ErrorCode::AccessDenied,
            "the user did not allow access",
        );
        state
            .0
            .db
            .delete_pending_sign_in(&gatehouse_oidc::token_hash(&pending.id))
            .await?;
        return Ok(see_other(&redirect));
    }
    let now = state.0.provider.now();
    state
        .0
        .db
        .save_consent(user_id, &request.client_id, &request.scope.to_string(), now)
        .await?;
    let consent = flow::consent_state(state, user_id, &request.client_id, true).await?;
    flow::advance(
        state,
        jar,
        pending.target,
        Some(signed_in),
        consent,
        Some(pending.id),
    )
    .await
}
