//! Adding a factor that receives codes — a second e-mail address or a mobile number — on the account
//! page: the destination is checked, sent a code, and saved only once that code is typed.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use gatehouse_login::audit as audit_kind;
use gatehouse_login::i18n::Text;
use gatehouse_mfa::attempts::AttemptPolicy;
use gatehouse_mfa::code::{self, SentCode};
use gatehouse_mfa::email::{self, AddressProblem};
use gatehouse_mfa::sms::{self, NumberProblem};
use gatehouse_mfa::{MethodKind, assurance};
use gatehouse_store::factors::StoredFactor;
use gatehouse_store::users::User;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::account::{
    Added, CSRF_PURPOSE, WizardQuery, account_form, factor_added, new_factor_id, signed_in_user,
};
use super::security::{confirm_unless_recent, may_add};
use super::see_other;
use crate::audit::{self, ClientInfo};
use crate::error::{PageError, render_page};
use crate::notify::{self, Destination};
use crate::state::AppState;

const ENROLMENT_CONTEXT: &str = "code-enrolment";

/// What a confirmed destination becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Purpose {
    /// A second factor that receives codes.
    Factor,
    /// The backup address for a one-time sign-in link.
    BackupAddress,
}

/// `/account/email`, `/account/sms` or `/account/backup-email`.
fn channel(state: &AppState, path: &str) -> Result<(MethodKind, Purpose), PageError> {
    let (method, purpose) = match path {
        "email" => (MethodKind::Email, Purpose::Factor),
        "sms" => (MethodKind::Sms, Purpose::Factor),
        "backup-email" => (MethodKind::Email, Purpose::BackupAddress),
        _ => {
            return Err(PageError::bad_request(
                "error-no-such-page-title",
                "error-no-such-page-text",
            ));
        }
    };
    if purpose == Purpose::Factor && !state.offers(method) {
        return Err(super::account::not_offered());
    }
    Ok((method, purpose))
}

/// Whether this person may add the destination now: the method (or, for a backup address, the link)
/// is allowed in their organisation, and their sign-in is recent — else the answer to send.
async fn may_add_here(
    state: &AppState,
    jar: &CookieJar,
    user: &User,
    method: MethodKind,
    purpose: Purpose,
    path: &str,
) -> Result<Option<Response>, PageError> {
    let next = format!("/account/{path}");
    match purpose {
        Purpose::Factor => may_add(state, jar, user, method, &next).await,
        Purpose::BackupAddress => {
            if !state
                .organisation(&user.organisation_id)
                .is_some_and(|o| o.backup_link)
            {
                return Err(super::account::not_offered());
            }
            confirm_unless_recent(state, jar, &next).await
        }
    }
}

/// Checks what the person typed; the error is the sentence to show.
fn check_destination(
    state: &AppState,
    method: MethodKind,
    typed: &str,
    user: &User,
) -> Result<String, Text> {
    match method {
        MethodKind::Sms => sms::parse_mobile(typed, &state.0.settings.sms_countries)
            .map(|n| n.e164)
            .map_err(|problem| match problem {
                NumberProblem::Invalid => Text::new("code-enrol-bad-number"),
                NumberProblem::NotMobile => Text::new("code-enrol-not-mobile"),
                NumberProblem::CountryNotAllowed => Text::new("code-enrol-country"),
            }),
        _ => email::check_second_address(typed, &user.email).map_err(|problem| match problem {
            AddressProblem::Malformed => Text::new("code-enrol-bad-address"),
            AddressProblem::SameAsLogin => Text::new("code-enrol-same-address"),
        }),
    }
}

/// A destination waiting for its code; sealed into the form with the master key, so the browser can
/// neither read the code's hash nor change the destination.
#[derive(Serialize, Deserialize)]
struct PendingDestination {
    user_id: String,
    method: MethodKind,
    purpose: Purpose,
    address: String,
    code: SentCode,
}

struct Page<'a> {
    method: MethodKind,
    purpose: Purpose,
    /// The page's path under `/account/`.
    path: &'a str,
    user: &'a User,
    browser_id: &'a str,
    typed: &'a str,
    enrolment: Option<&'a str>,
    sent_to: Option<String>,
    error: Option<Text>,
    /// The set-up wizard's pending sign-in, carried through the forms.
    flow: Option<&'a str>,
}

impl<'a> Page<'a> {
    /// The mobile number on file, offered to be confirmed or corrected.
    fn known_number(&self) -> Option<&'a str> {
        match self.method {
            MethodKind::Sms if self.purpose == Purpose::Factor => self.user.phone_number.as_deref(),
            _ => None,
        }
    }

    fn render(&self, state: &AppState) -> Response {
        let context = json!({
            "method": self.method.as_str(),
            "path": self.path,
            "backup": self.purpose == Purpose::BackupAddress,
            "csrf": state.0.csrf.token(self.browser_id, CSRF_PURPOSE),
            "login_email": self.user.email,
            "known_number": self.known_number(),
            "typed": self.typed,
            "enrolment": self.enrolment,
            "sent_to": self.sent_to,
            "error": self.error,
            "flow": self.flow,
        });
        let status = if self.error.is_some() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        };
        render_page(state, "code_enrol.html", context, status)
    }
}

