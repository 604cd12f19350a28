//! Moving a pending sign-in forward: after every step, ask the protocol what comes next and go there.

use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use gatehouse_login::sign_in::SignInStep;
use gatehouse_mfa::MethodKind;
use gatehouse_mfa::assurance;
use gatehouse_mfa::policy::{self, Demand, SecondStep};
use gatehouse_oidc::authorize::{AuthorizationRequest, ConsentState, NextStep, SignedIn};
use gatehouse_oidc::scope::Scopes;
use gatehouse_store::flows::PendingSignIn;
use gatehouse_store::sessions::BrowserSession;
use gatehouse_store::users::User;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::see_other;
use crate::audit::{self, ClientInfo};
use crate::cookies;
use crate::error::PageError;
use crate::state::AppState;

/// What a pending sign-in is for: an application's authorization request, or the person's own
/// account page.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "for", rename_all = "snake_case")]
pub enum SignInFor {
    Client {
        request: Box<AuthorizationRequest>,
    },
    Account,
    /// The account page too, but by way of the set-up wizard where the person's policy asks for a
    /// second factor they do not have: someone who has just chosen a password from a username link
    /// (signing in on the account page itself leaves the set-up to that page).
    AccountSetUp,
}

impl SignInFor {
    /// The name shown as "to continue to …".
    pub fn audience_name(&self, state: &AppState) -> String {
        match self {
            Self::Client { request } => state
                .0
                .provider
                .clients
                .get(&request.client_id)
                .map(|c| c.name.clone())
                .unwrap_or_default(),
            Self::Account | Self::AccountSetUp => {
                state.text(&gatehouse_login::i18n::Text::new("continue-to-account"))
            }
        }
    }

    /// The application asking, if any.
    pub fn client_id(&self) -> Option<&str> {
        match self {
            Self::Client { request } => Some(&request.client_id),
            Self::Account | Self::AccountSetUp => None,
        }
    }

    pub fn login_hint(&self) -> Option<&str> {
        match self {
            Self::Client { request } => request.login_hint.as_deref(),
            Self::Account | Self::AccountSetUp => None,
        }
    }
}

/// A pending sign-in loaded for this browser.
pub struct Pending {
    pub id: String,
    pub target: SignInFor,
    pub step: SignInStep,
}

/// The signed-in person behind the session cookie, if the session is live and the account active.
pub async fn signed_in(state: &AppState, jar: &CookieJar) -> Result<Option<SignedIn>, PageError> {
    let Some(cookie) = jar.get(cookies::SESSION) else {
        return Ok(None);
    };
    let hash = gatehouse_oidc::token_hash(cookie.value());
    let now = state.0.provider.now();
    let Some(session) = state.0.db.live_session(&hash, now).await? else {
        return Ok(None);
    };
    let active = state
        .0
        .db
        .user(&session.user_id)
        .await?
        .is_some_and(|u| !u.disabled);
    Ok(active.then_some(SignedIn {
        user_id: session.user_id,
        auth_time: session.auth_time,
        amr: session.amr,
        acr: session.acr,
        session_hash: hash,
        authenticated_now: false,
    }))
}

pub async fn consent_state(
    state: &AppState,
    user_id: &str,
    client_id: &str,
    given_now: bool,
) -> Result<ConsentState, PageError> {
    let on_record = state
        .0
        .db
        .consent(user_id, client_id)
        .await?
        .map(|s| Scopes::parse(&s));
    Ok(ConsentState {
        on_record,
        given_now,
    })
}

/// Loads the pending sign-in `id` if it exists, has not expired and belongs to this browser.
pub async fn load(
    state: &AppState,
    jar: &CookieJar,
    id: &str,
) -> Result<(Pending, String), PageError> {
    let browser_id = jar
        .get(cookies::BROWSER)
        .map(|c| c.value().to_owned())
        .ok_or_else(PageError::expired)?;
    let now = state.0.provider.now();
    let row = state
        .0
        .db
        .pending_sign_in(&gatehouse_oidc::token_hash(id), now)
        .await?
        .ok_or_else(PageError::expired)?;
    if row.browser_hash != gatehouse_oidc::token_hash(&browser_id) {
        return Err(PageError::expired());
    }
    let target = serde_json::from_str(&row.request).map_err(|_| PageError::expired())?;
    Ok((
        Pending {
            id: id.to_owned(),
            target,
            step: SignInStep::from_json(&row.state),
        },
        browser_id,
    ))
}

/// Loads the pending sign-in a form was submitted for, and checks the form's CSRF token.
pub async fn load_submitted(
    state: &AppState,
    jar: &CookieJar,
    id: &str,
    csrf: &str,
) -> Result<(Pending, String), PageError> {
    let (pending, browser_id) = load(state, jar, id).await?;
    if !state
        .0
        .csrf
        .verify(&browser_id, &csrf_purpose(&pending.id), csrf)
    {
        tracing::warn!(target: "gatehouse::security", "sign-in form without a valid CSRF token");
        return Err(PageError::Forbidden);
    }
    Ok((pending, browser_id))
}

