//! The route table.

use axum::Router;
use axum::routing::{get, post};
use gatehouse_oidc::discovery::paths;

use crate::headers;
use crate::pages::{
    account, authorize, backup_link, consent, end_session, enrol_code, enrol_totp, home, login,
    mfa, passkey, password_reset, security, username, wizard,
};
use crate::protocol::{discovery, introspect, revoke, token, userinfo};
use crate::state::AppState;

/// Every Gatehouse route, with `extra` (e.g. the demo app) merged in, under the security headers.
pub fn router(state: AppState, extra: Router<AppState>) -> Router {
    let mut router = Router::new()
        .route("/", get(home::home))
        .route("/static/{name}", get(home::asset))
        .route(
            "/assets/{theme}/{version}/{name}",
            get(home::versioned_asset),
        )
        .route(paths::DISCOVERY, get(discovery::configuration))
        .route(paths::JWKS, get(discovery::jwks))
        .route(paths::AUTHORIZE, get(authorize::get).post(authorize::post))
        .route(paths::TOKEN, post(token::token))
        .route(paths::USERINFO, get(userinfo::get).post(userinfo::post))
        .route(paths::REVOKE, post(revoke::revoke))
        .route(paths::INTROSPECT, post(introspect::introspect))
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
        .merge(extra);
    router = router.layer(axum::middleware::from_fn(crate::theme_choice::scope));
    for layer in headers::layers() {
        router = router.layer(layer);
    }
    router.with_state(state)
}
