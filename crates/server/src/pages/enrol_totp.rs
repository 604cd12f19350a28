//! Adding an authenticator app on the account page (or in the set-up wizard): a new secret, its QR
//! code and the key for typing in, saved once a current code proves the app works.

use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gatehouse_login::i18n::Text;
use gatehouse_mfa::totp::{self, TotpSecret};
use gatehouse_mfa::{MethodKind, assurance};
use gatehouse_store::factors::StoredFactor;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::account::{
    Added, CSRF_PURPOSE, WizardQuery, account_form, factor_added, new_factor_id, signed_in_user,
};
use super::security::may_add;
use crate::error::{PageError, render_page};
use crate::state::AppState;

/// Minutes a person has to type the first code after the QR code is shown.
const ENROLMENT_SECONDS: i64 = 15 * 60;
const ENROLMENT_CONTEXT: &str = "totp-enrolment";

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
    error: Option<Text>,
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
        return totp_page(state, jar, None, Some(Text::new("totp-too-slow")), flow).await;
    };
    let Ok(step) = totp::verify(&secret, &form.code, now, None) else {
        return totp_page(
            state,
            jar,
            Some(&form.enrolment),
            Some(Text::new("totp-wrong-code")),
            flow,
        )
        .await;
    };
    let db = &state.0.db;
    let existing = db.factors(&user.id).await?;
    let id = new_factor_id();
    let label = match form.label.trim() {
        "" => state.text(&Text::new("method-totp")),
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
