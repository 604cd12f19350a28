//! `GET|POST /mfa`: the second factor at sign-in; `POST /mfa/resend`; `GET /continue` after a notice.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use gatehouse_login::audit as audit_kind;
use gatehouse_login::i18n::Text;
use gatehouse_login::sign_in::{SentChallenge, SignInStep};
use gatehouse_mfa::attempts::AttemptPolicy;
use gatehouse_mfa::code::{self, SentCode};
use gatehouse_mfa::totp::TotpSecret;
use gatehouse_mfa::{MethodKind, MfaError, assurance, recovery};
use gatehouse_oidc::authorize::SignedIn;
use serde::Deserialize;
use serde_json::json;

use super::login::FlowQuery;
use super::{flow, passkey};
use crate::audit::{self, ClientInfo};
use crate::cookies;
use crate::error::{PageError, render_page};
use crate::notify::{self, Delivery};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct ChallengeQuery {
    #[serde(default)]
    flow: String,
    method: Option<String>,
}

#[derive(Deserialize)]
pub struct ChallengeForm {
    #[serde(default)]
    flow: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    method: String,
    #[serde(default)]
    code: String,
    /// A passkey answer: the ceremony it answers and the credential JSON.
    #[serde(default)]
    ceremony: String,
    #[serde(default)]
    credential: String,
    /// "yes" to skip the second step on this device for the organisation's number of days.
    #[serde(default)]
    remember: String,
}

const WRONG_CODE: Text = Text::new("mfa-wrong-code");
const METHOD_LOCKED: Text = Text::new("mfa-too-many-wrong");
const ACCOUNT_LOCKED: Text = Text::new("mfa-locked");

fn method_label(method: MethodKind) -> Text {
    match method {
        MethodKind::Passkey => Text::new("mfa-use-passkey"),
        MethodKind::Totp => Text::new("mfa-use-totp"),
        MethodKind::Sms => Text::new("mfa-use-sms"),
        MethodKind::Email => Text::new("mfa-use-email"),
        MethodKind::RecoveryCode => Text::new("mfa-use-recovery-code"),
    }
}

/// The methods this person can use now that reach the step's minimum `acr`: their factors' kinds, and
/// recovery codes while any are left.
async fn available(state: &AppState, step: &SignInStep) -> Result<Vec<MethodKind>, PageError> {
    let SignInStep::SecondFactor {
        user_id,
        minimum_acr,
        ..
    } = step
    else {
        return Ok(Vec::new());
    };
    let minimum = minimum_acr.as_deref().unwrap_or(assurance::ACR_MFA_EMAIL);
    let mut methods: Vec<MethodKind> = Vec::new();
    for factor in state.0.db.factors(user_id).await? {
        if let Some(kind) = MethodKind::parse(&factor.kind)
            && !methods.contains(&kind)
            && (kind != MethodKind::Passkey || state.0.passkeys.is_some())
            && gatehouse_mfa::policy::method_reaches(kind, minimum)
        {
            methods.push(kind);
        }
    }
    if state.0.db.recovery_codes_left(user_id).await? > 0 {
        methods.push(MethodKind::RecoveryCode);
    }
    Ok(methods)
}

pub async fn get(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    jar: CookieJar,
    Query(query): Query<ChallengeQuery>,
) -> Response {
    show(&state, jar, peer, query)
        .await
        .unwrap_or_else(|e| e.render(&state))
}

async fn show(
    state: &AppState,
    jar: CookieJar,
    peer: SocketAddr,
    query: ChallengeQuery,
) -> Result<Response, PageError> {
    let (pending, browser_id) = flow::load(state, &jar, &query.flow).await?;
    let SignInStep::SecondFactor {
        user_id, method, ..
    } = &pending.step
    else {
        return flow::go_to_step(state, &pending.id, &pending.step).await;
    };
    let methods = available(state, &pending.step).await?;
    let chosen = query
        .method
        .as_deref()
        .or(Some(method.as_str()))
        .and_then(MethodKind::parse);
    let Some(method) = chosen
        .filter(|m| methods.contains(m))
        .or(methods.first().copied())
    else {
        return Err(PageError::expired());
    };
    // Codes by e-mail or SMS are sent on arrival at this page, not before.
    let delivery = send_code(state, &pending, method, peer, false).await?;
    let mut page = Challenge::new(&pending, &browser_id, method, &methods);
    page.delivery = delivery;
    page.remember_days = remember_days(state, user_id).await?;
    page.backup_link = state
        .0
        .db
        .user(user_id)
        .await?
        .is_some_and(|u| super::backup_link::backup_address(state, &u).is_some());
    if method == MethodKind::Passkey {
        page.passkey = passkey::second_factor_options(state, user_id).await?;
    }
    Ok(page.render(state, StatusCode::OK))
}

