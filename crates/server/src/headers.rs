//! Security headers on every response.

use axum::http::{HeaderValue, header};
use axum::response::Response;

const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// Sets the security headers on `response`, replacing any a handler set, and `Cache-Control:
/// no-store` where the handler did not say otherwise (static files, discovery): anything else is
/// personal and not cached.
///
/// One middleware for all of them rather than a `SetResponseHeaderLayer` each: every layer the router
/// applies wraps each route in another boxed service, cloned and polled for every request.
pub async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let fixed = [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}
