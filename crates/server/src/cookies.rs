//! The two cookies: a random browser id (binds pending sign-ins and CSRF tokens to one browser) and the
//! session id. Both HttpOnly and SameSite=Lax; Secure when the issuer is https. Only hashes are stored.

use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

pub const BROWSER: &str = "gatehouse_browser";
pub const SESSION: &str = "gatehouse_session";
/// A remembered device: a random token, its hash stored with the user, kept for the organisation's
/// `remember_device_days`.
pub const DEVICE: &str = "gatehouse_device";
/// The theme of this browser's sign-in (see `theme_choice`); presentation only.
pub const THEME: &str = "gatehouse_theme";
/// The language the person chose with the switcher (see `language`); a year.
pub const LANGUAGE: &str = "gatehouse_lang";
/// The `ui_locales` of the app's current authorization request, for the browser session.
pub const UI_LOCALES: &str = "gatehouse_ui_locales";

pub fn device(value: String, days: u32, secure: bool) -> Cookie<'static> {
    let mut cookie = build(DEVICE, value, secure);
    cookie.set_max_age(cookie::time::Duration::days(i64::from(days)));
    cookie
}

pub fn build(name: &'static str, value: String, secure: bool) -> Cookie<'static> {
    Cookie::build((name, value))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .path("/")
        .build()
}

/// The browser id, creating one (and the cookie) when the browser has none.
pub fn browser_id(jar: CookieJar, secure: bool) -> (CookieJar, String) {
    if let Some(existing) = jar
        .get(BROWSER)
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() >= 32)
    {
        return (jar, existing);
    }
    let id = gatehouse_login::csrf::random_id();
    (jar.add(build(BROWSER, id.clone(), secure)), id)
}

pub fn clear_session(jar: CookieJar) -> CookieJar {
    jar.remove(Cookie::build(SESSION).path("/"))
}
