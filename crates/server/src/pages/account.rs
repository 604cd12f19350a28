//! The person's own account page: second factors and recovery codes.
//!
//! Every change is a POST with a CSRF token; removing a factor or replacing recovery codes needs the
//! password again, so a borrowed, signed-in browser is not enough.

use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gatehouse_login::audit as audit_kind;
use gatehouse_login::sign_in::SignInStep;
use gatehouse_login::throttle::ThrottlePolicy;
use gatehouse_mfa::policy::MfaPolicy;
use gatehouse_mfa::totp::{self, TotpSecret};
use gatehouse_mfa::{MethodKind, assurance, recovery};
use gatehouse_store::factors::StoredFactor;
use gatehouse_store::users::User;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::flow::{self, SignInFor};
use super::login::{busy, verify_password};
use super::see_other;
use crate::audit::{self, ClientInfo};
use crate::cookies;
use crate::error::{PageError, render_page};
use crate::notify;
use crate::state::AppState;

pub(super) const CSRF_PURPOSE: &str = "account";
/// Minutes a person has to type the first code after the QR code is shown.
const ENROLMENT_SECONDS: i64 = 15 * 60;
const ENROLMENT_CONTEXT: &str = "totp-enrolment";

/// The signed-in person and their browser id, or the response that sends them to sign in.
pub(super) async fn signed_in_user(
    state: &AppState,
    jar: CookieJar,
) -> Result<Result<(CookieJar, User, String), Response>, PageError> {
    let Some(session) = flow::signed_in(state, &jar).await? else {
        let response = flow::advance(
            state,
            jar,
            SignInFor::Account,
            None,
            Default::default(),
            None,
        )
        .await?;
        return Ok(Err(response));
    };
    let Some(user) = state.0.db.user(&session.user_id).await? else {
        return Err(PageError::expired());
    };
    let (jar, browser_id) = cookies::browser_id(jar, state.0.settings.secure_cookies);
    Ok(Ok((jar, user, browser_id)))
}

fn date(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn kind_label(kind: &str) -> &'static str {
    match MethodKind::parse(kind) {
        Some(MethodKind::Totp) => "Authenticator app",
        Some(MethodKind::Email) => "Codes by e-mail",
        Some(MethodKind::Sms) => "Codes by text message",
        Some(MethodKind::Passkey) => "Passkey",
        Some(MethodKind::RecoveryCode) => "Recovery code",
        None => "Second factor",
    }
}

