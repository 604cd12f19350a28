//! Security actions on the account page: confirming the password before adding a factor, changing
//! the password, and forgetting remembered devices.

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use gatehouse_login::audit as audit_kind;
use gatehouse_login::i18n::Text;
use gatehouse_login::password_policy::{self, PolicyViolation};
use gatehouse_mfa::{MethodKind, assurance};
use gatehouse_store::users::User;
use serde::Deserialize;
use serde_json::json;

use super::account::{
    CSRF_PURPOSE, account_form, check_offered, page_with_problems, password_form,
};
use super::{flow, see_other};
use crate::audit::{self, ClientInfo};
use crate::cookies;
use crate::error::{PageError, render_page};
use crate::notify;
use crate::state::AppState;

/// Above the list of what is wrong with a new password.
const NOT_CHANGED: Text = Text::new("password-not-changed");

/// How recently a person must have authenticated to add a second factor.
const RECENT_SECONDS: i64 = 10 * 60;

/// Whether this person may add `method` now: their organisation offers it, and they authenticated in
/// the last ten minutes. `Some` is the page to show instead: "confirm it's you" with the password,
/// coming back to `next` (an `/account/…` path).
pub(super) async fn may_add(
    state: &AppState,
    jar: &CookieJar,
    user: &User,
    method: MethodKind,
    next: &str,
) -> Result<Option<Response>, PageError> {
    check_offered(state, user, method)?;
    confirm_unless_recent(state, jar, next).await
}

/// `None` when the session's sign-in is recent enough to change what signs it in; else the page that
/// asks for the password again and then goes on to `next`.
pub(super) async fn confirm_unless_recent(
    state: &AppState,
    jar: &CookieJar,
    next: &str,
) -> Result<Option<Response>, PageError> {
    let Some(session) = flow::signed_in(state, jar).await? else {
        return Ok(None);
    };
    if state.0.provider.now() - session.auth_time <= RECENT_SECONDS {
        return Ok(None);
    }
    let browser_id = jar
        .get(cookies::BROWSER)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    let context = json!({ "csrf": state.0.csrf.token(&browser_id, CSRF_PURPOSE), "next": next });
    Ok(Some(render_page(
        state,
        "confirm_password.html",
        context,
        StatusCode::OK,
    )))
}

#[derive(Deserialize)]
pub struct ConfirmPasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// `POST /account/confirm`: the password again; the session is renewed with a fresh `auth_time`.
pub async fn confirm_password(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<ConfirmPasswordForm>,
) -> Response {
    reauthenticate(&state, jar, form)
        .await
        .unwrap_or_else(|e| e.render(&state))
}

async fn reauthenticate(
    state: &AppState,
    jar: CookieJar,
    form: ConfirmPasswordForm,
) -> Result<Response, PageError> {
    let Some(session) = flow::signed_in(state, &jar).await? else {
        return Err(PageError::expired());
    };
    let (jar, user) = match password_form(state, jar, &form.csrf, form.password).await? {
        Ok(found) => found,
        Err(response) => return Ok(response),
    };
    // Keep what the session had proved; only its time is renewed.
    let known = assurance::ACR_LEVELS
        .iter()
        .chain([&assurance::ACR_REMEMBERED_DEVICE]);
    let acr = session
        .acr
        .as_deref()
        .and_then(|acr| known.copied().find(|level| *level == acr))
        .unwrap_or(assurance::ACR_PASSWORD);
    let (jar, _) = flow::start_session(state, jar, &user.id, session.amr, acr).await?;
    // Only back to an account page: never an open redirect.
    let next = if form.next.starts_with("/account/") && !form.next.contains("//") {
        form.next
    } else {
        "/account".to_owned()
    };
    Ok((jar, see_other(&next)).into_response())
}

#[derive(Deserialize)]
pub struct ForgetDeviceForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    device: String,
}

/// `POST /account/devices/forget`: that device is asked for the second step again.
pub async fn forget_device(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<ForgetDeviceForm>,
) -> Response {
    forget(&state, jar, form)
        .await
        .unwrap_or_else(|e| e.render(&state))
}

async fn forget(
    state: &AppState,
    jar: CookieJar,
    form: ForgetDeviceForm,
) -> Result<Response, PageError> {
    let (jar, user, _) = match account_form(state, jar, &form.csrf).await? {
        Ok(found) => found,
        Err(sign_in) => return Ok(sign_in),
    };
    state
        .0
        .db
        .forget_devices(&user.id, Some(&form.device))
        .await?;
    tracing::info!(target: "gatehouse::security", "remembered device forgotten");
    Ok((jar, see_other("/account?notice=device-forgotten")).into_response())
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    repeat_password: String,
}

/// What is wrong with a new password typed twice, by the rules of the person's organisation: every
/// broken rule, in words that say what to do.
pub(super) fn new_password_problems(
    state: &AppState,
    user: &User,
    new_password: &str,
    repeat_password: &str,
) -> Vec<Text> {
    let mut problems = Vec::new();
    if new_password != repeat_password {
        problems.push(Text::new("password-repeat-differs"));
    }
    let policy = state.password_policy(&user.organisation_id);
    if let Err(broken) = password_policy::check(&policy, new_password, &user.email) {
        problems.extend(broken.iter().map(PolicyViolation::message));
    }
    problems
}

/// `POST /account/password`: the current password, and the new one twice. Other sessions end and
/// remembered devices are forgotten; the person gets a notice by e-mail.
pub async fn change_password(
    State(state): State<AppState>,
    jar: CookieJar,
    client: ClientInfo,
    Form(form): Form<PasswordForm>,
) -> Response {
    new_password(&state, jar, &client, form)
        .await
        .unwrap_or_else(|e| e.render(&state))
}

async fn new_password(
    state: &AppState,
    jar: CookieJar,
    client: &ClientInfo,
    form: PasswordForm,
) -> Result<Response, PageError> {
    let PasswordForm {
        csrf,
        current_password,
        new_password,
        repeat_password,
    } = form;
    let (jar, user) = match password_form(state, jar, &csrf, current_password.clone()).await? {
        Ok(found) => found,
        Err(response) => return Ok(response),
    };
    let mut problems = new_password_problems(state, &user, &new_password, &repeat_password);
    if new_password == current_password {
        problems.push(Text::new("password-same-as-current"));
    }
    if !problems.is_empty() {
        return page_with_problems(state, jar, None, Some(NOT_CHANGED), &problems).await;
    }
    let hash = super::login::hash_new_password(state, new_password).await?;
    let now = state.0.provider.now();
    let db = &state.0.db;
    db.set_password_hash(&user.id, &hash, now).await?;
    db.forget_devices(&user.id, None).await?;
    if let Some(current) = jar.get(cookies::SESSION) {
        db.end_other_sessions(&user.id, &gatehouse_oidc::token_hash(current.value()))
            .await?;
    }
    audit::record(
        state,
        Some(&user.id),
        audit_kind::PASSWORD_CHANGED,
        json!({}),
        client,
    )
    .await;
    notify::security_notice(
        state,
        &user.id,
        Text::new("notice-password-changed"),
        client,
    )
    .await;
    tracing::info!(target: "gatehouse::security", "password changed");
    Ok((jar, see_other("/account?notice=password-changed")).into_response())
}
