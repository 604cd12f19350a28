//! Which theme a request's pages (and the e-mail it sends) are rendered in. The sign-in decides it —
//! the client's theme, else the person's organisation's, else the default — and keeps it in a cookie,
//! so every later page of that browser, including error pages and form answers, looks the same
//! without looking anything up. The cookie only picks among the configured themes.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::Cookie;

use crate::cookies;

tokio::task_local! {
    static REQUEST_THEME: Option<String>;
}

/// The theme this request asked for, if any (the caller falls back to the default).
pub fn requested() -> Option<String> {
    REQUEST_THEME.try_with(Clone::clone).ok().flatten()
}

/// Runs `work` in `theme`: for work that outlives its request (a spawned task sending an e-mail).
pub async fn scoped<F: Future>(theme: Option<String>, work: F) -> F::Output {
    REQUEST_THEME.scope(theme, work).await
}

/// Middleware: makes the theme cookie's value available to [`requested`] for this request.
pub async fn scope(request: Request, next: Next) -> Response {
    let theme = CookieJar::from_headers(request.headers())
        .get(cookies::THEME)
        .map(|c| c.value().to_owned());
    REQUEST_THEME.scope(theme, next.run(request)).await
}

/// Sets (or, with `None`, removes) the theme cookie.
pub fn remember(jar: CookieJar, theme: Option<&str>, secure: bool) -> CookieJar {
    match theme {
        Some(theme) => jar.add(cookies::build(cookies::THEME, theme.to_owned(), secure)),
        None if jar.get(cookies::THEME).is_some() => {
            jar.remove(Cookie::build(cookies::THEME).path("/"))
        }
        None => jar,
    }
}
