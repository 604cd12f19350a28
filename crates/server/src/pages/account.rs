//! The person's own account page: second factors and recovery codes.
//!
//! Every change is a POST with a CSRF token; removing a factor or replacing recovery codes needs the
//! password again, so a borrowed, signed-in browser is not enough.

use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use gatehouse_login::audit as audit_kind;
use gatehouse_login::i18n::Text;
use gatehouse_login::sign_in::SignInStep;
use gatehouse_login::throttle::ThrottlePolicy;
use gatehouse_mfa::policy::MfaPolicy;
use gatehouse_mfa::{MethodKind, recovery};
use gatehouse_store::users::User;
use serde::Deserialize;
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

fn kind_label(kind: &str) -> Text {
    match MethodKind::parse(kind) {
        Some(MethodKind::Totp) => Text::new("method-totp"),
        Some(MethodKind::Email) => Text::new("method-email"),
        Some(MethodKind::Sms) => Text::new("method-sms"),
        Some(MethodKind::Passkey) => Text::new("method-passkey"),
        Some(MethodKind::RecoveryCode) => Text::new("method-recovery-code"),
        None => Text::new("method-other"),
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

pub(super) async fn page(
    state: &AppState,
    jar: CookieJar,
    notice: Option<&str>,
    error: Option<Text>,
) -> Result<Response, PageError> {
    page_with_problems(state, jar, notice, error, &[]).await
}

/// The account page with `error` and, under the password form, each of `password_problems`.
pub(super) async fn page_with_problems(
    state: &AppState,
    jar: CookieJar,
    notice: Option<&str>,
    error: Option<Text>,
    password_problems: &[Text],
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
        Some("factor-added") => Some(Text::new("account-notice-totp-added")),
        Some("factor-removed") => Some(Text::new("account-notice-factor-removed")),
        Some("device-forgotten") => Some(Text::new("account-notice-device-forgotten")),
        Some("factor-changed") => Some(Text::new("account-notice-saved")),
        Some("password-changed") => Some(Text::new("account-notice-password-changed")),
        Some("backup-address-set") => Some(Text::new("account-notice-backup-address-set")),
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
        "backup_link": state.organisation(&user.organisation_id).is_some_and(|o| o.backup_link),
        "backup_email": user.backup_email.as_deref().map(gatehouse_mfa::email::mask),
        "password_problems": password_problems,
        "password_rules": state.password_policy(&user.organisation_id).summary(),
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
pub(super) async fn password_form(
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
        None => Ok(Err(busy(state))),
        Some(false) => Ok(Err(page(state, jar, None, Some(WRONG_PASSWORD)).await?)),
        Some(true) => Ok(Ok((jar, user))),
    }
}

/// The answer when a method is not offered here.
pub(super) fn not_offered() -> PageError {
    PageError::bad_request(
        "error-method-not-offered-title",
        "error-method-not-offered-text",
    )
}

pub(super) fn check_csrf(
    state: &AppState,
    browser_id: &str,
    presented: &str,
) -> Result<(), PageError> {
    super::check_csrf(state, browser_id, CSRF_PURPOSE, presented)
}

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
        Text::new("notice-factor-added"),
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

pub(super) async fn recovery_codes_page(
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
    let Some(ok) = verify_password(state, Some(user), password).await? else {
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

const WRONG_PASSWORD: Text = Text::new("account-wrong-password");

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
        return page(state, jar, None, Some(Text::new("account-last-factor"))).await;
    }
    if !db.remove_factor(&user.id, &form.factor).await? {
        return page(
            state,
            jar,
            None,
            Some(Text::new("account-factor-not-found")),
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
        Text::new("notice-factor-removed"),
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
            Some(Text::new("account-recovery-needs-factor")),
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
        return page(state, jar, None, Some(Text::new("account-not-saved"))).await;
    }
    Ok((jar, see_other("/account?notice=factor-changed")).into_response())
}