/// Sends a code for `method` when it is a method that sends codes and none is pending (or `resend`
/// asks for a new one after the cool-down), and remembers it with the pending sign-in.
async fn send_code(
    state: &AppState,
    pending: &flow::Pending,
    method: MethodKind,
    peer: SocketAddr,
    resend: bool,
) -> Result<Option<Delivery>, PageError> {
    let SignInStep::SecondFactor {
        user_id,
        sent,
        minimum_acr,
        ..
    } = &pending.step
    else {
        return Ok(None);
    };
    let Some(policy) = notify::code_policy(method) else {
        return Ok(None);
    };
    let Some(factor) = state
        .0
        .db
        .factors(user_id)
        .await?
        .into_iter()
        .find(|f| f.kind == method.as_str())
    else {
        return Ok(None);
    };
    let now = state.0.provider.now();
    let destination = notify::destination(&factor);
    if let Some(sent) = sent.as_ref().filter(|s| s.factor_id == factor.id) {
        if !resend && now < sent.code.expires_at {
            return Ok(Some(Delivery::AlreadySent {
                to: destination.masked,
            }));
        }
        if resend && !sent.code.may_resend(now, policy) {
            return Ok(Some(Delivery::TooSoon {
                to: destination.masked,
            }));
        }
    }
    if !notify::may_send(state, user_id, &destination, peer, now).await? {
        return Ok(Some(Delivery::Limited));
    }
    let typed_code = code::generate();
    let sent_code = SentCode::new(&state.0.code_key, &typed_code, now, policy);
    // A text message goes out now; an e-mail is queued together with the state that waits for it.
    let mail = if method == MethodKind::Email {
        match notify::code_email(state, &destination.address, &typed_code, policy) {
            Ok(mail) => Some(mail),
            Err(e) => {
                tracing::error!(error = %e, "preparing a sign-in code e-mail failed");
                return Ok(Some(Delivery::Failed));
            }
        }
    } else {
        if let Err(e) = notify::send_code(state, &destination, &typed_code, policy).await {
            tracing::error!(error = %e, method = method.as_str(), "sending a sign-in code failed");
            return Ok(Some(Delivery::Failed));
        }
        None
    };
    let step = SignInStep::SecondFactor {
        user_id: user_id.clone(),
        method: method.as_str().to_owned(),
        sent: Some(SentChallenge {
            factor_id: factor.id.clone(),
            method: method.as_str().to_owned(),
            code: sent_code,
        }),
        minimum_acr: minimum_acr.clone(),
    };
    let id_hash = gatehouse_oidc::token_hash(&pending.id);
    let db = &state.0.db;
    match mail {
        Some(mail) => {
            db.update_pending_sign_in_and_send(&id_hash, &step.to_json(), &mail, now)
                .await?;
            state.wake_outbox();
        }
        None => db.update_pending_sign_in(&id_hash, &step.to_json()).await?,
    }
    tracing::info!(target: "gatehouse::security", method = method.as_str(), "sign-in code sent");
    Ok(Some(Delivery::Sent {
        to: destination.masked,
    }))
}

#[derive(Deserialize)]
pub struct ResendForm {
    #[serde(default)]
    flow: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    method: String,
}

/// `POST /mfa/resend`: a new code after the cool-down; the old one stops working.
pub async fn resend(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    jar: CookieJar,
    Form(form): Form<ResendForm>,
) -> Response {
    resend_code(&state, jar, peer, form)
        .await
        .unwrap_or_else(|e| e.render(&state))
}

