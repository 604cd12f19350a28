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

pub async fn asset(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    match state.theme().asset(&name) {
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