/// `?flow=…` when a page is part of the set-up wizard of a pending sign-in.
#[derive(Debug, Default, Deserialize)]
pub struct WizardQuery {
    pub flow: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct AccountQuery {
    notice: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(query): Query<AccountQuery>,
) -> Response {
    page(&state, jar, query.notice.as_deref(), None)
        .await
        .unwrap_or_else(|e| e.render(&state))
}

async fn page(
    state: &AppState,
    jar: CookieJar,
    notice: Option<&str>,
    error: Option<&str>,
) -> Result<Response, PageError> {
    let (jar, user, browser_id) = match signed_in_user(state, jar).await? {
        Ok(found) => found,
        Err(sign_in) => return Ok(sign_in),
    };
    let factors: Vec<_> = state
        .0
        .db
        .factors(&user.id)
        .await?
        .into_iter()
        .map(|f| json!({ "id": f.id, "label": f.label, "kind": kind_label(&f.kind), "added": date(f.created_at), "default": f.is_default }))
        .collect();
    let now = state.0.provider.now();
    let devices: Vec<_> = state
        .0
        .db
        .remembered_devices(&user.id, now)
        .await?
        .into_iter()
        .map(|d| json!({ "id": d.id, "label": d.label.chars().take(80).collect::<String>(), "last_used": date(d.last_used_at), "until": date(d.expires_at) }))
        .collect();
    let sign_ins: Vec<_> = state
        .0
        .db
        .events_for_user(&user.id, Some(audit_kind::SIGN_IN_SUCCEEDED), 10)
        .await?
        .into_iter()
        .map(|e| {
            let when = chrono::DateTime::from_timestamp(e.created_at, 0).map(|t| t.format("%Y-%m-%d %H:%M").to_string());
            json!({ "when": when, "device": e.user_agent.as_deref().map(audit::device_summary), "ip": e.ip })
        })
        .collect();
    let notice = match notice {
        Some("factor-added") => Some(
            "Your authenticator app is set up. From now on you will be asked for a code when you sign in.",
        ),
        Some("factor-removed") => Some("The second step was removed."),
        Some("device-forgotten") => Some("That device will be asked for a second step again."),
        Some("factor-changed") => Some("Saved."),
        Some("password-changed") => {
            Some("Your password is changed. You are signed out everywhere else.")
        }
        _ => None,
    };
    let context = json!({
        "email": user.email,
        "name": user.name,
        "factors": factors,
        "recovery_left": state.0.db.recovery_codes_left(&user.id).await?,
        "devices": devices,
        "sign_ins": sign_ins,
        "csrf": state.0.csrf.token(&browser_id, CSRF_PURPOSE),
        "notice": notice,
        "error": error,
        "offers": {
            "passkey": state.offers_to(&user.organisation_id, MethodKind::Passkey),
            "totp": state.offers_to(&user.organisation_id, MethodKind::Totp),
            "sms": state.offers_to(&user.organisation_id, MethodKind::Sms),
            "email": state.offers_to(&user.organisation_id, MethodKind::Email),
        },
    });
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok((jar, render_page(state, "account.html", context, status)).into_response())
}

/// A signed-in person posting an account form with a valid CSRF token, or the response that sends
/// them to sign in first.
pub(super) async fn account_form(
    state: &AppState,
    jar: CookieJar,
    csrf: &str,
) -> Result<Result<(CookieJar, User, String), Response>, PageError> {
    let found = signed_in_user(state, jar).await?;
    if let Ok((_, _, browser_id)) = &found {
        check_csrf(state, browser_id, csrf)?;
    }
    Ok(found)
}

/// As [`account_form`], for changes that need the password typed again; a wrong password answers with
/// the account page saying nothing was changed.
async fn password_form(
    state: &AppState,
    jar: CookieJar,
    csrf: &str,
    password: String,
) -> Result<Result<(CookieJar, User), Response>, PageError> {
    let (jar, user, _) = match account_form(state, jar, csrf).await? {
        Ok(found) => found,
        Err(sign_in) => return Ok(Err(sign_in)),
    };
    match password_confirmed(state, &user, password).await? {
        None => Ok(Err(busy())),
        Some(false) => Ok(Err(page(state, jar, None, Some(WRONG_PASSWORD)).await?)),
        Some(true) => Ok(Ok((jar, user))),
    }
}

/// The answer when a method is not offered here.
pub(super) fn not_offered() -> PageError {
    PageError::BadRequest {
        title: "This way of signing in is not offered here",
        message: "Go back to your account page and choose one of the ways it offers.".into(),
    }
}

pub(super) fn check_csrf(
    state: &AppState,
    browser_id: &str,
    presented: &str,
) -> Result<(), PageError> {
    if state.0.csrf.verify(browser_id, CSRF_PURPOSE, presented) {
        Ok(())
    } else {
        tracing::warn!(target: "gatehouse::security", "account form without a valid CSRF token");
        Err(PageError::Forbidden)
    }
}

/// What the enrolment form carries between showing the QR code and the first code: sealed with the
/// master key, so the browser can neither read the secret back from the form nor forge one.
#[derive(Serialize, Deserialize)]
struct PendingEnrolment {
    user_id: String,
    secret: String,
    expires_at: i64,
}

impl PendingEnrolment {
    fn seal(&self, state: &AppState) -> Result<String, PageError> {
        let json = serde_json::to_vec(self).map_err(|e| PageError::Internal(e.to_string()))?;
        Ok(state.0.provider.master_key.seal(&json, ENROLMENT_CONTEXT)?)
    }

