//! Passkeys on the hosted pages: creating one on the account page, using one as the second step after
//! the password, and signing in with a passkey alone.
//!
//! Every ceremony works the same way: the page embeds the WebAuthn options and a ceremony id,
//! `static/passkey.js` asks the browser for the credential and posts it in an ordinary form, and the
//! server *takes* the ceremony's state (once) before checking the answer.

use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use gatehouse_login::audit as audit_kind;
use gatehouse_login::i18n::Text;
use gatehouse_login::sign_in::SignInStep;
use gatehouse_login::throttle::ThrottlePolicy;
use gatehouse_mfa::attempts::AttemptPolicy;
use gatehouse_mfa::passkey::{
    AuthenticationOutcome, KeyProtection, PasskeyPrompt, Passkeys, StoredPasskey,
};
use gatehouse_mfa::{MethodKind, assurance};
use gatehouse_store::factors::StoredFactor;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::account::{
    Added, CSRF_PURPOSE, WizardQuery, account_form, factor_added, new_factor_id, signed_in_user,
};
use super::flow;
use super::login::FlowQuery;
use super::security::may_add;
use crate::audit::{self, ClientInfo};
use crate::error::{PageError, render_page};
use crate::state::AppState;

const REGISTER: &str = "passkey-register";
const SECOND_FACTOR: &str = "passkey-second-factor";
const SIGN_IN: &str = "passkey-sign-in";

fn service(state: &AppState) -> Result<&Passkeys, PageError> {
    if !state.0.settings.mfa_methods.contains(&MethodKind::Passkey) {
        return Err(super::account::not_offered());
    }
    state
        .0
        .passkeys
        .as_ref()
        .ok_or_else(|| PageError::bad_request("error-no-passkeys-title", "error-no-passkeys-text"))
}

/// Stores a ceremony's state and returns the id the page carries.
async fn begin(
    state: &AppState,
    purpose: &str,
    user_id: Option<&str>,
    ceremony_state: &impl serde::Serialize,
) -> Result<String, PageError> {
    let id = gatehouse_login::csrf::random_id();
    let json =
        serde_json::to_string(ceremony_state).map_err(|e| PageError::Internal(e.to_string()))?;
    let expires_at = state.0.provider.now() + gatehouse_mfa::passkey::CEREMONY_SECONDS;
    state
        .0
        .db
        .insert_ceremony(
            &gatehouse_oidc::token_hash(&id),
            purpose,
            user_id,
            &json,
            expires_at,
        )
        .await?;
    Ok(id)
}

/// Takes a ceremony's state, once; `None` when it is unknown, used, expired, or someone else's.
async fn take<S: DeserializeOwned>(
    state: &AppState,
    id: &str,
    purpose: &str,
    user_id: Option<&str>,
) -> Result<Option<S>, PageError> {
    let now = state.0.provider.now();
    let Some((owner, json)) = state
        .0
        .db
        .take_ceremony(&gatehouse_oidc::token_hash(id), purpose, now)
        .await?
    else {
        return Ok(None);
    };
    if owner.as_deref() != user_id {
        return Ok(None);
    }
    Ok(serde_json::from_str(&json).ok())
}

/// A user's passkeys as the passkey service wants them.
async fn stored_passkeys(
    state: &AppState,
    user_id: &str,
) -> Result<Vec<(StoredFactor, StoredPasskey)>, PageError> {
    Ok(state
        .0
        .db
        .factors(user_id)
        .await?
        .into_iter()
        .filter(|f| f.kind == MethodKind::Passkey.as_str())
        .filter_map(|f| {
            serde_json::from_str::<StoredPasskey>(&f.detail)
                .ok()
                .map(|p| (f, p))
        })
        .collect())
}

/// Saves the counter and flags a passkey reported, and returns its factor.
async fn record_use(
    state: &AppState,
    outcome: &AuthenticationOutcome,
    factors: &[(StoredFactor, StoredPasskey)],
) -> Result<(), PageError> {
    let now = state.0.provider.now();
    if let Some((factor, _)) = factors
        .iter()
        .find(|(_, p)| p.credential_id == outcome.credential_id)
    {
        let detail = match &outcome.update {
            Some(updated) => {
                serde_json::to_string(updated).map_err(|e| PageError::Internal(e.to_string()))?
            }
            None => factor.detail.clone(),
        };
        state
            .0
            .db
            .update_factor_detail(&factor.id, &detail, now)
            .await?;
    }
    Ok(())
}

