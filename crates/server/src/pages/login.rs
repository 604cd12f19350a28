//! `GET|POST /login`: e-mail and password.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Form, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum_extra::extract::CookieJar;
use gatehouse_login::audit as audit_kind;
use gatehouse_login::i18n::Text;
use gatehouse_login::password::Checked;
use gatehouse_login::sign_in::SignInStep;
use gatehouse_login::throttle::ThrottlePolicy;
use gatehouse_store::users::{User, normalize_email};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;

use super::flow;
use crate::audit::{self, ClientInfo};
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

const WRONG_CREDENTIALS: Text = Text::new("login-wrong-credentials");
const THROTTLED: Text = Text::new("login-throttled");

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
    if pending.step != SignInStep::Credentials {
        return flow::go_to_step(state, &pending.id, &pending.step).await;
    }
    let email = pending.target.login_hint().unwrap_or_default().to_owned();
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
    error: Option<Text>,
    status: StatusCode,
) -> Response {
    let client_name = pending.target.audience_name(state);
    let context = json!({
        "flow": pending.id,
        "csrf": state.0.csrf.token(browser_id, &flow::csrf_purpose(&pending.id)),
        "email": email,
        "error": error,
        "client_name": client_name,
        "passkeys": state.offers(gatehouse_mfa::MethodKind::Passkey),
    });
    render_page(state, "login.html", context, status)
}

pub async fn post(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    jar: CookieJar,
    client: ClientInfo,
    Form(form): Form<LoginForm>,
) -> Response {
    submit(&state, jar, peer, &client, form)
        .await
        .unwrap_or_else(|e| e.render(&state))
}

async fn submit(
    state: &AppState,
    jar: CookieJar,
    peer: SocketAddr,
    client: &ClientInfo,
    form: LoginForm,
) -> Result<Response, PageError> {
    let (pending, browser_id) = flow::load_submitted(state, &jar, &form.flow, &form.csrf).await?;
    if pending.step != SignInStep::Credentials {
        return flow::go_to_step(state, &pending.id, &pending.step).await;
    }
    if !form.email.contains('@') && !form.email.trim().is_empty() {
        // A username from before the move to e-mail sign-in: no password is checked; the person is
        // told what changed and offered the way from their old username to their address.
        let client_name = pending.target.audience_name(state);
        let context = json!({
            "flow": pending.id,
            "csrf": state.0.csrf.token(&browser_id, &flow::csrf_purpose(&pending.id)),
            "email": "",
            "error": null,
            "username_typed": true,
            "client_name": client_name,
            "passkeys": state.offers(gatehouse_mfa::MethodKind::Passkey),
        });
        return Ok(render_page(state, "login.html", context, StatusCode::OK));
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
    let Some(verified) = verify_password(state, user.as_ref(), form.password).await? else {
        return Ok(busy(state));
    };
    let user = match user {
        Some(user) if verified && !user.disabled => user,
        known => {
            let user_id = known.as_ref().map(|u| u.id.as_str());
            audit::record(
                state,
                user_id,
                audit_kind::SIGN_IN_FAILED,
                json!({ "step": "password" }),
                client,
            )
            .await;
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
    tracing::info!(target: "gatehouse::security", "password accepted");
    flow::password_accepted(state, jar, &user, pending, client).await
}

/// Hashes a new password on the blocking pool, under the same bound as sign-ins (so a burst of
/// password changes cannot outgrow memory either).
pub(super) async fn hash_new_password(
    state: &AppState,
    password: String,
) -> Result<String, PageError> {
    let secret = SecretString::from(password);
    state
        .hash(move |state| state.0.passwords.hash(&secret))
        .await
        .map_err(|_| PageError::Busy)?
        .map_err(|e| PageError::Internal(e.to_string()))
}

/// Runs the password check on a hashing thread, at most `max_concurrent_hashes` at once; without a
/// `user`, against the dummy hash (the same work). A right password against an imported legacy hash
/// (or argon2 with other parameters) is re-hashed with argon2id in the same task and stored at once.
/// `None` when the server is saturated for longer than a person should wait.
pub(super) async fn verify_password(
    state: &AppState,
    user: Option<&User>,
    password: String,
) -> Result<Option<bool>, PageError> {
    let password = SecretString::from(password);
    let hash = user.map(|u| u.password_hash.clone());
    let Ok(checked) = state
        .hash(move |state| state.0.passwords.check(hash.as_deref(), &password))
        .await
    else {
        return Ok(None);
    };
    let checked = checked.map_err(|e| PageError::Internal(e.to_string()))?;
    match (checked, user) {
        (Checked::Wrong, _) | (_, None) => Ok(Some(false)),
        (Checked::Right, Some(_)) => Ok(Some(true)),
        (Checked::RightUpgrade { upgraded }, Some(user)) => {
            let db = &state.0.db;
            // Only if the hash is still the one just verified: a concurrent change wins.
            if db
                .replace_password_hash(
                    &user.id,
                    &user.password_hash,
                    &upgraded,
                    state.0.provider.now(),
                )
                .await?
            {
                tracing::info!(target: "gatehouse::security", "password hash upgraded to argon2id");
            }
            Ok(Some(true))
        }
    }
}

/// The calm page for a storm of sign-ins: 503 with Retry-After.
pub(super) fn busy(state: &AppState) -> Response {
    PageError::Busy.render(state)
}