async fn resend_code(
    state: &AppState,
    jar: CookieJar,
    peer: SocketAddr,
    form: ResendForm,
) -> Result<Response, PageError> {
    let (pending, browser_id) = flow::load_submitted(state, &jar, &form.flow, &form.csrf).await?;
    let SignInStep::SecondFactor { user_id, .. } = &pending.step else {
        return flow::go_to_step(state, &pending.id, &pending.step).await;
    };
    let methods = available(state, &pending.step).await?;
    let Some(method) = MethodKind::parse(&form.method).filter(|m| methods.contains(m)) else {
        return Err(PageError::expired());
    };
    let delivery = send_code(state, &pending, method, peer, true).await?;
    let mut page = Challenge::new(&pending, &browser_id, method, &methods);
    page.delivery = delivery;
    page.remember_days = remember_days(state, user_id).await?;
    page.backup_link = state
        .0
        .db
        .user(user_id)
        .await?
        .is_some_and(|u| super::backup_link::backup_address(state, &u).is_some());
    Ok(page.render(state, StatusCode::OK))
}

/// The challenge page and what it says.
struct Challenge<'a> {
    pending: &'a flow::Pending,
    browser_id: &'a str,
    method: MethodKind,
    methods: &'a [MethodKind],
    delivery: Option<Delivery>,
    error: Option<Text>,
    /// For a passkey: the WebAuthn options and the ceremony id.
    passkey: Option<(serde_json::Value, String)>,
    /// Days this device may be remembered for (0: the organisation does not allow it).
    remember_days: u32,
    /// "I can't use my second factor" may send a link to the backup address.
    backup_link: bool,
}

impl<'a> Challenge<'a> {
    fn new(
        pending: &'a flow::Pending,
        browser_id: &'a str,
        method: MethodKind,
        methods: &'a [MethodKind],
    ) -> Self {
        Self {
            pending,
            browser_id,
            method,
            methods,
            delivery: None,
            error: None,
            passkey: None,
            remember_days: 0,
            backup_link: false,
        }
    }

    fn render(&self, state: &AppState, status: StatusCode) -> Response {
        let others: Vec<_> = self
            .methods
            .iter()
            .filter(|m| **m != self.method)
            .map(|m| json!({ "method": m.as_str(), "label": method_label(*m) }))
            .collect();
        let (sent_to, delivery_error) = match &self.delivery {
            None => (None, None),
            Some(Delivery::Sent { to } | Delivery::AlreadySent { to }) => (Some(to.clone()), None),
            Some(Delivery::TooSoon { to }) => (
                Some(to.clone()),
                Some(Text::new("mfa-wait-before-new-code")),
            ),
            Some(Delivery::Limited) => (None, Some(Text::new("mfa-too-many-codes"))),
            Some(Delivery::Failed) => (None, Some(Text::new("mfa-could-not-send"))),
        };
        let context = json!({
            "flow": self.pending.id,
            "csrf": state.0.csrf.token(self.browser_id, &flow::csrf_purpose(&self.pending.id)),
            "method": self.method.as_str(),
            "others": others,
            "error": self.error.clone().or(delivery_error),
            "sent_to": sent_to,
            "issuer": state.0.settings.display_name,
            "client_name": self.pending.target.audience_name(state),
            "passkey_options": self.passkey.as_ref().map(|(options, _)| options),
            "ceremony": self.passkey.as_ref().map(|(_, ceremony)| ceremony),
            "remember_days": self.remember_days,
            "backup_link": self.backup_link,
        });
        render_page(state, "mfa.html", context, status)
    }
}

pub async fn post(
    State(state): State<AppState>,
    jar: CookieJar,
    client: ClientInfo,
    Form(form): Form<ChallengeForm>,
) -> Response {
    submit(&state, jar, &client, form)
        .await
        .unwrap_or_else(|e| e.render(&state))
}

