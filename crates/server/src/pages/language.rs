//! `GET /language?lang=nl&back=/login?flow=…`: the language switcher on every page. A plain link, so it
//! works without JavaScript: it keeps the choice in a cookie (and with the account, when someone is
//! signed in), drops the app's `ui_locales` for this browser session (the person's click wins), and
//! goes back to the page it came from.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::Cookie;

use super::{QueryPairs, flow, query_pairs, see_other};
use crate::cookies;
use crate::language;
use crate::state::AppState;

pub async fn switch(State(state): State<AppState>, jar: CookieJar, query: QueryPairs) -> Response {
    let pairs = query_pairs(query);
    let value = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let back = language::local_path(value("back").unwrap_or("/")).to_owned();
    let themes = state.themes();
    let Some(code) = value("lang").filter(|c| themes.default_theme().translations().offers(c))
    else {
        return see_other(&back);
    };
    let secure = state.0.settings.secure_cookies;
    let mut jar = jar.add(language::choice_cookie(code, secure));
    if jar.get(cookies::UI_LOCALES).is_some() {
        jar = jar.remove(Cookie::build(cookies::UI_LOCALES).path("/"));
    }
    // Saving with the account is a courtesy: the page still changes language if it fails.
    if let Ok(Some(signed_in)) = flow::signed_in(&state, &jar).await {
        let now = state.0.provider.now();
        if let Err(e) = state
            .0
            .db
            .set_user_language(&signed_in.user_id, Some(code), now)
            .await
        {
            tracing::warn!(error = %e, "could not save the language choice");
        }
    }
    (jar, see_other(&back)).into_response()
}