pub fn csrf_purpose(flow_id: &str) -> String {
    format!("sign-in:{flow_id}")
}

/// Starts a browser session for a person who has just authenticated, replacing any session the
/// browser had (a fresh id on every sign-in: no session fixation).
pub async fn start_session(
    state: &AppState,
    jar: CookieJar,
    user_id: &str,
    amr: Vec<String>,
    acr: &str,
) -> Result<(CookieJar, SignedIn), PageError> {
    let now = state.0.provider.now();
    let session_id = gatehouse_login::csrf::random_id();
    let session = BrowserSession {
        id_hash: gatehouse_oidc::token_hash(&session_id),
        user_id: user_id.to_owned(),
        auth_time: now,
        amr,
        acr: Some(acr.to_owned()),
        created_at: now,
        expires_at: now + state.0.settings.session_lifetime,
    };
    state.0.db.create_session(&session).await?;
    if let Some(old) = jar.get(cookies::SESSION) {
        state
            .0
            .db
            .delete_session(&gatehouse_oidc::token_hash(old.value()))
            .await?;
    }
    let mut jar = jar.add(cookies::build(
        cookies::SESSION,
        session_id,
        state.0.settings.secure_cookies,
    ));
    // The language saved with the account follows the person to a browser that has no choice yet.
    if jar.get(cookies::LANGUAGE).is_none()
        && let Some(saved) = state.0.db.user(user_id).await?.and_then(|u| u.language)
        && state.themes().default_theme().translations().offers(&saved)
    {
        jar = jar.add(crate::language::choice_cookie(
            &saved,
            state.0.settings.secure_cookies,
        ));
    }
    let signed_in = SignedIn {
        user_id: session.user_id,
        auth_time: now,
        amr: session.amr,
        acr: session.acr,
        session_hash: session.id_hash,
        authenticated_now: true,
    };
    Ok((jar, signed_in))
}

/// Continues a pending sign-in once the person is authenticated (and, for a client, has consented
/// as far as they have).
pub async fn continue_signed_in(
    state: &AppState,
    jar: CookieJar,
    pending: Pending,
    signed_in: SignedIn,
) -> Result<Response, PageError> {
    let consent = match &pending.target {
        SignInFor::Client { request } => {
            consent_state(state, &signed_in.user_id, &request.client_id, false).await?
        }
        SignInFor::Account | SignInFor::AccountSetUp => ConsentState::default(),
    };
    advance(
        state,
        jar,
        pending.target,
        Some(signed_in),
        consent,
        Some(pending.id),
    )
    .await
}

/// Moves a pending sign-in to `step` and sends the browser to that step's page.
pub async fn go_to_step(
    state: &AppState,
    pending_id: &str,
    step: &SignInStep,
) -> Result<Response, PageError> {
    state
        .0
        .db
        .update_pending_sign_in(&gatehouse_oidc::token_hash(pending_id), &step.to_json())
        .await?;
    Ok(see_other(&format!("{}?flow={pending_id}", page_of(step))))
}

/// Everything that asks this person for a second factor for `target`.
fn demand_for(state: &AppState, user: &User, target: &SignInFor) -> Demand {
    let (client_required, acr_values, fresh) = match target {
        SignInFor::Client { request } => {
            let client = state.0.provider.clients.get(&request.client_id);
            (
                client.is_some_and(|c| c.require_mfa),
                request.acr_values.clone(),
                request.max_age.is_some(),
            )
        }
        SignInFor::Account | SignInFor::AccountSetUp => (false, None, false),
    };
    Demand {
        organisation: state.organisation(&user.organisation_id).map(|o| o.mfa),
        user_required: user.require_mfa,
        client_required,
        acr_values,
        fresh,
    }
}

/// Whether this browser is a remembered device of `user` that may stand in for the second step of
/// this sign-in (only for what the policy asks: never for `acr_values` or `max_age`).
pub async fn remembered_device_stands_in(
    state: &AppState,
    jar: &CookieJar,
    user: &User,
    target: &SignInFor,
) -> Result<bool, PageError> {
    let Some(token) = jar.get(cookies::DEVICE) else {
        return Ok(false);
    };
    if !demand_for(state, user, target).device_may_stand_in() {
        return Ok(false);
    }
    let now = state.0.provider.now();
    Ok(state
        .0
        .db
        .device_remembered(&gatehouse_oidc::token_hash(token.value()), &user.id, now)
        .await?)
}

