//! RP-Initiated Logout.

use openidconnect::core::CoreIdToken;
use openidconnect::{
    CsrfToken, LogoutRequest, OAuth2TokenResponse as _, PostLogoutRedirectUrl, TokenResponse as _,
};

use crate::harness::*;

const SPA_CB: &str = "http://localhost/spa/callback";
const SPA_BYE: &str = "http://localhost/spa/bye";

struct SignedIn {
    browser: reqwest::Client,
    rp: Rp,
    id_token: CoreIdToken,
    refresh: openidconnect::RefreshToken,
}

async fn signed_in(server: &TestServer, scopes: &[&str]) -> SignedIn {
    server.add_user("ann@example.com").await;
    let rp = server.rp("spa", SPA_CB).await;
    let browser = browser();
    let (code, start) = code_for(server, &rp, &browser, "ann@example.com", scopes).await;
    let tokens = redeem(&rp, code, &start).await;
    let refresh = tokens
        .refresh_token()
        .cloned()
        .unwrap_or_else(|| openidconnect::RefreshToken::new(String::new()));
    SignedIn {
        browser,
        rp,
        id_token: tokens.id_token().unwrap().clone(),
        refresh,
    }
}

fn logout_url(server: &TestServer, id_token: Option<&CoreIdToken>, redirect: &str) -> url::Url {
    let endpoint = openidconnect::EndSessionUrl::new(server.url("/end_session")).unwrap();
    let mut request = LogoutRequest::from(endpoint)
        .set_post_logout_redirect_uri(PostLogoutRedirectUrl::new(redirect.into()).unwrap())
        .set_state(CsrfToken::new("bye-state".into()));
    if let Some(token) = id_token {
        request = request.set_id_token_hint(token);
    } else {
        request = request.set_client_id(openidconnect::ClientId::new("spa".into()));
    }
    request.http_get_url()
}

#[tokio::test]
async fn logout_with_id_token_hint_ends_the_session_and_returns_with_state() {
    let server = TestServer::start().await;
    let s = signed_in(&server, &["openid", "offline_access"]).await;
    let response = s
        .browser
        .get(logout_url(&server, Some(&s.id_token), SPA_BYE))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), format!("{SPA_BYE}?state=bye-state"));

    let next = s
        .browser
        .get(authorization_url(&s.rp, &["openid"]).url)
        .send()
        .await
        .unwrap();
    assert!(
        location(&next).starts_with("/login?flow="),
        "the session is gone"
    );
    // offline_access survives logout: that is what it is for.
    assert!(
        s.rp.exchange_refresh_token(&s.refresh)
            .unwrap()
            .request_async(&http())
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn logout_revokes_the_sessions_online_tokens() {
    let server = TestServer::start().await;
    let s = signed_in(&server, &["openid", "email"]).await;
    let rp = server.rp("web", "http://localhost/web/callback").await;
    // Same browser, second app, single sign-on: a grant in the same session.
    let start = authorization_url(&rp, &["openid"]);
    let response = s.browser.get(start.url.as_str()).send().await.unwrap();
    let code = query(&location(&response))["code"].clone();
    let tokens = redeem(&rp, code, &start).await;
    s.browser
        .get(logout_url(&server, Some(&s.id_token), SPA_BYE))
        .send()
        .await
        .unwrap();
    let userinfo = http()
        .get(server.url("/userinfo"))
        .bearer_auth(tokens.access_token().secret())
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), 401);
}

#[tokio::test]
async fn logout_without_hint_asks_for_confirmation_with_csrf() {
    let server = TestServer::start().await;
    let s = signed_in(&server, &["openid"]).await;
    let response = s
        .browser
        .get(logout_url(&server, None, SPA_BYE))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert!(page.contains("Sign out?"));
    let csrf = form_value(&page, "csrf");

    let forged = s
        .browser
        .post(server.url("/end_session/confirm"))
        .form(&[("csrf", "x"), ("client_id", "spa")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let confirmed = s
        .browser
        .post(server.url("/end_session/confirm"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("client_id", "spa"),
            ("post_logout_redirect_uri", SPA_BYE),
            ("state", "bye-state"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&confirmed), format!("{SPA_BYE}?state=bye-state"));
    let next = s
        .browser
        .get(authorization_url(&s.rp, &["openid"]).url)
        .send()
        .await
        .unwrap();
    assert!(location(&next).starts_with("/login?flow="));
}

#[tokio::test]
async fn unregistered_post_logout_redirect_is_refused_without_redirect() {
    let server = TestServer::start().await;
    let s = signed_in(&server, &["openid"]).await;
    let response = s
        .browser
        .get(logout_url(
            &server,
            Some(&s.id_token),
            "https://evil.example/",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.headers().get("location").is_none());
    let next = s
        .browser
        .get(authorization_url(&s.rp, &["openid"]).url)
        .send()
        .await
        .unwrap();
    assert!(
        location(&next).starts_with(SPA_CB),
        "a refused logout leaves the session alone"
    );
}