fn user_handle(user_id: &str) -> Result<uuid::Uuid, PageError> {
    uuid::Uuid::parse_str(user_id)
        .map_err(|e| PageError::Internal(format!("user id is not a UUID: {e}")))
}

// --- Creating a passkey on the account page ---------------------------------------------------

/// `GET /account/passkey`.
pub async fn register_start(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(query): Query<WizardQuery>,
) -> Response {
    register_page(&state, jar, None, query.flow.as_deref())
        .await
        .unwrap_or_else(|e| e.render(&state))
}

async fn register_page(
    state: &AppState,
    jar: CookieJar,
    error: Option<Text>,
    flow: Option<&str>,
) -> Result<Response, PageError> {
    let passkeys = service(state)?;
    let (jar, user, browser_id) = match signed_in_user(state, jar).await? {
        Ok(found) => found,
        Err(sign_in) => return Ok(sign_in),
    };
    if let Some(confirm) =
        may_add(state, &jar, &user, MethodKind::Passkey, "/account/passkey").await?
    {
        return Ok((jar, confirm).into_response());
    }
    let existing: Vec<StoredPasskey> = stored_passkeys(state, &user.id)
        .await?
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    let (options, ceremony_state) = passkeys
        .start_registration(
            user_handle(&user.id)?,
            &user.email,
            &user.name,
            &existing,
            state.0.provider.now(),
        )
        .map_err(|e| PageError::Internal(e.to_string()))?;
    let ceremony = begin(state, REGISTER, Some(&user.id), &ceremony_state).await?;
    let context = json!({
        "csrf": state.0.csrf.token(&browser_id, CSRF_PURPOSE),
        "ceremony": ceremony,
        "options": options,
        "error": error,
        "flow": flow,
    });
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok((
        jar,
        render_page(state, "passkey_register.html", context, status),
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    flow: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    ceremony: String,
    #[serde(default)]
    credential: String,
    #[serde(default)]
    label: String,
}

/// `POST /account/passkey`.
pub async fn register_finish(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<RegisterForm>,
) -> Response {
    register(&state, jar, form)
        .await
        .unwrap_or_else(|e| e.render(&state))
}

async fn register(
    state: &AppState,
    jar: CookieJar,
    form: RegisterForm,
) -> Result<Response, PageError> {
    let passkeys = service(state)?;
    let (jar, user, _) = match account_form(state, jar, &form.csrf).await? {
        Ok(found) => found,
        Err(sign_in) => return Ok(sign_in),
    };
    if let Some(confirm) =
        may_add(state, &jar, &user, MethodKind::Passkey, "/account/passkey").await?
    {
        return Ok((jar, confirm).into_response());
    }
    let flow = Some(form.flow.as_str()).filter(|f| !f.is_empty());
    const FAILED: Text = Text::new("passkey-not-created");
    let Some(ceremony_state) = take(state, &form.ceremony, REGISTER, Some(&user.id)).await? else {
        return register_page(state, jar, Some(FAILED), flow).await;
    };
    let now = state.0.provider.now();
    let stored = match passkeys.finish_registration(ceremony_state, &form.credential, now) {
        Ok(stored) => stored,
        Err(e) => {
            tracing::warn!(target: "gatehouse::security", error = %e, "passkey registration refused");
            return register_page(state, jar, Some(FAILED), flow).await;
        }
    };
    // One credential, one account.
    if state
        .0
        .db
        .factor_by_credential(&stored.credential_id)
        .await?
        .is_some()
    {
        return register_page(state, jar, Some(FAILED), flow).await;
    }
    let existing = state.0.db.factors(&user.id).await?;
    let label = match form.label.trim() {
        "" => state.text(&Text::new("method-passkey")),
        label => label.chars().take(60).collect(),
    };
    state
        .0
        .db
        .add_factor(&StoredFactor {
            id: new_factor_id(),
            user_id: user.id.clone(),
            kind: MethodKind::Passkey.as_str().to_owned(),
            label,
            secret_sealed: None,
            detail: serde_json::to_string(&stored)
                .map_err(|e| PageError::Internal(e.to_string()))?,
            is_default: existing.is_empty(),
            created_at: now,
            last_used_at: None,
            last_step: None,
            credential_id: Some(stored.credential_id.clone()),
        })
        .await?;
    tracing::info!(target: "gatehouse::security", "passkey added");
    let protection = if stored.backup_eligible {
        KeyProtection::Synced
    } else {
        KeyProtection::DeviceBound
    };
    let added = Added {
        user_id: &user.id,
        first: existing.is_empty(),
        now,
        amr: assurance::passkey_amr(protection, true),
        acr: assurance::ACR_PHISHING_RESISTANT,
        flow,
    };
    factor_added(state, jar, added).await
}

// --- A passkey as the second step -------------------------------------------------------------

/// Starts a second-factor ceremony for the `/mfa` page: the options and the ceremony id.
pub async fn second_factor_options(
    state: &AppState,
    user_id: &str,
) -> Result<Option<(serde_json::Value, String)>, PageError> {
    let Some(passkeys) = state.0.passkeys.as_ref() else {
        return Ok(None);
    };
    let stored: Vec<StoredPasskey> = stored_passkeys(state, user_id)
        .await?
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    if stored.is_empty() {
        return Ok(None);
    }
    let (options, ceremony_state) = passkeys
        .start_authentication(user_handle(user_id)?, &stored, state.0.provider.now())
        .map_err(|e| PageError::Internal(e.to_string()))?;
    let ceremony = begin(state, SECOND_FACTOR, Some(user_id), &ceremony_state).await?;
    Ok(Some((options, ceremony)))
}

/// Checks a passkey answer on the `/mfa` page; `Some` with the `amr` it earned when it is good.
pub async fn verify_second_factor(
    state: &AppState,
    user_id: &str,
    ceremony: &str,
    credential: &str,
) -> Result<Option<Vec<String>>, PageError> {
    let Some(passkeys) = state.0.passkeys.as_ref() else {
        return Ok(None);
    };
    let Some(ceremony_state) = take(state, ceremony, SECOND_FACTOR, Some(user_id)).await? else {
        return Ok(None);
    };
    let factors = stored_passkeys(state, user_id).await?;
    let stored: Vec<StoredPasskey> = factors.iter().map(|(_, p)| p.clone()).collect();
    match passkeys.finish_authentication(
        ceremony_state,
        credential,
        &stored,
        state.0.provider.now(),
    ) {
        Ok(outcome) => {
            record_use(state, &outcome, &factors).await?;
            Ok(Some(assurance::passkey_amr(outcome.key_protection(), true)))
        }
        Err(e) => {
            tracing::warn!(target: "gatehouse::security", error = %e, "passkey second factor refused");
            Ok(None)
        }
    }
}

// --- Signing in with a passkey alone ----------------------------------------------------------

/// `GET /login/passkey?flow=…`: the "Sign in with a passkey" page of a pending sign-in.
pub async fn sign_in_start(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(query): Query<FlowQuery>,
) -> Response {
    sign_in_page(&state, jar, &query.flow, None)
        .await
        .unwrap_or_else(|e| e.render(&state))
}

async fn sign_in_page(
    state: &AppState,
    jar: CookieJar,
    flow_id: &str,
    error: Option<Text>,
) -> Result<Response, PageError> {
    let passkeys = service(state)?;
    let (pending, browser_id) = flow::load(state, &jar, flow_id).await?;
    if pending.step != SignInStep::Credentials {
        return flow::go_to_step(state, &pending.id, &pending.step).await;
    }
    let (options, ceremony_state) = passkeys
        .start_discoverable(PasskeyPrompt::Modal, state.0.provider.now())
        .map_err(|e| PageError::Internal(e.to_string()))?;
    let ceremony = begin(state, SIGN_IN, None, &ceremony_state).await?;
    let context = json!({
        "flow": pending.id,
        "csrf": state.0.csrf.token(&browser_id, &flow::csrf_purpose(&pending.id)),
        "ceremony": ceremony,
        "options": options,
        "client_name": pending.target.audience_name(state),
        "error": error,
    });
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok(render_page(state, "passkey_sign_in.html", context, status))
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    flow: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    ceremony: String,
    #[serde(default)]
    credential: String,
}

/// `POST /login/passkey`.
pub async fn sign_in_finish(
    State(state): State<AppState>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    jar: CookieJar,
    client: ClientInfo,
    Form(form): Form<SignInForm>,
) -> Response {
    sign_in(&state, jar, peer, &client, form)
        .await
        .unwrap_or_else(|e| e.render(&state))
}

async fn sign_in(
    state: &AppState,
    jar: CookieJar,
    peer: std::net::SocketAddr,
    client: &ClientInfo,
    form: SignInForm,
) -> Result<Response, PageError> {
    let passkeys = service(state)?;
    let (pending, _) = flow::load_submitted(state, &jar, &form.flow, &form.csrf).await?;
    if pending.step != SignInStep::Credentials {
        return flow::go_to_step(state, &pending.id, &pending.step).await;
    }
    const FAILED: Text = Text::new("passkey-not-usable");
    let policy = state.0.settings.throttle;
    let now = state.0.provider.now();
    let address_key = ThrottlePolicy::address_key(&peer.ip().to_string());
    if policy.address_blocked(
        state
            .0
            .db
            .failures_since(&address_key, policy.counting_since(now))
            .await?,
    ) {
        return sign_in_page(state, jar, &pending.id, Some(FAILED)).await;
    }
    let verified = match take(state, &form.ceremony, SIGN_IN, None).await? {
        None => None,
        Some(ceremony_state) => {
            identify_and_finish(state, passkeys, ceremony_state, &form.credential, now).await?
        }
    };
    let Some((user_id, amr)) = verified else {
        state
            .0
            .db
            .record_failure(&address_key, policy.window_start(now))
            .await?;
        audit::record(
            state,
            None,
            audit_kind::SIGN_IN_FAILED,
            json!({ "step": "passkey" }),
            client,
        )
        .await;
        return sign_in_page(state, jar, &pending.id, Some(FAILED)).await;
    };
    audit::signed_in(
        state,
        &user_id,
        json!({ "amr": amr, "method": "passkey" }),
        client,
    )
    .await;
    // A passkey sign-in also clears a lock on the code factors (it is "another route").
    state
        .0
        .db
        .clear_failures(&AttemptPolicy::consecutive_key(&user_id))
        .await?;
    tracing::info!(target: "gatehouse::security", "signed in with a passkey");
    let (jar, signed_in) =
        flow::start_session(state, jar, &user_id, amr, assurance::ACR_PHISHING_RESISTANT).await?;
    flow::continue_signed_in(state, jar, pending, signed_in).await
}

/// Finds whose passkey answered, checks it, and returns the user and the `amr` earned.
async fn identify_and_finish(
    state: &AppState,
    passkeys: &Passkeys,
    ceremony_state: gatehouse_mfa::passkey::DiscoverableState,
    credential: &str,
    now: i64,
) -> Result<Option<(String, Vec<String>)>, PageError> {
    let Ok(identified) = passkeys.identify(credential) else {
        return Ok(None);
    };
    let user_id = identified.user_handle.to_string();
    let Some(user) = state.0.db.user(&user_id).await?.filter(|u| !u.disabled) else {
        return Ok(None);
    };
    let factors = stored_passkeys(state, &user.id).await?;
    let stored: Vec<StoredPasskey> = factors.iter().map(|(_, p)| p.clone()).collect();
    match passkeys.finish_discoverable(ceremony_state, credential, &stored, now) {
        Ok(outcome) => {
            record_use(state, &outcome, &factors).await?;
            Ok(Some((
                user.id,
                assurance::passkey_amr(outcome.key_protection(), false),
            )))
        }
        Err(e) => {
            tracing::warn!(target: "gatehouse::security", error = %e, "passkey sign-in refused");
            Ok(None)
        }
    }
}