/// What the policy asks of a person signed in with an existing session, on this browser: a
/// remembered device stands in for the policy's challenge (as it does at the password step), and the
/// session's `acr` then says so; `amr` keeps listing only what was done.
async fn second_step_on_this_device(
    state: &AppState,
    jar: &CookieJar,
    signed_in: &mut SignedIn,
    target: &SignInFor,
) -> Result<Option<SignInStep>, PageError> {
    let step = second_factor_step(state, signed_in, target).await?;
    if !matches!(step, Some(SignInStep::SecondFactor { .. })) || jar.get(cookies::DEVICE).is_none()
    {
        return Ok(step);
    }
    let Some(user) = state.0.db.user(&signed_in.user_id).await? else {
        return Ok(step);
    };
    if !remembered_device_stands_in(state, jar, &user, target).await? {
        return Ok(step);
    }
    state
        .0
        .db
        .set_session_acr(&signed_in.session_hash, assurance::ACR_REMEMBERED_DEVICE)
        .await?;
    signed_in.acr = Some(assurance::ACR_REMEMBERED_DEVICE.to_owned());
    second_factor_step(state, signed_in, target).await
}

/// What the second-factor policy asks of this signed-in person for `target`, given the `acr` their
/// session reached: nothing, a challenge (`SecondFactor`), or the set-up wizard (`Enrol`).
pub async fn second_factor_step(
    state: &AppState,
    signed_in: &SignedIn,
    target: &SignInFor,
) -> Result<Option<SignInStep>, PageError> {
    let user_id = &signed_in.user_id;
    let Some(user) = state.0.db.user(user_id).await? else {
        return Ok(None);
    };
    let demand = demand_for(state, &user, target);
    let factors = state.0.db.factors(user_id).await?;
    let reaching = |minimum: &str| {
        factors
            .iter()
            .filter_map(|f| MethodKind::parse(&f.kind))
            .find(|m| policy::method_reaches(*m, minimum))
    };
    Ok(
        match demand.second_step(!factors.is_empty(), signed_in.acr.as_deref()) {
            SecondStep::NotNeeded => None,
            SecondStep::Challenge { minimum_acr } => match reaching(minimum_acr) {
                Some(method) => Some(SignInStep::SecondFactor {
                    user_id: user_id.clone(),
                    method: method.as_str().to_owned(),
                    sent: None,
                    minimum_acr: Some(minimum_acr.to_owned()),
                }),
                // Only weaker factors (e-mail codes) for a strong demand: add a stronger one.
                None => Some(SignInStep::Enrol {
                    user_id: user_id.clone(),
                    minimum_acr: minimum_acr.to_owned(),
                }),
            },
            SecondStep::Enrol { minimum_acr } => Some(SignInStep::Enrol {
                user_id: user_id.clone(),
                minimum_acr: minimum_acr.to_owned(),
            }),
        },
    )
}

fn page_of(step: &SignInStep) -> &'static str {
    match step {
        SignInStep::Credentials => "/login",
        SignInStep::SecondFactor { .. } => "/mfa",
        SignInStep::Authenticated { .. } => "/continue",
        SignInStep::Enrol { .. } => "/mfa/setup",
        SignInStep::Consent { .. } => "/consent",
    }
}

/// Asks what comes next and sends the browser there: to the client with a code or an error, to the
/// account page, or to the sign-in or consent page of this pending sign-in (created if needed).
pub async fn advance(
    state: &AppState,
    jar: CookieJar,
    target: SignInFor,
    mut signed_in: Option<SignedIn>,
    consent: ConsentState,
    existing: Option<String>,
) -> Result<Response, PageError> {
    let provider = &state.0.provider;
    let step = match (&target, &mut signed_in) {
        (SignInFor::Account | SignInFor::AccountSetUp, Some(signed_in)) => {
            match second_step_on_this_device(state, &jar, signed_in, &target).await? {
                Some(step @ SignInStep::Enrol { .. })
                    if matches!(target, SignInFor::AccountSetUp) =>
                {
                    step
                }
                // People without a factor may still reach their account page: that is where they add one.
                None | Some(SignInStep::Enrol { .. }) => {
                    finish(state, existing.as_deref()).await?;
                    return Ok((jar, see_other("/account")).into_response());
                }
                Some(step) => step,
            }
        }
        (SignInFor::Account | SignInFor::AccountSetUp, None) => SignInStep::Credentials,
        (SignInFor::Client { request }, _) => {
            let next = match provider.next_step(request, signed_in.as_ref(), &consent) {
                Ok(next) => next,
                Err(error_redirect) => {
                    finish(state, existing.as_deref()).await?;
                    return Ok((jar, see_other(&error_redirect)).into_response());
                }
            };
            let second = match (&next, &mut signed_in) {
                (NextStep::IssueCode | NextStep::Consent, Some(signed_in)) => {
                    second_step_on_this_device(state, &jar, signed_in, &target).await?
                }
                _ => None,
            };
            match (next, &signed_in, second) {
                // The organisation, the person or the client wants a second factor first.
                (_, Some(_), Some(_)) if request.prompt.none => {
                    let redirect = provider.error_redirect(
                        request,
                        gatehouse_oidc::ErrorCode::InteractionRequired,
                        "a second factor is needed",
                    );
                    finish(state, existing.as_deref()).await?;
                    return Ok((jar, see_other(&redirect)).into_response());
                }
                (_, Some(_), Some(step)) => step,
                (NextStep::IssueCode, Some(signed_in), None) => {
                    let redirect = provider.issue_code(request, signed_in).await?;
                    finish(state, existing.as_deref()).await?;
                    tracing::info!(target: "gatehouse::security", client_id = %request.client_id, "authorization code issued");
                    return Ok((jar, see_other(&redirect)).into_response());
                }
                (NextStep::Consent, Some(signed_in), None) => SignInStep::Consent {
                    user_id: signed_in.user_id.clone(),
                    authenticated_now: signed_in.authenticated_now,
                },
                _ => SignInStep::Credentials,
            }
        }
    };
    if let Some(id) = existing {
        return Ok((jar, go_to_step(state, &id, &step).await?).into_response());
    }
    let (jar, pending) = start_pending(state, jar, target, step).await?;
    Ok((
        jar,
        see_other(&format!("{}?flow={}", page_of(&pending.step), pending.id)),
    )
        .into_response())
}