    fn open(state: &AppState, sealed: &str, user_id: &str, now: i64) -> Option<(Self, TotpSecret)> {
        let json = state
            .0
            .provider
            .master_key
            .open(sealed, ENROLMENT_CONTEXT)
            .ok()?;
        let pending: Self = serde_json::from_slice(&json).ok()?;
        if pending.user_id != user_id || pending.expires_at <= now {
            return None;
        }
        let secret = TotpSecret::from_bytes(URL_SAFE_NO_PAD.decode(&pending.secret).ok()?);
        Some((pending, secret))
    }
}

/// `GET /account/totp`: a new secret, its QR code and the key for typing in.
pub async fn totp_start(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(query): Query<WizardQuery>,
) -> Response {
    totp_page(&state, jar, None, None, query.flow.as_deref())
        .await
        .unwrap_or_else(|e| e.render(&state))
}

async fn totp_page(
    state: &AppState,
    jar: CookieJar,
    retry: Option<&str>,
    error: Option<&str>,
    flow: Option<&str>,
) -> Result<Response, PageError> {
    let (jar, user, browser_id) = match signed_in_user(state, jar).await? {
        Ok(found) => found,
        Err(sign_in) => return Ok(sign_in),
    };
    if let Some(confirm) = may_add(state, &jar, &user, MethodKind::Totp, "/account/totp").await? {
        return Ok((jar, confirm).into_response());
    }
    // Apps label the entry with the organisation's name.
    let issuer = state
        .organisation(&user.organisation_id)
        .map_or(state.0.settings.display_name.clone(), |o| {
            o.display_name.clone()
        });
    let now = state.0.provider.now();
    let (sealed, secret) =
        match retry.and_then(|sealed| PendingEnrolment::open(state, sealed, &user.id, now)) {
            Some((_, secret)) => (retry.unwrap_or_default().to_owned(), secret),
            None => {
                let secret = TotpSecret::generate();
                let pending = PendingEnrolment {
                    user_id: user.id.clone(),
                    secret: URL_SAFE_NO_PAD.encode(secret.as_bytes()),
                    expires_at: now + ENROLMENT_SECONDS,
                };
                (pending.seal(state)?, secret)
            }
        };
    let provisioning = totp::provisioning(&secret, &issuer, &user.email)
        .map_err(|e| PageError::Internal(e.to_string()))?;
    let context = json!({
        "csrf": state.0.csrf.token(&browser_id, CSRF_PURPOSE),
        "enrolment": sealed,
        "qr": provisioning.qr_data_uri,
        "otpauth_uri": provisioning.uri,
        "secret": provisioning.grouped_secret,
        "issuer": issuer,
        "email": user.email,
        "error": error,
        "flow": flow,
    });
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok((jar, render_page(state, "totp_enrol.html", context, status)).into_response())
}

#[derive(Deserialize)]
pub struct TotpForm {
    #[serde(default)]
    flow: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    enrolment: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    label: String,
}

/// `POST /account/totp`: saves the authenticator app once a current code proves it works.
pub async fn totp_confirm(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<TotpForm>,
) -> Response {
    totp_save(&state, jar, form)
        .await
        .unwrap_or_else(|e| e.render(&state))
}

async fn totp_save(
    state: &AppState,
    jar: CookieJar,
    form: TotpForm,
) -> Result<Response, PageError> {
    let (jar, user, _) = match account_form(state, jar, &form.csrf).await? {
        Ok(found) => found,
        Err(sign_in) => return Ok(sign_in),
    };
    if let Some(confirm) = may_add(state, &jar, &user, MethodKind::Totp, "/account/totp").await? {
        return Ok((jar, confirm).into_response());
    }
    let flow = Some(form.flow.as_str()).filter(|f| !f.is_empty());
    let now = state.0.provider.now();
    let Some((_, secret)) = PendingEnrolment::open(state, &form.enrolment, &user.id, now) else {
        return totp_page(
            state,
            jar,
            None,
            Some("That took too long. Scan this new code and try again."),
            flow,
        )
        .await;
    };
    let Ok(step) = totp::verify(&secret, &form.code, now, None) else {
        return totp_page(
            state,
            jar,
            Some(&form.enrolment),
            Some("That code is not right. Check the time on your phone and enter the code the app shows now."),
            flow,
        )
        .await;
    };
    let db = &state.0.db;
    let existing = db.factors(&user.id).await?;
    let id = new_factor_id();
    let label = match form.label.trim() {
        "" => "Authenticator app".to_owned(),
        label => label.chars().take(60).collect(),
    };
    db.add_factor(&StoredFactor {
        secret_sealed: Some(state.0.provider.master_key.seal(secret.as_bytes(), &id)?),
        id,
        user_id: user.id.clone(),
        kind: MethodKind::Totp.as_str().to_owned(),
        label,
        detail: "{}".to_owned(),
        is_default: existing.is_empty(),
        created_at: now,
        last_used_at: Some(now),
        // The code just typed may not be used again to sign in.
        last_step: Some(step),
        credential_id: None,
    })
    .await?;
    tracing::info!(target: "gatehouse::security", "authenticator app added");
    let added = Added {
        user_id: &user.id,
        first: existing.is_empty(),
        now,
        amr: assurance::amr(Some(MethodKind::Totp)),
        acr: assurance::acr(Some(MethodKind::Totp)),
        flow,
    };
    factor_added(state, jar, added).await
}

/// After a factor is saved: the first one comes with recovery codes, shown this once.
/// After a factor is saved. Enrolling proved the person has it, so the session is upgraded to what
/// the factor earns (`amr`, `acr`). From the set-up wizard (`flow`), the sign-in then continues where it
/// was; the first factor always comes with recovery codes, shown this once.
pub(super) async fn factor_added(
    state: &AppState,
    jar: CookieJar,
    added: Added<'_>,
) -> Result<Response, PageError> {
    let method = added.amr.get(1).cloned().unwrap_or_default();
    audit::record(
        state,
        Some(added.user_id),
        audit_kind::FACTOR_ADDED,
        json!({ "amr": method }),
        &ClientInfo::default(),
    )
    .await;
    notify::security_notice(
        state,
        added.user_id,
        "A second step was added to your account.",
        &ClientInfo::default(),
    )
    .await;
    let (jar, _) = flow::start_session(state, jar, added.user_id, added.amr, added.acr).await?;
    let mut next = "/account?notice=factor-added".to_owned();
    if let Some(flow_id) = added.flow
        && let Ok((pending, _)) = flow::load(state, &jar, flow_id).await
        && matches!(&pending.step, SignInStep::Enrol { user_id, .. } if user_id == added.user_id)
    {
        let step = SignInStep::Authenticated {
            user_id: added.user_id.to_owned(),
        };
        state
            .0
            .db
            .update_pending_sign_in(&gatehouse_oidc::token_hash(&pending.id), &step.to_json())
            .await?;
        next = format!("/continue?flow={}", pending.id);
    }
    if added.first {
        let continue_url = if added.flow.is_some() {
            next
        } else {
            "/account".to_owned()
        };
        return Ok((
            jar,
            recovery_codes_page(state, added.user_id, added.now, &continue_url).await?,
        )
            .into_response());
    }
    Ok((jar, see_other(&next)).into_response())
}

/// What [`factor_added`] needs to know.
pub(super) struct Added<'a> {
    pub user_id: &'a str,
    pub first: bool,
    pub now: i64,
    pub amr: Vec<String>,
    pub acr: &'static str,
    /// The pending sign-in of the set-up wizard, if the factor was added there.
    pub flow: Option<&'a str>,
}

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

