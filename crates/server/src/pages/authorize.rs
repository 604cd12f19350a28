//! `GET|POST /authorize` (OpenID Connect Core §3.1.2.1: both methods must be supported).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use gatehouse_login::i18n::Text;
use gatehouse_oidc::authorize::AuthorizeRejection;

use super::{FormPairs, QueryPairs, flow, form_pairs, query_pairs, see_other};
use crate::error::PageError;
use crate::state::AppState;

pub async fn get(State(state): State<AppState>, jar: CookieJar, query: QueryPairs) -> Response {
    let pairs = query_pairs(query);
    authorize(&state, jar, pairs)
        .await
        .unwrap_or_else(|e| e.render(&state))
}

pub async fn post(State(state): State<AppState>, jar: CookieJar, form: FormPairs) -> Response {
    let pairs = form_pairs(form);
    authorize(&state, jar, pairs)
        .await
        .unwrap_or_else(|e| e.render(&state))
}

async fn authorize(
    state: &AppState,
    jar: CookieJar,
    pairs: Vec<(String, String)>,
) -> Result<Response, PageError> {
    let request = match state.0.provider.validate_authorization(&pairs) {
        Ok(request) => request,
        Err(AuthorizeRejection::ShowError { description }) => {
            return Err(PageError::BadRequest {
                title: Text::new("error-bad-sign-in-link"),
                message: Text::new("error-link-from-app"),
                detail: Some(description),
            });
        }
        Err(AuthorizeRejection::Redirect(url)) => return Ok(see_other(&url).into_response()),
    };
    let jar = crate::language::remember_ui_locales(
        jar,
        request.ui_locales.as_deref(),
        state.0.settings.secure_cookies,
    );
    let signed_in = flow::signed_in(state, &jar).await?;
    let consent = match &signed_in {
        Some(s) => flow::consent_state(state, &s.user_id, &request.client_id, false).await?,
        None => Default::default(),
    };
    flow::advance(
        state,
        jar,
        flow::SignInFor::Client {
            request: Box::new(request),
        },
        signed_in,
        consent,
        None,
    )
    .await
}
