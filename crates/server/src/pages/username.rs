//! From a username to an e-mail address. Someone who types a username on the sign-in page is told that
//! sign-in is now by e-mail and offered "I used to sign in with a username": the old username → a
//! one-time link (24 hours, once) e-mailed to the address on file → a new password. Unknown usernames
//! get the same answer. The link may be opened on any device (it is the e-mail that proves the person),
//! and is only used up when the new password is saved, so a mail scanner that opens it does no harm.
//!
//! Saving the new password signs the person in, as typing it on the sign-in page would: a
//! password-level session, then the second factor their policy asks for (a challenge if they have
//! one, else the set-up wizard). Where it goes next: when the link was asked for during an
//! application's sign-in and is opened in that same browser while that sign-in is still open, it
//! continues to the application (the link carries the pending sign-in's id, which only that browser
//! can use); anywhere else, to the account page.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use gatehouse_login::audit as audit_kind;
use gatehouse_login::i18n::Text;
use gatehouse_login::sign_in::SignInStep;
use gatehouse_store::outbox::OutgoingEmail;
use gatehouse_store::password_resets::PasswordReset;
use gatehouse_store::users::{User, normalize_username};
use serde::Deserialize;
use serde_json::json;

use super::flow::{self, SignInFor};
use super::password_reset::{carried, may_request};
use crate::audit::{self, ClientInfo};
use crate::cookies;
use crate::error::{PageError, render_page};
use crate::notify;
use crate::state::AppState;

const CSRF_PURPOSE: &str = "username-migration";
/// How long the e-mailed link works, in seconds.
const LINK_LIFETIME_SECONDS: i64 = 24 * 3600;
/// A link is not bound to a browser: its reset row carries no browser hash (a forgotten-password
/// reset always does, and its pages never accept this one).
const ANY_BROWSER: &str = "";

#[derive(Deserialize, Default)]
pub struct FlowQuery {
    #[serde(default)]
    flow: String,
}

#[derive(Deserialize)]
pub struct UsernameForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    flow: String,
    #[serde(default)]
    username: String,
}

#[derive(Deserialize, Default)]
pub struct LinkQuery {
    #[serde(default)]
    token: String,
    /// The pending sign-in the link was asked for in, if any.
    #[serde(default)]
    flow: String,
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    flow: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    repeat_password: String,
}

fn page(
    state: &AppState,
    browser_id: &str,
    context: serde_json::Value,
    status: StatusCode,
) -> Response {
    let mut context = context;
    context["csrf"] = json!(state.0.csrf.token(browser_id, CSRF_PURPOSE));
    render_page(state, "username.html", context, status)
}

/// `GET /login/username`: the old-username form.
pub async fn ask(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(query): Query<FlowQuery>,
) -> Response {
    let (jar, browser_id) = cookies::browser_id(jar, state.0.settings.secure_cookies);
    let context = json!({ "step": "ask", "flow": carried(&query.flow) });
    (jar, page(&state, &browser_id, context, StatusCode::OK)).into_response()
}

/// `POST /login/username`: e-mails a link to the address on file of a known username.
pub async fn request(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    jar: CookieJar,
    client: ClientInfo,
    Form(form): Form<UsernameForm>,
) -> Response {
    send_link(&state, jar, peer, &client, form)
        .await
        .unwrap_or_else(|e| e.render(&state))
}

async fn send_link(
    state: &AppState,
    jar: CookieJar,
    peer: SocketAddr,
    client: &ClientInfo,
    form: UsernameForm,
) -> Result<Response, PageError> {
    let (jar, browser_id) = cookies::browser_id(jar, state.0.settings.secure_cookies);
    super::check_csrf(state, &browser_id, CSRF_PURPOSE, &form.csrf)?;
    let flow = carried(&form.flow);
    let username = normalize_username(&form.username);
    if username.is_empty() || username.len() > 254 {
        let context = json!({ "step": "ask", "flow": flow, "error": Text::new("username-empty") });
        return Ok((
            jar,
            page(state, &browser_id, context, StatusCode::BAD_REQUEST),
        )
            .into_response());
    }
    if !may_request(state, &format!("username:{username}"), peer).await? {
        let context =
            json!({ "step": "ask", "flow": flow, "error": Text::new("username-too-often") });
        return Ok((jar, page(state, &browser_id, context, StatusCode::OK)).into_response());
    }
    let user = state
        .0
        .db
        .user_by_legacy_username(&username)
        .await?
        .filter(|u| !u.disabled);
    let now = state.0.provider.now();
    let token = gatehouse_login::csrf::random_id();
    let reset = PasswordReset {
        id_hash: gatehouse_oidc::token_hash(&token),
        browser_hash: ANY_BROWSER.to_owned(),
        user_id: user.as_ref().map(|u| u.id.clone()),
        email: user.as_ref().map(|u| u.email.clone()).unwrap_or_default(),
        code: String::new(),
        attempts: 0,
        created_at: now,
        expires_at: now + LINK_LIFETIME_SECONDS,
        // Holding the link is what the code proves in a forgotten-password reset.
        verified_at: Some(now),
        used_at: None,
    };
    let mail = match &user {
        Some(user) => Some(link_email(state, user, &token, flow)?),
        None => None,
    };
    state
        .0
        .db
        .start_password_reset(&reset, mail.as_ref())
        .await?;
    if let Some(user) = &user {
        state.wake_outbox();
        audit::record(
            state,
            Some(&user.id),
            audit_kind::PASSWORD_RESET_REQUESTED,
            json!({ "via": "username" }),
            client,
        )
        .await;
    }
    tracing::info!(target: "gatehouse::security", "username migration link asked for");
    let context = json!({ "step": "sent", "flow": flow });
    Ok((jar, page(state, &browser_id, context, StatusCode::OK)).into_response())
}