/// `GET /account/{channel}`.
pub async fn start(
    State(state): State<AppState>,
    jar: CookieJar,
    Path(path): Path<String>,
    Query(query): Query<WizardQuery>,
) -> Response {
    form(&state, jar, &path, query.flow.as_deref())
        .await
        .unwrap_or_else(|e| e.render(&state))
}

async fn form(
    state: &AppState,
    jar: CookieJar,
    path: &str,
    flow: Option<&str>,
) -> Result<Response, PageError> {
    let (method, purpose) = channel(state, path)?;
    let (jar, user, browser_id) = match signed_in_user(state, jar).await? {
        Ok(found) => found,
        Err(sign_in) => return Ok(sign_in),
    };
    if let Some(confirm) = may_add_here(state, &jar, &user, method, purpose, path).await? {
        return Ok((jar, confirm).into_response());
    }
    let mut page = Page {
        method,
        purpose,
        path,
        user: &user,
        browser_id: &browser_id,
        typed: "",
        enrolment: None,
        sent_to: None,
        error: None,
        flow,
    };
    page.typed = page.known_number().unwrap_or_default();
    Ok((jar, page.render(state)).into_response())
}

#[derive(Deserialize)]
pub struct DestinationForm {
    #[serde(default)]
    flow: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    address: String,
}

/// `POST /account/{channel}`: checks the destination and sends it a code.
pub async fn send(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    jar: CookieJar,
    Path(path): Path<String>,
    Form(form): Form<DestinationForm>,
) -> Response {
    send_code(&state, jar, peer, &path, form)
        .await
        .unwrap_or_else(|e| e.render(&state))
}

async fn send_code(
    state: &AppState,
    jar: CookieJar,
    peer: SocketAddr,
    path: &str,
    form: DestinationForm,
) -> Result<Response, PageError> {
    let (method, purpose) = channel(state, path)?;
    let (jar, user, browser_id) = match account_form(state, jar, &form.csrf).await? {
        Ok(found) => found,
        Err(sign_in) => return Ok(sign_in),
    };
    if let Some(confirm) = may_add_here(state, &jar, &user, method, purpose, path).await? {
        return Ok((jar, confirm).into_response());
    }
    let flow = Some(form.flow.as_str()).filter(|f| !f.is_empty());
    let mut page = Page {
        method,
        purpose,
        path,
        user: &user,
        browser_id: &browser_id,
        typed: &form.address,
        enrolment: None,
        sent_to: None,
        error: None,
        flow,
    };
    let address = match check_destination(state, method, &form.address, &user) {
        Ok(address) => address,
        Err(error) => {
            tracing::info!(target: "gatehouse::security", method = method.as_str(), "second-factor destination refused");
            page.error = Some(error);
            return Ok((jar, page.render(state)).into_response());
        }
    };
    let (now, Some(policy)) = (state.0.provider.now(), notify::code_policy(method)) else {
        return Err(PageError::Internal(
            "a code channel without a code policy".into(),
        ));
    };
    let destination = Destination::new(method, address.clone());
    if !notify::may_send(state, &user.id, &destination, peer, now).await? {
        page.error = Some(Text::new("code-enrol-too-many"));
        return Ok((jar, page.render(state)).into_response());
    }
    let typed_code = code::generate();
    let sent = SentCode::new(&state.0.code_key, &typed_code, now, policy);
    if let Err(e) = notify::send_code(state, &destination, &typed_code, policy).await {
        tracing::error!(error = %e, method = method.as_str(), "sending an enrolment code failed");
        page.error = Some(Text::new("code-enrol-could-not-send"));
        return Ok((jar, page.render(state)).into_response());
    }
    let pending = PendingDestination {
        user_id: user.id.clone(),
        method,
        purpose,
        address,
        code: sent,
    };
    let json = serde_json::to_vec(&pending).map_err(|e| PageError::Internal(e.to_string()))?;
    let sealed = state.0.provider.master_key.seal(&json, ENROLMENT_CONTEXT)?;
    page.enrolment = Some(&sealed);
    page.sent_to = Some(destination.masked);
    Ok((jar, page.render(state)).into_response())
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    flow: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    enrolment: String,
    #[serde(default)]
    code: String,
}

/// `POST /account/{channel}/confirm`: saves the destination once its code is typed.
pub async fn confirm(
    State(state): State<AppState>,
    jar: CookieJar,
    client: ClientInfo,
    Path(path): Path<String>,
    Form(form): Form<ConfirmForm>,
) -> Response {
    save(&state, jar, &client, &path, form)
        .await
        .unwrap_or_else(|e| e.render(&state))
}