async fn submit(
    state: &AppState,
    jar: CookieJar,
    client: &ClientInfo,
    form: ChallengeForm,
) -> Result<Response, PageError> {
    let (pending, browser_id) = flow::load_submitted(state, &jar, &form.flow, &form.csrf).await?;
    let SignInStep::SecondFactor { user_id, .. } = &pending.step else {
        return flow::go_to_step(state, &pending.id, &pending.step).await;
    };
    let user_id = user_id.clone();
    let methods = available(state, &pending.step).await?;
    let Some(method) = MethodKind::parse(&form.method).filter(|m| methods.contains(m)) else {
        return Err(PageError::expired());
    };
    let db = &state.0.db;
    let policy: AttemptPolicy = state.0.settings.mfa_attempts;
    let now = state.0.provider.now();
    let method_key = AttemptPolicy::method_key(&user_id, method.as_str());
    let consecutive_key = AttemptPolicy::consecutive_key(&user_id);
    let days = remember_days(state, &user_id).await?;
    // Shown again after a failure; a passkey then needs a new ceremony (the old one is used up).
    let page = async |error, status| -> Result<Response, PageError> {
        let mut page = Challenge::new(&pending, &browser_id, method, &methods);
        page.error = Some(error);
        page.remember_days = days;
        if method == MethodKind::Passkey {
            page.passkey = passkey::second_factor_options(state, &user_id).await?;
        }
        Ok(page.render(state, status))
    };

    // NIST SP 800-63B §5.2.2: the counters live in the database, shared by every session and node.
    // After too many consecutive failures the code factors lock; a recovery code is the other route,
    // and its success clears the count (NIST SP 800-63B §5.2.2).
    if method != MethodKind::RecoveryCode
        && policy.account_locked(db.failures_since(&consecutive_key, 0).await?)
    {
        tracing::warn!(target: "gatehouse::security", "second factor locked for the account");
        audit::record(
            state,
            Some(&user_id),
            audit_kind::SECOND_FACTOR_LOCKED,
            json!({ "scope": "account" }),
            client,
        )
        .await;
        return page(ACCOUNT_LOCKED, StatusCode::TOO_MANY_REQUESTS).await;
    }
    if policy.method_locked(
        db.failures_since(&method_key, policy.counting_since(now))
            .await?,
    ) {
        tracing::warn!(target: "gatehouse::security", method = method.as_str(), "second factor method locked");
        audit::record(
            state,
            Some(&user_id),
            audit_kind::SECOND_FACTOR_LOCKED,
            json!({ "method": method.as_str() }),
            client,
        )
        .await;
        return page(METHOD_LOCKED, StatusCode::TOO_MANY_REQUESTS).await;
    }
    let earned: Option<Vec<String>> = match method {
        MethodKind::Passkey => {
            passkey::verify_second_factor(state, &user_id, &form.ceremony, &form.credential).await?
        }
        MethodKind::Totp => verify_totp(state, &user_id, &form.code, now)
            .await?
            .then(|| assurance::amr(Some(method))),
        MethodKind::Email | MethodKind::Sms => sent_for(&pending.step, method)
            .is_some_and(|sent| sent.code.verify(&state.0.code_key, &form.code, now).is_ok())
            .then(|| assurance::amr(Some(method))),
        MethodKind::RecoveryCode => match recovery::hash(&state.0.recovery_key, &form.code) {
            Some(hash) => db
                .use_recovery_code(&user_id, &hash, now)
                .await?
                .then(|| assurance::amr(Some(method))),
            None => None,
        },
    };
    let Some(amr) = earned else {
        db.record_failure(&method_key, policy.window_start(now))
            .await?;
        db.record_failure(&consecutive_key, 0).await?;
        tracing::info!(target: "gatehouse::security", method = method.as_str(), "second factor failed");
        audit::record(
            state,
            Some(&user_id),
            audit_kind::SECOND_FACTOR_FAILED,
            json!({ "method": method.as_str() }),
            client,
        )
        .await;
        return page(WRONG_CODE, StatusCode::OK).await;
    };
    db.clear_failures(&method_key).await?;
    db.clear_failures(&consecutive_key).await?;
    tracing::info!(target: "gatehouse::security", method = method.as_str(), "second factor accepted");

    let (jar, signed_in) =
        flow::start_session(state, jar, &user_id, amr, assurance::acr(Some(method))).await?;
    let jar = if form.remember == "yes" && days > 0 {
        // "Don't ask again on this device": a random token in a long-lived cookie, stored hashed.
        let token = gatehouse_login::csrf::random_id();
        // Without a User-Agent the label stays empty; the account page then says "Unknown browser".
        let label = client.user_agent.clone().unwrap_or_default();
        let expires_at = now + i64::from(days) * 24 * 3600;
        db.remember_device(
            &gatehouse_oidc::token_hash(&token),
            &user_id,
            &label,
            now,
            expires_at,
        )
        .await?;
        jar.add(cookies::device(
            token,
            days,
            state.0.settings.secure_cookies,
        ))
    } else {
        jar
    };
    let detail = json!({ "amr": signed_in.amr, "method": method.as_str() });
    audit::signed_in(state, &user_id, detail, client).await;
    if method == MethodKind::RecoveryCode {
        // Tell the person how many codes remain before going on.
        let left = db.recovery_codes_left(&user_id).await?;
        audit::record(
            state,
            Some(&user_id),
            audit_kind::RECOVERY_CODE_USED,
            json!({ "left": left }),
            client,
        )
        .await;
        let what = Text::new("notice-recovery-code-used").with("left", left);
        notify::security_notice(state, &user_id, what, client).await;
        let step = SignInStep::Authenticated { user_id };
        db.update_pending_sign_in(&gatehouse_oidc::token_hash(&pending.id), &step.to_json())
            .await?;
        let context =
            json!({ "left": left, "continue_url": format!("/continue?flow={}", pending.id) });
        return Ok((
            jar,
            render_page(state, "recovery_used.html", context, StatusCode::OK),
        )
            .into_response());
    }
    flow::continue_signed_in(state, jar, pending, signed_in).await
}

