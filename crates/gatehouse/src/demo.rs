//! The demo relying party, mounted only when `demo = true`: a small app that signs in through
//! Gatehouse with the `openidconnect` crate, exactly as an outside app would, and shows what it got.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use gatehouse_server::AppState;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse as _, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    TokenResponse as _,
};
use serde::Deserialize;
use serde_json::json;

pub const CLIENT_ID: &str = "demo-app";
pub const CALLBACK: &str = "/demo/callback";

#[derive(Debug)]
struct Demo {
    issuer: String,
    http: reqwest::Client,
    /// state → (PKCE verifier, nonce) of sign-ins under way.
    pending: Mutex<HashMap<String, (String, String)>>,
}

pub fn routes(issuer: &str) -> Router<AppState> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default();
    let demo = Arc::new(Demo {
        issuer: issuer.to_owned(),
        http,
        pending: Mutex::new(HashMap::new()),
    });
    Router::new()
        .route("/demo/start", get(start))
        .route(CALLBACK, get(callback))
        .layer(Extension(demo))
}

type DemoClient = openidconnect::core::CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

async fn client(demo: &Demo) -> Result<DemoClient, String> {
    let issuer = IssuerUrl::new(demo.issuer.clone()).map_err(|e| e.to_string())?;
    let metadata = CoreProviderMetadata::discover_async(issuer, &demo.http)
        .await
        .map_err(|e| format!("discovery failed: {e}"))?;
    let redirect =
        RedirectUrl::new(format!("{}{CALLBACK}", demo.issuer)).map_err(|e| e.to_string())?;
    Ok(
        CoreClient::from_provider_metadata(metadata, ClientId::new(CLIENT_ID.into()), None)
            .set_redirect_uri(redirect),
    )
}

async fn start(State(state): State<AppState>, Extension(demo): Extension<Arc<Demo>>) -> Response {
    let client = match client(&demo).await {
        Ok(c) => c,
        Err(e) => return page(&state, Err(e)),
    };
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();
    demo.pending
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(
            csrf.secret().clone(),
            (verifier.secret().clone(), nonce.secret().clone()),
        );
    (StatusCode::SEE_OTHER, [(header::LOCATION, url.to_string())]).into_response()
}

#[derive(Deserialize)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

async fn callback(
    State(state): State<AppState>,
    Extension(demo): Extension<Arc<Demo>>,
    Query(cb): Query<Callback>,
) -> Response {
    let result = finish(&demo, cb).await;
    page(&state, result)
}

async fn finish(demo: &Demo, cb: Callback) -> Result<serde_json::Value, String> {
    if let Some(error) = cb.error {
        return Err(format!(
            "The sign-in ended with {error}: {}",
            cb.error_description.unwrap_or_default()
        ));
    }
    let pending = cb.state.and_then(|s| {
        demo.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&s)
    });
    let Some((verifier, nonce)) = pending else {
        return Err("This sign-in was not started here, or it was already finished.".into());
    };
    let code = cb.code.ok_or("The response has no code.")?;
    let client = client(demo).await?;
    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| e.to_string())?
        .set_pkce_verifier(PkceCodeVerifier::new(verifier))
        .request_async(&demo.http)
        .await
        .map_err(|e| format!("code exchange failed: {e}"))?;
    let id_token = token.id_token().ok_or("no ID token in the response")?;
    let verifier = client.id_token_verifier();
    let claims = id_token
        .claims(&verifier, &Nonce::new(nonce))
        .map_err(|e| format!("ID token rejected: {e}"))?;
    if let Some(expected) = claims.access_token_hash() {
        let alg = id_token.signing_alg().map_err(|e| e.to_string())?;
        let key = id_token.signing_key(&verifier).map_err(|e| e.to_string())?;
        let actual = AccessTokenHash::from_token(token.access_token(), alg, key)
            .map_err(|e| e.to_string())?;
        if actual != *expected {
            return Err("at_hash does not match the access token".into());
        }
    }
    let userinfo: CoreUserInfoClaims = client
        .user_info(token.access_token().clone(), None)
        .map_err(|e| e.to_string())?
        .request_async(&demo.http)
        .await
        .map_err(|e| format!("userinfo failed: {e}"))?;
    let name = claims
        .name()
        .and_then(|n| n.get(None))
        .map(|n| n.to_string())
        .unwrap_or_default();
    let logout = url::Url::parse_with_params(
        &format!("{}/end_session", demo.issuer),
        &[
            ("id_token_hint", id_token.to_string()),
            ("post_logout_redirect_uri", format!("{}/", demo.issuer)),
        ],
    )
    .map_err(|e| e.to_string())?;
    Ok(json!({
        "name": name,
        "id_token_claims": serde_json::to_string_pretty(claims).unwrap_or_default(),
        "userinfo": serde_json::to_string_pretty(&userinfo).unwrap_or_default(),
        "logout_url": logout.to_string(),
    }))
}

fn page(state: &AppState, result: Result<serde_json::Value, String>) -> Response {
    let (status, context) = match result {
        Ok(context) => (StatusCode::OK, context),
        Err(error) => (StatusCode::BAD_GATEWAY, json!({ "error": error })),
    };
    match state.theme().render("demo.html", context) {
        Ok(html) => (status, axum::response::Html(html)).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}
