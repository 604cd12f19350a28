//! The route table.

use std::sync::Arc;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use gatehouse_oidc::discovery::paths;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::pages::{
    account, authorize, backup_link, consent, end_session, enrol_code, enrol_totp, home, language,
    login, mfa, passkey, password_reset, security, username, wizard,
};
use crate::protocol::{discovery, introspect, revoke, token, userinfo};
use crate::state::AppState;
use crate::{forwarded, headers, health, metrics};

/// Every Gatehouse route, with `extra` (e.g. the demo app) merged in, under the security headers.
pub fn router(state: AppState, extra: Router<AppState>) -> Router {
    // Back-channel and machine routes answer in JSON or plain text: no page language or theme to
    // choose, so they skip those two layers.
    let machine = Router::new()
        .route(paths::DISCOVERY, get(discovery::configuration))
        .route(paths::JWKS, get(discovery::jwks))
        .route(paths::TOKEN, post(token::token))
        .route(paths::USERINFO, get(userinfo::get).post(userinfo::post))
        .route(paths::REVOKE, post(revoke::revoke))
        .route(paths::INTROSPECT, post(introspect::introspect))
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready))
        .route("/metrics", get(metrics::metrics_with_token));
    let mut router = Router::new()
        .route("/", get(home::home))
        .route("/static/{name}", get(home::asset))
        .route(
            "/assets/{theme}/{version}/{name}",
            get(home::versioned_asset),
        )
        .route(paths::AUTHORIZE, get(authorize::get).post(authorize::post))
        .route(
            paths::END_SESSION,
            get(end_session::get).post(end_session::post),
        )
        .route("/end_session/confirm", post(end_session::confirm))
        .route("/login", get(login::get).post(login::post))
        .route(
            "/password/forgot",
            get(password_reset::ask).post(password_reset::request),
        )
        .route("/password/reset", post(password_reset::enter_code))
        .route(
            "/login/username",
            get(username::ask).post(username::request),
        )
        .route(
            "/login/welcome",
            get(username::welcome).post(username::set_password),
        )
        .route("/password/new", post(password_reset::set_password))
        .route("/consent", get(consent::get).post(consent::post))
        .route("/mfa", get(mfa::get).post(mfa::post))
        .route("/continue", get(mfa::continue_after_notice))
        .route("/account", get(account::show))
        .route("/mfa/setup", get(wizard::show))
        .route("/account/devices/forget", post(security::forget_device))
        .route("/account/password", post(security::change_password))
        .route("/account/confirm", post(security::confirm_password))
        .route("/account/factors/default", post(account::make_default))
        .route("/account/factors/rename", post(account::rename))
        .route(
            "/account/passkey",
            get(passkey::register_start).post(passkey::register_finish),
        )
        .route(
            "/login/passkey",
            get(passkey::sign_in_start).post(passkey::sign_in_finish),
        )
        .route(
            "/account/totp",
            get(enrol_totp::totp_start).post(enrol_totp::totp_confirm),
        )
        .route(
            "/account/{channel}",
            get(enrol_code::start).post(enrol_code::send),
        )
        .route("/account/{channel}/confirm", post(enrol_code::confirm))
        .route("/mfa/resend", post(mfa::resend))
        .route("/mfa/backup-link", post(backup_link::send))
        .route("/mfa/link", get(backup_link::open))
        .route("/account/factors/remove", post(account::remove_factor))
        .route(
            "/account/recovery-codes",
            post(account::regenerate_recovery_codes),
        )
        .route("/language", get(language::switch))
        .merge(extra);
    // Each `Router::layer` wraps every route in one more boxed service, cloned, boxed and polled
    // again for every request; the layers are stacked with `ServiceBuilder` (outermost first) and
    // applied once, so a request passes one box per stack instead of one per layer.
    router = router.layer(
        ServiceBuilder::new()
            .layer(from_fn_with_state(state.clone(), crate::language::scope))
            .layer(axum::middleware::from_fn(crate::theme_choice::scope)),
    );
    router = router.merge(machine);
    // From the outside in: the client's address (and whether to believe an incoming request id), a
    // request id for every request, echoed in the response, a span carrying it around every log line
    // of the request, the latency histogram, and the security headers.
    let trusted = Arc::new(state.0.settings.trusted_proxies.clone());
    router
        .layer(
            ServiceBuilder::new()
                .layer(from_fn_with_state(trusted, forwarded::client_address))
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(request_span)
                        .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
                )
                .layer(from_fn_with_state(state.clone(), metrics::track_latency))
                .layer(axum::middleware::map_response(headers::security_headers)),
        )
        .with_state(state)
}

/// The span of one request: its id, method and route pattern. Never the query string, which may carry
/// an ID token (`id_token_hint`) or other values that must not reach a log.
fn request_span(request: &Request) -> tracing::Span {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str);
    tracing::info_span!("request", request_id = %id, method = %request.method(), route = %route)
}

/// The metrics alone, unauthenticated, for a separate listener (`metrics_listen`) that only the
/// monitoring network reaches.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics::scrape))
        .with_state(state)
}