/// Whether this person's organisation lets them add `method`.
pub(super) fn check_offered(
    state: &AppState,
    user: &User,
    method: MethodKind,
) -> Result<(), PageError> {
    if state.offers_to(&user.organisation_id, method) {
        Ok(())
    } else {
        Err(not_offered())
    }
}

async fn recovery_codes_page(
    state: &AppState,
    user_id: &str,
    now: i64,
    continue_url: &str,
) -> Result<Response, PageError> {
    let codes = recovery::generate();
    let hashes: Vec<String> = codes
        .iter()
        .filter_map(|c| recovery::hash(&state.0.recovery_key, c))
        .collect();
    state
        .0
        .db
        .replace_recovery_codes(user_id, &hashes, now)
        .await?;
    Ok(render_page(
        state,
        "recovery_codes.html",
        json!({ "codes": codes, "continue_url": continue_url }),
        StatusCode::OK,
    ))
}

#[derive(Deserialize)]
pub struct ConfirmedForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    factor: String,
}

/// Checks the password typed to confirm a change, under the same throttle as sign-in. `Ok(None)` when
/// the server is too busy to hash.
async fn password_confirmed(
    state: &AppState,
    user: &User,
    password: String,
) -> Result<Option<bool>, PageError> {
    let policy = state.0.settings.throttle;
    let now = state.0.provider.now();
    let key = ThrottlePolicy::account_key(&user.email);
    if policy.account_blocked(
        state
            .0
            .db
            .failures_since(&key, policy.counting_since(now))
            .await?,
    ) {
        return Ok(Some(false));
    }
    let Some(ok) = verify_password(state, Some(user.password_hash.clone()), password).await? else {
        return Ok(None);
    };
    if !ok {
        state
            .0
            .db
            .record_failure(&key, policy.window_start(now))
            .await?;
        tracing::warn!(target: "gatehouse::security", "wrong password to confirm an account change");
    }
    Ok(Some(ok))
}