/// How many days this person's organisation lets a device be remembered (0 = never).
async fn remember_days(state: &AppState, user_id: &str) -> Result<u32, PageError> {
    let user = state.0.db.user(user_id).await?;
    Ok(user
        .and_then(|u| {
            state
                .organisation(&u.organisation_id)
                .map(|o| o.remember_device_days)
        })
        .unwrap_or(0))
}

/// The code sent for `method` during this sign-in, if any.
fn sent_for(step: &SignInStep, method: MethodKind) -> Option<&SentChallenge> {
    match step {
        SignInStep::SecondFactor {
            sent: Some(sent), ..
        } if sent.method == method.as_str() => Some(sent),
        _ => None,
    }
}

/// Checks `code` against each of the person's authenticator apps; a matching step is accepted at most
/// once across all nodes (the store's conditional update decides).
async fn verify_totp(
    state: &AppState,
    user_id: &str,
    code: &str,
    now: i64,
) -> Result<bool, PageError> {
    for factor in state.0.db.factors(user_id).await? {
        if factor.kind != MethodKind::Totp.as_str() {
            continue;
        }
        let Some(sealed) = &factor.secret_sealed else {
            continue;
        };
        let secret = TotpSecret::from_bytes(state.0.provider.master_key.open(sealed, &factor.id)?);
        match gatehouse_mfa::totp::verify(&secret, code, now, factor.last_step) {
            Ok(step) => return Ok(state.0.db.accept_totp_step(&factor.id, step, now).await?),
            Err(MfaError::Replayed) => {
                tracing::warn!(target: "gatehouse::security", "replayed authenticator code refused");
                return Ok(false);
            }
            Err(_) => {}
        }
    }
    Ok(false)
}

/// `GET /continue`: goes on with a sign-in after a notice page.
pub async fn continue_after_notice(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(query): Query<FlowQuery>,
) -> Response {
    resume(&state, jar, &query.flow)
        .await
        .unwrap_or_else(|e| e.render(&state))
}

async fn resume(state: &AppState, jar: CookieJar, flow_id: &str) -> Result<Response, PageError> {
    let (pending, _) = flow::load(state, &jar, flow_id).await?;
    let SignInStep::Authenticated { user_id } = &pending.step else {
        return flow::go_to_step(state, &pending.id, &pending.step).await;
    };
    let Some(session) = flow::signed_in(state, &jar)
        .await?
        .filter(|s| s.user_id == *user_id)
    else {
        return Err(PageError::expired());
    };
    let signed_in = SignedIn {
        authenticated_now: true,
        ..session
    };
    flow::continue_signed_in(state, jar, pending, signed_in).await
}
