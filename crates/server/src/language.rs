//! Which language a request's pages (and the e-mail or text message it sends) are in.
//!
//! In order: the `ui_locales` the app sent with this sign-in (kept in a cookie for the browser session
//! by `/authorize`, and dropped by the next authorization request without one), else the person's
//! choice (the switcher on every page, kept in a cookie, and saved with their account once they are
//! signed in), else the browser's `Accept-Language`, else English. The middleware decides once per
//! request and keeps it in a task-local, like the theme.

use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::Cookie;
use gatehouse_login::theme::PageLanguage;

use crate::cookies;
use crate::state::AppState;

tokio::task_local! {
    static REQUEST_LANGUAGE: PageLanguage;
}

/// The language of this request (the default outside a request).
pub fn current() -> PageLanguage {
    REQUEST_LANGUAGE.try_with(Clone::clone).unwrap_or_default()
}

/// Runs `work` in `language`: for work that outlives its request (a spawned task sending an e-mail).
pub async fn scoped<F: Future>(language: PageLanguage, work: F) -> F::Output {
    REQUEST_LANGUAGE.scope(language, work).await
}

/// Middleware: decides the request's language (see the module documentation).
pub async fn scope(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let jar = CookieJar::from_headers(request.headers());
    let themes = state.themes();
    let code = themes
        .default_theme()
        .translations()
        .choose(
            jar.get(cookies::UI_LOCALES)
                .map(|c| c.value().replace('.', " "))
                .as_deref(),
            jar.get(cookies::LANGUAGE).map(Cookie::value),
            request
                .headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok()),
        )
        .to_owned();
    let language = PageLanguage {
        code,
        switch_back: switch_back(&request),
    };
    REQUEST_LANGUAGE.scope(language, next.run(request)).await
}

/// Where the language switcher of this request's page returns to: the page itself for a GET; for a
/// form's answer, the page the form was on (its `Referer`, same-origin by our Referrer-Policy). Only a
/// path on this server is kept, so the switcher can never send anyone elsewhere.
fn switch_back(request: &Request) -> String {
    let here = if request.method() == Method::GET {
        request
            .uri()
            .path_and_query()
            .map(|pq| pq.as_str().to_owned())
    } else {
        request
            .headers()
            .get(header::REFERER)
            .and_then(|v| v.to_str().ok())
            .and_then(|r| url::Url::parse(r).ok())
            .map(|u| match u.query() {
                Some(q) => format!("{}?{q}", u.path()),
                None => u.path().to_owned(),
            })
    };
    here.map(|h| local_path(&h).to_owned())
        .unwrap_or_else(|| "/".to_owned())
}

/// `path` when it is a path on this server (`/…`, not `//host` or `/\host`), else `/`.
pub fn local_path(path: &str) -> &str {
    let bytes = path.as_bytes();
    let local = bytes.first() == Some(&b'/')
        && !matches!(bytes.get(1), Some(b'/' | b'\\'))
        && !path.chars().any(char::is_control);
    if local { path } else { "/" }
}

/// The cookie keeping a person's language choice for a year.
pub fn choice_cookie(code: &str, secure: bool) -> Cookie<'static> {
    let mut cookie = cookies::build(cookies::LANGUAGE, code.to_owned(), secure);
    cookie.set_max_age(cookie::time::Duration::days(365));
    cookie
}

/// Keeps (or, without one, forgets) the `ui_locales` of an app's authorization request for this
/// browser session.
pub fn remember_ui_locales(jar: CookieJar, ui_locales: Option<&str>, secure: bool) -> CookieJar {
    let wanted = ui_locales.map(str::trim).filter(|l| !l.is_empty());
    match wanted {
        Some(list) => jar.add(cookies::build(
            cookies::UI_LOCALES,
            list.split_whitespace()
                .filter(|tag| {
                    tag.len() <= 35 && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                })
                .take(8)
                .collect::<Vec<_>>()
                // A cookie value holds no spaces.
                .join("."),
            secure,
        )),
        None if jar.get(cookies::UI_LOCALES).is_some() => {
            jar.remove(Cookie::build(cookies::UI_LOCALES).path("/"))
        }
        None => jar,
    }
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn the_switcher_only_returns_to_paths_on_this_server() {
        assert_eq!(local_path("/login?flow=abc"), "/login?flow=abc");
        assert_eq!(local_path("//evil.example/x"), "/");
        assert_eq!(local_path("/\\evil.example"), "/");
        assert_eq!(local_path("https://evil.example/"), "/");
        assert_eq!(local_path("/a\r\nSet-Cookie: x"), "/");
        assert_eq!(local_path(""), "/");
    }
}