const WRONG_PASSWORD: &str = "That password is not right. Nothing was changed.";

/// `POST /account/factors/remove`.
pub async fn remove_factor(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<ConfirmedForm>,
) -> Response {
    remove(&state, jar, form)
        .await
        .unwrap_or_else(|e| e.render(&state))
}

async fn remove(
    state: &AppState,
    jar: CookieJar,
    form: ConfirmedForm,
) -> Result<Response, PageError> {
    let (jar, user) = match password_form(state, jar, &form.csrf, form.password).await? {
        Ok(found) => found,
        Err(response) => return Ok(response),
    };
    let db = &state.0.db;
    // Where a second factor is required, the last one cannot go (add another first).
    let factors = db.factors(&user.id).await?;
    let last = factors.len() == 1 && factors.iter().any(|f| f.id == form.factor);
    let required = user.require_mfa
        || state
            .organisation(&user.organisation_id)
            .is_some_and(|o| o.mfa == MfaPolicy::Required);
    if last && required {
        return page(
            state,
            jar,
            None,
            Some("You need at least one second step. Add another one before you remove this one."),
        )
        .await;
    }
    if !db.remove_factor(&user.id, &form.factor).await? {
        return page(
            state,
            jar,
            None,
            Some("That second step was not found. Nothing was changed."),
        )
        .await;
    }
    // Without any second factor left, recovery codes have nothing to stand in for.
    if db.factors(&user.id).await?.is_empty() {
        db.replace_recovery_codes(&user.id, &[], state.0.provider.now())
            .await?;
    }
    tracing::info!(target: "gatehouse::security", "second factor removed");
    audit::record(
        state,
        Some(&user.id),
        audit_kind::FACTOR_REMOVED,
        json!({}),
        &ClientInfo::default(),
    )
    .await;
    notify::security_notice(
        state,
        &user.id,
        "A second step was removed from your account.",
        &ClientInfo::default(),
    )
    .await;
    Ok((jar, see_other("/account?notice=factor-removed")).into_response())
}