/// Stores a new pending sign-in for `target` at `step`, bound to this browser (whose cookie is set
/// if it had none), and remembers the client's theme for its pages.
pub async fn start_pending(
    state: &AppState,
    jar: CookieJar,
    target: SignInFor,
    step: SignInStep,
) -> Result<(CookieJar, Pending), PageError> {
    let provider = &state.0.provider;
    let secure = state.0.settings.secure_cookies;
    let (jar, browser_id) = cookies::browser_id(jar, secure);
    let theme = state.theme_for(target.client_id(), None);
    let jar = crate::theme_choice::remember(jar, theme.as_deref(), secure);
    let id = gatehouse_login::csrf::random_id();
    let now = provider.now();
    let target_json =
        serde_json::to_string(&target).map_err(|e| PageError::Internal(e.to_string()))?;
    state
        .0
        .db
        .insert_pending_sign_in(&PendingSignIn {
            id_hash: gatehouse_oidc::token_hash(&id),
            browser_hash: gatehouse_oidc::token_hash(&browser_id),
            request: target_json,
            state: step.to_json(),
            created_at: now,
            expires_at: now + state.0.settings.sign_in_lifetime,
        })
        .await?;
    Ok((jar, Pending { id, target, step }))
}

/// The person behind a pending sign-in has proved their password (typed it, or just chose it with
/// an e-mailed link). A second factor the policy asks for and they have comes before any session
/// exists, unless this browser is a remembered device that stands in for it; otherwise a session
/// starts at the password level (the set-up wizard, for those without a factor, runs with it) and
/// the sign-in continues.
pub async fn password_accepted(
    state: &AppState,
    jar: CookieJar,
    user: &User,
    pending: Pending,
    client: &ClientInfo,
) -> Result<Response, PageError> {
    let now = state.0.provider.now();
    // From here on the person's organisation is known: its theme, unless the client has one.
    let theme = state.theme_for(pending.target.client_id(), Some(&user.organisation_id));
    let jar = crate::theme_choice::remember(jar, theme.as_deref(), state.0.settings.secure_cookies);
    let password_only = SignedIn {
        user_id: user.id.clone(),
        auth_time: now,
        amr: assurance::amr(None),
        acr: Some(assurance::acr(None).to_owned()),
        session_hash: String::new(),
        authenticated_now: true,
    };
    let mut acr = assurance::acr(None);
    if let Some(step @ SignInStep::SecondFactor { .. }) =
        second_factor_step(state, &password_only, &pending.target).await?
    {
        // A remembered device stands in for the policy's second step; the token says so honestly:
        // `amr` lists only the password, `acr` names the remembered device.
        if !remembered_device_stands_in(state, &jar, user, &pending.target).await? {
            return Ok((jar, go_to_step(state, &pending.id, &step).await?).into_response());
        }
        acr = assurance::ACR_REMEMBERED_DEVICE;
    }
    let (jar, signed_in) = start_session(state, jar, &user.id, assurance::amr(None), acr).await?;
    audit::signed_in(state, &user.id, json!({ "amr": signed_in.amr }), client).await;
    continue_signed_in(state, jar, pending, signed_in).await
}

async fn finish(state: &AppState, existing: Option<&str>) -> Result<(), PageError> {
    if let Some(id) = existing {
        state
            .0
            .db
            .delete_pending_sign_in(&gatehouse_oidc::token_hash(id))
            .await?;
    }
    Ok(())
}