async fn save(
    state: &AppState,
    jar: CookieJar,
    client: &ClientInfo,
    path: &str,
    form: ConfirmForm,
) -> Result<Response, PageError> {
    let (method, purpose) = channel(state, path)?;
    let (jar, user, browser_id) = match account_form(state, jar, &form.csrf).await? {
        Ok(found) => found,
        Err(sign_in) => return Ok(sign_in),
    };
    if let Some(confirm) = may_add_here(state, &jar, &user, method, purpose, path).await? {
        return Ok((jar, confirm).into_response());
    }
    let flow = Some(form.flow.as_str()).filter(|f| !f.is_empty());
    let now = state.0.provider.now();
    let opened = state
        .0
        .provider
        .master_key
        .open(&form.enrolment, ENROLMENT_CONTEXT)
        .ok()
        .and_then(|json| serde_json::from_slice::<PendingDestination>(&json).ok())
        .filter(|p| p.user_id == user.id && p.method == method && p.purpose == purpose);
    let mut page = Page {
        method,
        purpose,
        path,
        user: &user,
        browser_id: &browser_id,
        typed: "",
        enrolment: None,
        sent_to: None,
        error: None,
        flow,
    };
    let Some(pending) = opened else {
        page.error = Some(Text::new("code-enrol-too-slow"));
        return Ok((jar, page.render(state)).into_response());
    };
    page.enrolment = Some(&form.enrolment);
    page.sent_to = Some(Destination::new(method, pending.address.clone()).masked);
    // Tries are counted in the database, like every code.
    let policy = state.0.settings.mfa_attempts;
    let key = format!(
        "enrol:{}",
        AttemptPolicy::method_key(&user.id, method.as_str())
    );
    if policy.method_locked(
        state
            .0
            .db
            .failures_since(&key, policy.counting_since(now))
            .await?,
    ) {
        page.error = Some(Text::new("code-enrol-too-many-wrong"));
        return Ok((jar, page.render(state)).into_response());
    }
    if pending
        .code
        .verify(&state.0.code_key, &form.code, now)
        .is_err()
    {
        state
            .0
            .db
            .record_failure(&key, policy.window_start(now))
            .await?;
        page.error = Some(Text::new("code-enrol-wrong-code"));
        return Ok((jar, page.render(state)).into_response());
    }
    state.0.db.clear_failures(&key).await?;
    if purpose == Purpose::BackupAddress {
        return backup_address_confirmed(state, jar, &user, &pending.address, client).await;
    }
    let db = &state.0.db;
    let existing = db.factors(&user.id).await?;
    if existing
        .iter()
        .any(|f| f.kind == method.as_str() && notify::destination(f).address == pending.address)
    {
        return Ok((jar, see_other("/account?notice=factor-added")).into_response());
    }
    let destination = Destination::new(method, pending.address.clone());
    let label = match method {
        MethodKind::Sms => Text::new("method-sms-to").with("number", destination.masked.as_str()),
        _ => Text::new("method-email-to").with("address", destination.masked.as_str()),
    };
    // A name the person can change later: stored in the language they set it up in.
    let label = state.text(&label);
    db.add_factor(&StoredFactor {
        id: new_factor_id(),
        user_id: user.id.clone(),
        kind: method.as_str().to_owned(),
        label,
        secret_sealed: None,
        detail: json!({ "address": pending.address }).to_string(),
        is_default: existing.is_empty(),
        created_at: now,
        last_used_at: None,
        last_step: None,
        credential_id: None,
    })
    .await?;
    if method == MethodKind::Sms {
        db.set_phone_number(&user.id, &pending.address, true, now)
            .await?;
    }
    tracing::info!(target: "gatehouse::security", method = method.as_str(), "second factor added");
    let added = Added {
        user_id: &user.id,
        first: existing.is_empty(),
        now,
        amr: assurance::amr(Some(method)),
        acr: assurance::acr(Some(method)),
        flow,
    };
    factor_added(state, jar, added).await
}

/// Saves a confirmed backup address and tells the person at both addresses.
async fn backup_address_confirmed(
    state: &AppState,
    jar: CookieJar,
    user: &User,
    address: &str,
    client: &ClientInfo,
) -> Result<Response, PageError> {
    let now = state.0.provider.now();
    state
        .0
        .db
        .set_backup_email(&user.id, Some(address), now)
        .await?;
    audit::record(
        state,
        Some(&user.id),
        audit_kind::BACKUP_ADDRESS_SET,
        json!({}),
        client,
    )
    .await;
    notify::security_notice(
        state,
        &user.id,
        Text::new("notice-backup-address-set").with(
            "address",
            Destination::new(MethodKind::Email, address.to_owned()).masked,
        ),
        client,
    )
    .await;
    tracing::info!(target: "gatehouse::security", "backup address set");
    Ok((jar, see_other("/account?notice=backup-address-set")).into_response())
}
