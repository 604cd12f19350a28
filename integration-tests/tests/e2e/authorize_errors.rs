//! Bad authorization requests: no redirect unless client and redirect URI are trusted; otherwise the
//! error goes back to the client with state and iss.

use crate::harness::*;

fn authorize_url(server: &TestServer, params: &[(&str, &str)]) -> String {
    url::Url::parse_with_params(&server.url("/authorize"), params)
        .unwrap()
        .to_string()
}

const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn good<'a>() -> Vec<(&'a str, &'a str)> {
    vec![
        ("response_type", "code"),
        ("client_id", "spa"),
        ("redirect_uri", "http://localhost/spa/callback"),
        ("scope", "openid"),
        ("state", "s-1"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]
}

fn with<'a>(
    mut params: Vec<(&'a str, &'a str)>,
    name: &'a str,
    value: Option<&'a str>,
) -> Vec<(&'a str, &'a str)> {
    params.retain(|(n, _)| *n != name);
    if let Some(value) = value {
        params.push((name, value));
    }
    params
}

#[tokio::test]
async fn wrong_redirect_uri_shows_a_page_and_redirects_nowhere() {
    let server = TestServer::start().await;
    for uri in [
        "http://localhost/spa/callback/",
        "http://localhost/spa/callback?x=1",
        "https://evil.example/cb",
        "http://localhost/spa",
    ] {
        let response = browser()
            .get(authorize_url(
                &server,
                &with(good(), "redirect_uri", Some(uri)),
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{uri}");
        assert!(
            response.headers().get("location").is_none(),
            "{uri} must not be redirected to"
        );
        let page = response.text().await.unwrap();
        assert!(page.contains("not registered"), "{page}");
    }
}

#[tokio::test]
async fn unknown_or_missing_client_shows_a_page() {
    let server = TestServer::start().await;
    for params in [
        with(good(), "client_id", Some("nobody")),
        with(good(), "client_id", None),
        with(good(), "redirect_uri", None),
    ] {
        let response = browser()
            .get(authorize_url(&server, &params))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
        assert!(response.headers().get("location").is_none());
    }
}

#[tokio::test]
async fn errors_for_a_trusted_client_go_back_with_state_and_iss() {
    let server = TestServer::start().await;
    let cases = [
        (
            with(good(), "response_type", Some("token")),
            "unsupported_response_type",
        ),
        (with(good(), "response_type", None), "invalid_request"),
        (
            with(good(), "request", Some("eyJhbGciOiJub25lIn0.e30.")),
            "request_not_supported",
        ),
        (
            with(good(), "request_uri", Some("https://spa.example/req")),
            "request_uri_not_supported",
        ),
        (with(good(), "code_challenge", None), "invalid_request"),
        (
            with(good(), "code_challenge_method", Some("plain")),
            "invalid_request",
        ),
        (with(good(), "scope", Some("openid admin")), "invalid_scope"),
        (
            with(good(), "prompt", Some("none login")),
            "invalid_request",
        ),
        (with(good(), "max_age", Some("-1")), "invalid_request"),
        (with(good(), "prompt", Some("none")), "login_required"),
    ];
    for (params, expected) in cases {
        let response = browser()
            .get(authorize_url(&server, &params))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303, "{expected}");
        let location = location(&response);
        assert!(
            location.starts_with("http://localhost/spa/callback?"),
            "{location}"
        );
        let q = query(&location);
        assert_eq!(q["error"], expected, "{params:?}");
        assert_eq!(q["state"], "s-1");
        assert_eq!(q["iss"], server.issuer);
    }
}

#[tokio::test]
async fn repeated_parameter_is_refused() {
    let server = TestServer::start().await;
    let mut params = good();
    params.push(("scope", "openid email"));
    let response = browser()
        .get(authorize_url(&server, &params))
        .send()
        .await
        .unwrap();
    assert_eq!(query(&location(&response))["error"], "invalid_request");
}

#[tokio::test]
async fn unknown_parameters_and_display_hints_are_ignored() {
    let server = TestServer::start().await;
    let mut params = good();
    params.extend([
        ("display", "page"),
        ("ui_locales", "nl en"),
        ("claims_locales", "nl"),
        ("vendor_thing", "x"),
    ]);
    let response = browser()
        .get(authorize_url(&server, &params))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert!(location(&response).starts_with("/login?flow="));
}

#[tokio::test]
async fn authorization_request_by_form_post_works() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let browser = browser();
    let response = browser
        .post(server.url("/authorize"))
        .form(&good())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let login = server.url(&location(&response));
    let page = browser
        .get(login)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (flow, csrf) = (form_value(&page, "flow"), form_value(&page, "csrf"));
    let done = post_login(&server, &browser, &flow, &csrf, "ann@example.com", PASSWORD).await;
    assert_eq!(done.status(), 303);
    let q = query(&location(&done));
    assert!(q.contains_key("code"));
    assert_eq!(q["state"], "s-1");
}

#[tokio::test]
async fn registered_redirect_uri_keeps_its_query() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let rp = server.rp("web", "https://web.example/cb?tenant=7").await;
    let start = authorization_url(&rp, &["openid"]);
    let location = sign_in(&server, &browser(), start.url.as_str(), "ann@example.com").await;
    assert!(
        location.starts_with("https://web.example/cb?tenant=7&code="),
        "{location}"
    );
}
