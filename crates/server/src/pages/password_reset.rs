//! Forgotten password: the address → a six-digit code by e-mail → the code → a new password.
//!
//! Every address typed gets the same answer and the same work (a reset is saved for unknown
//! addresses too, with a code nobody was sent), so the pages never tell whether an account exists.
//! The reset is bound to the browser that asked; setting the new password ends every session,
//! refresh token and remembered device of the account, and never skips the second factor: the person
//! signs in afterwards as usual.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use gatehouse_login::audit as audit_kind;
use gatehouse_login::i18n::Text;
use gatehouse_login::password_reset::{self, ResetFacts, ResetProblem};
use gatehouse_mfa::code::{self, CodePolicy, SentCode};
use gatehouse_store::outbox::OutgoingEmail;
use gatehouse_store::password_resets::PasswordReset;
use gatehouse_store::users::{User, normalize_email};
use serde::Deserialize;
use serde_json::json;

use crate::audit::{self, ClientInfo};
use crate::cookies;
use crate::error::{PageError, render_page};
use crate::notify;
use crate::state::AppState;
use crate::{language, theme_choice};

const CSRF_PURPOSE: &str = "password-reset";
const POLICY: CodePolicy = CodePolicy {
    lifetime_seconds: password_reset::CODE_LIFETIME_SECONDS,
    resend_after_seconds: 30,
};
/// Codes asked for per typed address, and per client address, in the throttle window.
const REQUESTS_PER_ADDRESS: i64 = 5;
const REQUESTS_PER_CLIENT: i64 = 20;

#[derive(Deserialize, Default)]
pub struct ResetQuery {
    #[serde(default)]
    flow: String,
}

#[derive(Deserialize)]
pub struct AskForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    flow: String,
    #[serde(default)]
    email: String,
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    flow: String,
    #[serde(default)]
    reset: String,
    #[serde(default)]
    code: String,
}

#[derive(Deserialize)]
pub struct NewPasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    flow: String,
    #[serde(default)]
    reset: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    repeat_password: String,
}

/// One step of the reset pages.
struct Page<'a> {
    step: &'static str,
    browser_id: &'a str,
    flow: &'a str,
    reset: &'a str,
    email: &'a str,
    error: Option<Text>,
    /// Every rule a new password broke.
    problems: Vec<Text>,
    /// The organisation's password rules.
    rules: Option<Text>,
}

impl<'a> Page<'a> {
    /// The page at `step`, for this browser, carrying the pending sign-in `flow` when it is one.
    fn new(step: &'static str, browser_id: &'a str, flow: &'a str) -> Self {
        Self {
            step,
            browser_id,
            flow: carried(flow),
            reset: "",
            email: "",
            error: None,
            problems: Vec::new(),
            rules: None,
        }
    }

    fn render(&self, state: &AppState) -> Response {
        let context = json!({
            "step": self.step,
            "csrf": state.0.csrf.token(self.browser_id, CSRF_PURPOSE),
            "flow": self.flow,
            "reset": self.reset,
            "email": self.email,
            "error": self.error,
            "problems": self.problems,
            "rules": self.rules,
        });
        let status = if self.error.is_some() || !self.problems.is_empty() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        };
        render_page(state, "password_reset.html", context, status)
    }
}

