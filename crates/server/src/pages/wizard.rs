//! `GET /mfa/setup`: the set-up wizard for someone who must use a second factor but has none. They
//! are signed in with the password only; they choose a method their organisation allows, add it on the
//! usual enrolment page (which carries `flow` through), save their recovery codes, and the original
//! authorization request continues.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum_extra::extract::CookieJar;
use gatehouse_login::sign_in::SignInStep;
use gatehouse_mfa::{MethodKind, policy};
use serde_json::json;

use super::flow;
use super::login::FlowQuery;
use crate::error::{PageError, render_page};
use crate::state::AppState;
use gatehouse_login::i18n::Text;

fn describe(method: MethodKind) -> (&'static str, Text) {
    match method {
        MethodKind::Passkey => ("/account/passkey", Text::new("wizard-choice-passkey")),
        MethodKind::Totp => ("/account/totp", Text::new("wizard-choice-totp")),
        MethodKind::Sms => ("/account/sms", Text::new("wizard-choice-sms")),
        MethodKind::Email => ("/account/email", Text::new("wizard-choice-email")),
        MethodKind::RecoveryCode => ("/account", Text::new("wizard-choice-recovery")),
    }
}

pub async fn show(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(query): Query<FlowQuery>,
) -> Response {
    page(&state, jar, &query.flow)
        .await
        .unwrap_or_else(|e| e.render(&state))
}

async fn page(state: &AppState, jar: CookieJar, flow_id: &str) -> Result<Response, PageError> {
    let (pending, _) = flow::load(state, &jar, flow_id).await?;
    let SignInStep::Enrol {
        user_id,
        minimum_acr,
    } = &pending.step
    else {
        return flow::go_to_step(state, &pending.id, &pending.step).await;
    };
    let Some(user) = flow::signed_in(state, &jar)
        .await?
        .filter(|s| s.user_id == *user_id)
    else {
        return Err(PageError::expired());
    };
    let Some(person) = state.0.db.user(&user.user_id).await? else {
        return Err(PageError::expired());
    };
    let choices: Vec<_> = [
        MethodKind::Passkey,
        MethodKind::Totp,
        MethodKind::Sms,
        MethodKind::Email,
    ]
    .into_iter()
    .filter(|m| {
        state.offers_to(&person.organisation_id, *m) && policy::method_reaches(*m, minimum_acr)
    })
    .map(|m| {
        let (path, label) = describe(m);
        json!({ "href": format!("{path}?flow={}", pending.id), "label": label })
    })
    .collect();
    let context = json!({
        "choices": choices,
        "client_name": pending.target.audience_name(state),
        "organisation": state.organisation(&person.organisation_id).map(|o| o.display_name.clone()),
    });
    Ok(render_page(
        state,
        "mfa_setup.html",
        context,
        StatusCode::OK,
    ))
}
