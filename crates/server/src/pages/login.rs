//! `GET|POST /login`: e-mail and password.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, Form, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use gatehouse_login::sign_in::{ACR_PASSWORD, SignInStep};
use gatehouse_login::throttle::ThrottlePolicy;
use gatehouse_oidc::authorize::SignedIn;
use gatehouse_store::sessions::BrowserSession;
use gatehouse_store::users::normalize_email;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;

use super::{flow, see_other};
use crate::cookies;
use crate::error::{PageError, render_page};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct FlowQuery {
    #[serde(default)]
    pub flow: String,
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    flow: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

const WRONG_CREDENTIALS: &str =
    "The e-mail address or password is not right. Check both and try again.";
const THROTTLED: &str = "There were too many attempts to sign in. Wait 15 minutes, then try again.";

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
    if matches!(pending.step, SignInStep::Consent { .. }) {
        return Ok(see_other(&format!("/consent?flow={flow_id}")));
    }
    let email = pending.request.login_hint.clone().unwrap_or_default();
    Ok(form_page(
        state,
        &pending,
        &browser_id,
        &email,
        None,
        StatusCode::OK,
    ))
}

fn form_page(
    state: &AppState,
    pending: &flow::Pending,
    browser_id: &str,
    email: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let client_name = state
        .0
        .provider
        .clients
        .get(&pending.request.client_id)
        .map(|c| c.name.clone())
        .unwrap_or_default();
    let context = json!({
        "flow": pending.id,
        "csrf": state.0.csrf.token(browser_id, &flow::csrf_purpose(&pending.id)),
        "email": email,
        "error": error,
        "client_name": client_name,
    });
    render_page(state, "login.html", context, status)
}

pub async fn post(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Response {
    submit(&state, jar, peer, form)
        .await
        .unwrap_or_else(|e| e.render(&state))
}

async fn submit(
    state: &AppState,
    jar: CookieJar,
    peer: SocketAddr,
    form: LoginForm,
) -> Result<Response, PageError> {
    let (pending, browser_id) = flow::load_submitted(state, &jar, &form.flow, &form.csrf).await?;
    if pending.step != SignInStep::Credentials {
        return Ok(see_other(&format!("/consent?flow={}", pending.id)));
    }
    let email = normalize_email(&form.email);
    let policy = state.0.settings.throttle;
    let now = state.0.provider.now();
    let account_key = ThrottlePolicy::account_key(&email);
    let address_key = ThrottlePolicy::address_key(&peer.ip().to_string());
    let since = policy.counting_since(now);
    let db = &state.0.db;
    if policy.account_blocked(db.failures_since(&account_key, since).await?)
        || policy.address_blocked(db.failures_since(&address_key, since).await?)
    {
        tracing::warn!(target: "gatehouse::security", "sign-in throttled");
        return Ok(form_page(
            state,
            &pending,
            &browser_id,
            &form.email,
            Some(THROTTLED),
            StatusCode::TOO_MANY_REQUESTS,
        ));
    }

    let user = db.user_by_email(&email).await?;
    let Some(verified) = verify_password(
        state,
        user.as_ref().map(|u| u.password_hash.clone()),
        form.password,
    )
    .await?
    else {
        return Ok(busy());
    };
    let user = match user {
        Some(user) if verified && !user.disabled => user,
        _ => {
            let window = policy.window_start(now);
            db.record_failure(&account_key, window).await?;
            db.record_failure(&address_key, window).await?;
            tracing::info!(target: "gatehouse::security", "sign-in failed");
            return Ok(form_page(
                state,
                &pending,
                &browser_id,
                &form.email,
                Some(WRONG_CREDENTIALS),
                StatusCode::OK,
            ));
        }
    };
    db.clear_failures(&account_key).await?;

    // A fresh session id on every sign-in (no session fixation).
    let session_id = gatehouse_login::csrf::random_id();
    let session = BrowserSession {
        id_hash: gatehouse_oidc::token_hash(&session_id),
        user_id: user.id.clone(),
        auth_time: now,
        amr: vec!["pwd".to_owned()],
        acr: Some(ACR_PASSWORD.to_owned()),
        created_at: now,
        expires_at: now + state.0.settings.session_lifetime,
    };
    db.create_session(&session).await?;
    if let Some(old) = jar.get(cookies::SESSION) {
        db.delete_session(&gatehouse_oidc::token_hash(old.value()))
            .await?;
    }
    let jar = jar.add(cookies::build(
        cookies::SESSION,
        session_id,
        state.0.settings.secure_cookies,
    ));
    tracing::info!(target: "gatehouse::security", client_id = %pending.request.client_id, "signed in with password");

    let signed_in = SignedIn {
        user_id: user.id.clone(),
        auth_time: now,
        amr: session.amr,
        acr: session.acr,
        session_hash: session.id_hash,
        authenticated_now: true,
    };
    let consent = flow::consent_state(state, &user.id, &pending.request.client_id, false).await?;
    flow::advance(
        state,
        jar,
        pending.request,
        Some(signed_in),
        consent,
        Some(pending.id),
    )
    .await
}

/// Runs the password check on the blocking pool, at most `max_concurrent_hashes` at once. `None` when
/// the server is saturated for longer than a person should wait.
async fn verify_password(
    state: &AppState,
    hash: Option<String>,
    password: String,
) -> Result<Option<bool>, PageError> {
    let Ok(Ok(permit)) =
        tokio::time::timeout(Duration::from_secs(10), state.0.hashing.acquire()).await
    else {
        return Ok(None);
    };
    let passwords = state.0.passwords.clone();
    let password = SecretString::from(password);
    let verified =
        tokio::task::spawn_blocking(move || passwords.verify(hash.as_deref(), &password))
            .await
            .map_err(|e| PageError::Internal(e.to_string()))?;
    drop(permit);
    Ok(Some(verified))
}

fn busy() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "5")],
        "Sign-in is very busy right now. Try again in a few seconds.",
    )
        .into_response()
}