/// A pending sign-in's id as we make them (random, URL-safe); anything else is not carried along.
fn is_flow_id(flow: &str) -> bool {
    !flow.is_empty()
        && flow.len() <= 64
        && flow
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The pending sign-in carried through the reset pages, when it looks like one.
pub(super) fn carried(flow: &str) -> &str {
    if is_flow_id(flow) { flow } else { "" }
}

/// `GET /password/forgot`: the address form.
pub async fn ask(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(query): Query<ResetQuery>,
) -> Response {
    let (jar, browser_id) = cookies::browser_id(jar, state.0.settings.secure_cookies);
    let page = Page::new("ask", &browser_id, &query.flow);
    (jar, page.render(&state)).into_response()
}

/// `POST /password/forgot`: saves a reset (and, for an account, queues its code), then shows the code form.
pub async fn request(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    jar: CookieJar,
    client: ClientInfo,
    Form(form): Form<AskForm>,
) -> Response {
    start(&state, jar, peer, &client, form)
        .await
        .unwrap_or_else(|e| e.render(&state))
}

async fn start(
    state: &AppState,
    jar: CookieJar,
    peer: SocketAddr,
    client: &ClientInfo,
    form: AskForm,
) -> Result<Response, PageError> {
    let (jar, browser_id) = cookies::browser_id(jar, state.0.settings.secure_cookies);
    super::check_csrf(state, &browser_id, CSRF_PURPOSE, &form.csrf)?;
    let email = normalize_email(&form.email);
    let mut page = Page {
        email: &email,
        ..Page::new("ask", &browser_id, &form.flow)
    };
    if !email.contains('@') || email.len() > 254 {
        page.error = Some(Text::new("reset-bad-address"));
        return Ok((jar, page.render(state)).into_response());
    }
    if !may_request(state, &email, peer).await? {
        page.error = Some(Text::new("reset-too-often"));
        return Ok((jar, page.render(state)).into_response());
    }
    let now = state.0.provider.now();
    let user = state
        .0
        .db
        .user_by_email(&email)
        .await?
        .filter(|u| !u.disabled);
    let typed_code = code::generate();
    let sent = SentCode::new(&state.0.code_key, &typed_code, now, POLICY);
    let reset_id = gatehouse_login::csrf::random_id();
    let reset = PasswordReset {
        id_hash: gatehouse_oidc::token_hash(&reset_id),
        browser_hash: gatehouse_oidc::token_hash(&browser_id),
        user_id: user.as_ref().map(|u| u.id.clone()),
        email: email.clone(),
        code: serde_json::to_string(&sent).map_err(|e| PageError::Internal(e.to_string()))?,
        attempts: 0,
        created_at: now,
        expires_at: sent.expires_at,
        verified_at: None,
        used_at: None,
    };
    // The reset is saved, and its e-mail rendered and queued, after the answer: the answer then takes
    // the same time whether or not the address has an account (the lookup above is the same work).
    let background = state.clone();
    let client = client.clone();
    // The e-mail is written there too: in this request's theme and language.
    let (theme, language) = (theme_choice::requested(), language::current());
    state.spawn_after_answer(theme_choice::scoped(
        theme,
        language::scoped(language, async move {
            if let Err(e) =
                save_reset(&background, &reset, user.as_ref(), &typed_code, &client).await
            {
                tracing::error!(error = ?e, "saving a password reset failed");
            }
        }),
    ));
    tracing::info!(target: "gatehouse::security", "password reset asked for");
    page.step = "code";
    page.reset = &reset_id;
    Ok((jar, page.render(state)).into_response())
}

/// Saves `reset` with, for an account, the e-mail carrying its code, in one transaction.
async fn save_reset(
    state: &AppState,
    reset: &PasswordReset,
    user: Option<&User>,
    typed_code: &str,
    client: &ClientInfo,
) -> Result<(), PageError> {
    let mail = match user {
        Some(user) => Some(reset_email(state, &user.email, typed_code)?),
        None => None,
    };
    state
        .0
        .db
        .start_password_reset(reset, mail.as_ref())
        .await?;
    if let Some(user) = user {
        state.wake_outbox();
        audit::record(
            state,
            Some(&user.id),
            audit_kind::PASSWORD_RESET_REQUESTED,
            json!({}),
            client,
        )
        .await;
    }
    Ok(())
}

/// Sets `password` (already checked against the rules) with a reset whose code or link was proven:
/// the reset is used up, the account signed out everywhere, `notice` queued to the account's address
/// and the change audited. `false` when the reset was already used.
pub(super) async fn set_password_with(
    state: &AppState,
    reset: &PasswordReset,
    user: &User,
    password: String,
    notice: Text,
    audit_detail: serde_json::Value,
    client: &ClientInfo,
) -> Result<bool, PageError> {
    let hash = super::login::hash_new_password(state, password).await?;
    let notice = notify::notice_email(state, user, notice, client).map_err(PageError::Internal)?;
    let now = state.0.provider.now();
    if !state
        .0
        .db
        .complete_password_reset(&reset.id_hash, &user.id, &hash, now, Some(&notice))
        .await?
    {
        return Ok(false);
    }
    state.wake_outbox();
    audit::record(
        state,
        Some(&user.id),
        audit_kind::PASSWORD_RESET,
        audit_detail,
        client,
    )
    .await;
    Ok(true)
}

fn reset_email(state: &AppState, to: &str, typed_code: &str) -> Result<OutgoingEmail, PageError> {
    let service = &state.0.settings.display_name;
    notify::themed_email(
        state,
        "password_reset.txt",
        json!({ "code": typed_code, "minutes": POLICY.lifetime_seconds / 60, "service": service }),
        to,
        state.text(&notify::service_text(state, "reset-mail-subject")),
    )
    .map_err(PageError::Internal)
}

/// Counts a request against the typed address and the client address; `false` when either is spent.
pub(super) async fn may_request(
    state: &AppState,
    email: &str,
    peer: SocketAddr,
) -> Result<bool, PageError> {
    let policy = state.0.settings.mfa_attempts;
    let now = state.0.provider.now();
    let limits = [
        (
            format!("reset:to:{}", gatehouse_oidc::token_hash(email)),
            REQUESTS_PER_ADDRESS,
        ),
        (format!("reset:ip:{}", peer.ip()), REQUESTS_PER_CLIENT),
    ];
    for (key, limit) in &limits {
        if state
            .0
            .db
            .failures_since(key, policy.counting_since(now))
            .await?
            >= *limit
        {
            tracing::warn!(target: "gatehouse::security", "password reset requests limited");
            return Ok(false);
        }
    }
    for (key, _) in &limits {
        state
            .0
            .db
            .record_failure(key, policy.window_start(now))
            .await?;
    }
    Ok(true)
}

/// The reset behind `reset_id`, if this browser may still use it (tries counted by the caller).
async fn usable_reset(
    state: &AppState,
    browser_id: &str,
    reset_id: &str,
    count_try: bool,
) -> Result<Result<PasswordReset, ResetProblem>, PageError> {
    let id_hash = gatehouse_oidc::token_hash(reset_id);
    let Some(mut reset) = state.0.db.password_reset(&id_hash).await? else {
        return Ok(Err(ResetProblem::Expired));
    };
    if count_try {
        reset.attempts = state.0.db.count_password_reset_try(&id_hash).await?;
    }
    let facts = ResetFacts {
        same_browser: reset.browser_hash == gatehouse_oidc::token_hash(browser_id),
        expires_at: reset.expires_at,
        tries: reset.attempts,
        used: reset.used_at.is_some(),
    };
    Ok(password_reset::check(facts, state.0.provider.now()).map(|()| reset))
}

/// What every form after the first starts with: this browser, a valid CSRF token, and a reset it may
/// still use — or the address form saying why not, as the answer.
async fn open_reset(
    state: &AppState,
    jar: CookieJar,
    csrf: &str,
    flow: &str,
    reset_id: &str,
    count_try: bool,
) -> Result<Result<(CookieJar, String, PasswordReset), Response>, PageError> {
    let (jar, browser_id) = cookies::browser_id(jar, state.0.settings.secure_cookies);
    super::check_csrf(state, &browser_id, CSRF_PURPOSE, csrf)?;
    match usable_reset(state, &browser_id, reset_id, count_try).await? {
        Ok(reset) => Ok(Ok((jar, browser_id, reset))),
        Err(problem) => {
            let page = Page {
                error: Some(problem.message()),
                ..Page::new("ask", &browser_id, flow)
            };
            Ok(Err((jar, page.render(state)).into_response()))
        }
    }
}

/// `POST /password/reset`: checks the code.
pub async fn enter_code(
    State(state): State<AppState>,
    jar: CookieJar,
    client: ClientInfo,
    Form(form): Form<CodeForm>,
) -> Response {
    check_code(&state, jar, &client, form)
        .await
        .unwrap_or_else(|e| e.render(&state))
}

async fn check_code(
    state: &AppState,
    jar: CookieJar,
    client: &ClientInfo,
    form: CodeForm,
) -> Result<Response, PageError> {
    let (jar, browser_id, reset) =
        match open_reset(state, jar, &form.csrf, &form.flow, &form.reset, true).await? {
            Ok(opened) => opened,
            Err(answer) => return Ok(answer),
        };
    let mut page = Page {
        reset: &form.reset,
        ..Page::new("code", &browser_id, &form.flow)
    };
    let now = state.0.provider.now();
    let sent: Option<SentCode> = serde_json::from_str(&reset.code).ok();
    let right = sent.is_some_and(|s| s.verify(&state.0.code_key, &form.code, now).is_ok());
    let email = reset.email.clone();
    page.email = &email;
    match reset.user_id.as_deref() {
        Some(user_id) if right => {
            state
                .0
                .db
                .verify_password_reset(&reset.id_hash, now)
                .await?;
            page.step = "new";
            if let Some(user) = state.0.db.user(user_id).await? {
                page.rules = Some(state.password_policy(&user.organisation_id).summary());
            }
            tracing::info!(target: "gatehouse::security", "password reset code accepted");
        }
        user_id => {
            audit::record(
                state,
                user_id,
                audit_kind::SIGN_IN_FAILED,
                json!({ "step": "password-reset-code" }),
                client,
            )
            .await;
            page.error = Some(if reset.attempts >= password_reset::MAX_TRIES {
                ResetProblem::TooManyTries.message()
            } else {
                Text::new("reset-wrong-code")
            });
        }
    }
    Ok((jar, page.render(state)).into_response())
}

/// `POST /password/new`: sets the new password and signs the account out everywhere.
pub async fn set_password(
    State(state): State<AppState>,
    jar: CookieJar,
    client: ClientInfo,
    Form(form): Form<NewPasswordForm>,
) -> Response {
    save_password(&state, jar, &client, form)
        .await
        .unwrap_or_else(|e| e.render(&state))
}

async fn save_password(
    state: &AppState,
    jar: CookieJar,
    client: &ClientInfo,
    form: NewPasswordForm,
) -> Result<Response, PageError> {
    let (jar, browser_id, reset) =
        match open_reset(state, jar, &form.csrf, &form.flow, &form.reset, false).await? {
            Ok(opened) => opened,
            Err(answer) => return Ok(answer),
        };
    let mut page = Page::new("ask", &browser_id, &form.flow);
    let (Some(user_id), Some(_)) = (reset.user_id.as_deref(), reset.verified_at) else {
        // Only a reset whose code was typed gets here; anything else starts again.
        page.error = Some(Text::new("reset-code-first"));
        return Ok((jar, page.render(state)).into_response());
    };
    let email = reset.email.clone();
    page.step = "new";
    page.email = &email;
    page.reset = &form.reset;
    let Some(user) = state.0.db.user(user_id).await? else {
        return Err(PageError::expired());
    };
    let problems = super::security::new_password_problems(
        state,
        &user,
        &form.new_password,
        &form.repeat_password,
    );
    if !problems.is_empty() {
        page.problems = problems;
        page.rules = Some(state.password_policy(&user.organisation_id).summary());
        return Ok((jar, page.render(state)).into_response());
    }
    let saved = set_password_with(
        state,
        &reset,
        &user,
        form.new_password,
        Text::new("notice-password-reset"),
        json!({}),
        client,
    )
    .await?;
    if !saved {
        page.error = Some(ResetProblem::Used.message());
        page.step = "ask";
        return Ok((jar, page.render(state)).into_response());
    }
    tracing::info!(target: "gatehouse::security", "password reset");
    let next = if is_flow_id(&form.flow) {
        format!("/login?flow={}", form.flow)
    } else {
        "/account".to_owned()
    };
    let context = json!({ "step": "done", "next": next });
    let jar = cookies::clear_session(jar);
    Ok((
        jar,
        render_page(state, "password_reset.html", context, StatusCode::OK),
    )
        .into_response())
}