/// `POST /account/recovery-codes`: a new set; the old one stops working.
pub async fn regenerate_recovery_codes(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<ConfirmedForm>,
) -> Response {
    regenerate(&state, jar, form)
        .await
        .unwrap_or_else(|e| e.render(&state))
}

async fn regenerate(
    state: &AppState,
    jar: CookieJar,
    form: ConfirmedForm,
) -> Result<Response, PageError> {
    let (jar, user) = match password_form(state, jar, &form.csrf, form.password).await? {
        Ok(found) => found,
        Err(response) => return Ok(response),
    };
    if state.0.db.factors(&user.id).await?.is_empty() {
        return page(
            state,
            jar,
            None,
            Some("Set up a second step first; recovery codes stand in for it."),
        )
        .await;
    }
    tracing::info!(target: "gatehouse::security", "recovery codes replaced");
    audit::record(
        state,
        Some(&user.id),
        audit_kind::RECOVERY_CODES_REPLACED,
        json!({}),
        &ClientInfo::default(),
    )
    .await;
    Ok((
        jar,
        recovery_codes_page(state, &user.id, state.0.provider.now(), "/account").await?,
    )
        .into_response())
}

/// A random factor id (132 bits).
pub(super) fn new_factor_id() -> String {
    gatehouse_login::csrf::random_id()[..22].to_owned()
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
    let length = new_password.chars().count();
    let problem = if new_password != repeat_password {
        Some("The two new passwords are not the same. Type them again.")
    } else if !(8..=128).contains(&length) {
        Some("Choose a new password of at least 8 and at most 128 characters.")
    } else if new_password == current_password {
        Some("The new password is the same as the current one. Choose another.")
    } else {
        None
    };
    if let Some(problem) = problem {
        return page(state, jar, None, Some(problem)).await;
    }
    let passwords = state.0.passwords.clone();
    let secret = secrecy::SecretString::from(new_password);
    let hash = tokio::task::spawn_blocking(move || passwords.hash(&secret))
        .await
        .map_err(|e| PageError::Internal(e.to_string()))?
        .map_err(|e| PageError::Internal(e.to_string()))?;
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
        "The password of your account was changed.",
        client,
    )
    .await;
    tracing::info!(target: "gatehouse::security", "password changed");
    Ok((jar, see_other("/account?notice=password-changed")).into_response())
}

#[derive(Deserialize)]
pub struct FactorForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    factor: String,
    #[serde(default)]
    label: String,
}

/// `POST /account/factors/default`: the second step asked for first.
pub async fn make_default(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<FactorForm>,
) -> Response {
    change_factor(&state, jar, form, false)
        .await
        .unwrap_or_else(|e| e.render(&state))
}

/// `POST /account/factors/rename`: a name the person recognises (e.g. "work laptop" for a passkey).
pub async fn rename(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<FactorForm>,
) -> Response {
    change_factor(&state, jar, form, true)
        .await
        .unwrap_or_else(|e| e.render(&state))
}

async fn change_factor(
    state: &AppState,
    jar: CookieJar,
    form: FactorForm,
    rename: bool,
) -> Result<Response, PageError> {
    let (jar, user, _) = match account_form(state, jar, &form.csrf).await? {
        Ok(found) => found,
        Err(sign_in) => return Ok(sign_in),
    };
    let label: String = form
        .label
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(60)
        .collect();
    let changed = if rename {
        !label.is_empty()
            && state
                .0
                .db
                .rename_factor(&user.id, &form.factor, &label)
                .await?
    } else {
        state
            .0
            .db
            .set_default_factor(&user.id, &form.factor)
            .await?
    };
    if !changed {
        return page(
            state,
            jar,
            None,
            Some("That could not be saved. Nothing was changed."),
        )
        .await;
    }
    Ok((jar, see_other("/account?notice=factor-changed")).into_response())
}