fn link_email(
    state: &AppState,
    user: &User,
    token: &str,
    flow: &str,
) -> Result<OutgoingEmail, PageError> {
    let service = &state.0.settings.display_name;
    let mut url = format!("{}/login/welcome?token={token}", state.0.provider.issuer);
    if !flow.is_empty() {
        url.push_str(&format!("&flow={flow}"));
    }
    notify::themed_email(
        state,
        "username_link.txt",
        json!({ "url": url, "hours": LINK_LIFETIME_SECONDS / 3600, "service": service, "email": user.email }),
        &user.email,
        state.text(&notify::service_text(state, "username-mail-subject")),
    )
    .map_err(PageError::Internal)
}

/// The link's reset and its account, if it still works at `now`.
async fn usable_link(
    state: &AppState,
    token: &str,
) -> Result<Option<(PasswordReset, User)>, PageError> {
    let now = state.0.provider.now();
    let Some(reset) = state
        .0
        .db
        .password_reset(&gatehouse_oidc::token_hash(token))
        .await?
        .filter(|r| r.browser_hash == ANY_BROWSER && r.used_at.is_none() && now < r.expires_at)
    else {
        return Ok(None);
    };
    let Some(user_id) = reset.user_id.as_deref() else {
        return Ok(None);
    };
    let user = state.0.db.user(user_id).await?.filter(|u| !u.disabled);
    Ok(user.map(|u| (reset, u)))
}

fn link_refused() -> PageError {
    PageError::bad_request("error-link-used-title", "error-link-used-text")
}

/// `GET /login/welcome`: the new-password form behind the e-mailed link.
pub async fn welcome(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(query): Query<LinkQuery>,
) -> Response {
    show_welcome(&state, jar, &query)
        .await
        .unwrap_or_else(|e| e.render(&state))
}

async fn show_welcome(
    state: &AppState,
    jar: CookieJar,
    query: &LinkQuery,
) -> Result<Response, PageError> {
    let Some((_, user)) = usable_link(state, &query.token).await? else {
        return Err(link_refused());
    };
    let (jar, browser_id) = cookies::browser_id(jar, state.0.settings.secure_cookies);
    let context = json!({
        "step": "new",
        "token": query.token,
        "flow": carried(&query.flow),
        "email": user.email,
        "rules": state.password_policy(&user.organisation_id).summary(),
    });
    Ok((jar, page(state, &browser_id, context, StatusCode::OK)).into_response())
}

/// `POST /login/welcome`: saves the new password; the link is used up.
pub async fn set_password(
    State(state): State<AppState>,
    jar: CookieJar,
    client: ClientInfo,
    Form(form): Form<PasswordForm>,
) -> Response {
    save_password(&state, jar, &client, form)
        .await
        .unwrap_or_else(|e| e.render(&state))
}

async fn save_password(
    state: &AppState,
    jar: CookieJar,
    client: &ClientInfo,
    form: PasswordForm,
) -> Result<Response, PageError> {
    let (jar, browser_id) = cookies::browser_id(jar, state.0.settings.secure_cookies);
    super::check_csrf(state, &browser_id, CSRF_PURPOSE, &form.csrf)?;
    let Some((reset, user)) = usable_link(state, &form.token).await? else {
        return Err(link_refused());
    };
    let problems = super::security::new_password_problems(
        state,
        &user,
        &form.new_password,
        &form.repeat_password,
    );
    if !problems.is_empty() {
        let context = json!({
            "step": "new",
            "token": form.token,
            "flow": carried(&form.flow),
            "email": user.email,
            "rules": state.password_policy(&user.organisation_id).summary(),
            "problems": problems,
        });
        return Ok((
            jar,
            page(state, &browser_id, context, StatusCode::BAD_REQUEST),
        )
            .into_response());
    }
    let saved = super::password_reset::set_password_with(
        state,
        &reset,
        &user,
        form.new_password,
        Text::new("notice-password-set-by-link"),
        json!({ "via": "username" }),
        client,
    )
    .await?;
    if !saved {
        return Err(link_refused());
    }
    tracing::info!(target: "gatehouse::security", "password set from a username link");
    let (jar, pending) = match app_sign_in_here(state, &jar, &form.flow).await? {
        Some(pending) => (jar, pending),
        None => {
            flow::start_pending(state, jar, SignInFor::AccountSetUp, SignInStep::Credentials)
                .await?
        }
    };
    flow::password_accepted(state, jar, &user, pending, client).await
}

/// The application's sign-in the link was asked for in, when it is still waiting for a password in
/// this browser (one that expired, or belongs to another browser, is simply not continued).
async fn app_sign_in_here(
    state: &AppState,
    jar: &CookieJar,
    flow_id: &str,
) -> Result<Option<flow::Pending>, PageError> {
    if carried(flow_id).is_empty() {
        return Ok(None);
    }
    let Ok((pending, _)) = flow::load(state, jar, flow_id).await else {
        return Ok(None);
    };
    let waiting = pending.step == SignInStep::Credentials
        && matches!(pending.target, SignInFor::Client { .. });
    Ok(waiting.then_some(pending))
}
