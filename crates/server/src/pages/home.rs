//! The home page and the theme's static files.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::render_page;
use crate::state::AppState;

pub async fn home(State(state): State<AppState>) -> Response {
    let demo = state.0.settings.demo.as_ref();
    let context = json!({
        "issuer": state.0.provider.issuer,
        "demo": demo.is_some(),
        "demo_email": demo.map(|d| d.email.clone()),
        "demo_password": demo.map(|d| d.password.clone()),
    });
    render_page(&state, "home.html", context, StatusCode::OK)
}

/// `GET /assets/{theme}/{version}/{name}`: a theme's static file under a URL that changes with its
/// content, so it may be cached for good. An old version is not found (the page asks for the new one).
pub async fn versioned_asset(
    State(state): State<AppState>,
    Path((theme, version, name)): Path<(String, String, String)>,
) -> Response {
    let themes = state.themes();
    let theme = themes.get(Some(&theme));
    match theme.asset(&name).filter(|a| a.version == version) {
        Some(asset) => (
            [
                (header::CONTENT_TYPE, asset.content_type),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            asset.bytes.clone(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `GET /static/{name}`: the default theme's static file (short cache; pages use versioned URLs).
pub async fn asset(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    match state.themes().default_theme().asset(&name) {
        Some(asset) => (
            [
                (header::CONTENT_TYPE, asset.content_type),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            asset.bytes.clone(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
