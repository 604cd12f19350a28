//! The hosted sign-in: CSRF, throttling, no enumeration, sessions (SSO), prompt, max_age, consent,
//! and the headers every page carries.

use crate::harness::*;

const WEB_CB: &str = "http://localhost/web/callback";

#[tokio::test]
async fn login_post_without_csrf_token_is_refused() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let browser = browser();
    let start = authorization_url(&rp, &["openid"]);
    let (flow, csrf) = open_login(&browser, start.url.as_str()).await;
    for bad in ["", "forged", &csrf[..csrf.len() - 2]] {
        let response = post_login(&server, &browser, &flow, bad, "ann@example.com", PASSWORD).await;
        assert_eq!(response.status(), 403, "csrf {bad:?}");
        assert!(response.headers().get("location").is_none());
    }
    // The real token still works afterwards.
    assert_eq!(
        post_login(&server, &browser, &flow, &csrf, "ann@example.com", PASSWORD)
            .await
            .status(),
        303
    );
}

#[tokio::test]
async fn sign_in_page_from_another_browser_is_refused() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let victim = browser();
    let start = authorization_url(&rp, &["openid"]);
    let (flow, csrf) = open_login(&victim, start.url.as_str()).await;
    let attacker = browser();
    let response = post_login(
        &server,
        &attacker,
        &flow,
        &csrf,
        "ann@example.com",
        PASSWORD,
    )
    .await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("expired"));
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_answer() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let browser = browser();
    let start = authorization_url(&rp, &["openid"]);
    let (flow, csrf) = open_login(&browser, start.url.as_str()).await;
    let wrong = post_login(
        &server,
        &browser,
        &flow,
        &csrf,
        "ann@example.com",
        "not the password",
    )
    .await;
    let unknown = post_login(
        &server,
        &browser,
        &flow,
        &csrf,
        "nobody@example.com",
        "not the password",
    )
    .await;
    assert_eq!(wrong.status(), unknown.status());
    let (wrong, unknown) = (wrong.text().await.unwrap(), unknown.text().await.unwrap());
    let message = "The e-mail address or password is not right.";
    assert!(wrong.contains(message) && unknown.contains(message));
    let strip = |page: &str| {
        page.replace("ann@example.com", "")
            .replace("nobody@example.com", "")
    };
    assert_eq!(
        strip(&wrong),
        strip(&unknown),
        "the pages differ only in the address typed"
    );
}

#[tokio::test]
async fn many_wrong_passwords_throttle_the_account_even_for_the_right_password() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let browser = browser();
    let start = authorization_url(&rp, &["openid"]);
    let (flow, csrf) = open_login(&browser, start.url.as_str()).await;
    for _ in 0..5 {
        let response =
            post_login(&server, &browser, &flow, &csrf, "ann@example.com", "guess").await;
        assert_eq!(response.status(), 200);
    }
    let blocked = post_login(&server, &browser, &flow, &csrf, "ann@example.com", PASSWORD).await;
    assert_eq!(blocked.status(), 429);
    assert!(blocked.text().await.unwrap().contains("too many attempts"));

    // Unknown addresses are throttled alike (no enumeration through the limit).
    for _ in 0..5 {
        post_login(
            &server,
            &browser,
            &flow,
            &csrf,
            "nobody@example.com",
            "guess",
        )
        .await;
    }
    assert_eq!(
        post_login(
            &server,
            &browser,
            &flow,
            &csrf,
            "nobody@example.com",
            "guess"
        )
        .await
        .status(),
        429
    );

    // Once the failures have aged out of the window, the right password works again.
    server.clock.advance(2 * 900);
    let start = authorization_url(&rp, &["openid"]);
    let (flow, csrf) = open_login(&browser, start.url.as_str()).await;
    assert_eq!(
        post_login(&server, &browser, &flow, &csrf, "ann@example.com", PASSWORD)
            .await
            .status(),
        303
    );
}

#[tokio::test]
async fn many_failures_from_one_address_throttle_every_account() {
    let server = TestServer::start_with("[login_throttle]\nper_address = 8\n").await;
    server.add_user("ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let browser = browser();
    let start = authorization_url(&rp, &["openid"]);
    let (flow, csrf) = open_login(&browser, start.url.as_str()).await;
    for i in 0..8 {
        post_login(
            &server,
            &browser,
            &flow,
            &csrf,
            &format!("guess{i}@example.com"),
            "guess",
        )
        .await;
    }
    assert_eq!(
        post_login(&server, &browser, &flow, &csrf, "ann@example.com", PASSWORD)
            .await
            .status(),
        429
    );
}

#[tokio::test]
async fn a_storm_of_sign_ins_past_the_hashing_queue_gets_a_calm_503_and_the_rest_sign_in() {
    // One hashing thread and room for one waiting hash: sixteen sign-ins at once overflow it.
    let server =
        TestServer::start_with("[password_hashing]\nmax_concurrent = 1\nmax_queued = 1\n").await;
    server.add_user("ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let start = authorization_url(&rp, &["openid"]);
    let mut storm = tokio::task::JoinSet::new();
    let mut forms = Vec::new();
    for _ in 0..16 {
        let browser = browser();
        let (flow, csrf) = open_login(&browser, start.url.as_str()).await;
        forms.push((browser, flow, csrf));
    }
    for (browser, flow, csrf) in forms {
        let login = server.url("/login");
        storm.spawn(async move {
            browser
                .post(login)
                .form(&[
                    ("flow", flow.as_str()),
                    ("csrf", csrf.as_str()),
                    ("email", "ann@example.com"),
                    ("password", PASSWORD),
                ])
                .send()
                .await
                .unwrap()
        });
    }
    let (mut signed_in, mut turned_away) = (0, 0);
    while let Some(answer) = storm.join_next().await {
        let answer = answer.unwrap();
        match answer.status().as_u16() {
            303 => signed_in += 1,
            503 => {
                turned_away += 1;
                assert_eq!(answer.headers()["retry-after"], "5");
                let page = answer.text().await.unwrap();
                assert!(page.contains("<html"), "a page, not bare text: {page}");
                assert!(page.contains("Try again in a few seconds"), "{page}");
            }
            other => panic!("a sign-in in the storm answered {other}"),
        }
    }
    assert!(turned_away > 0, "the queue overflowed");
    assert!(signed_in > 0, "the first sign-ins were checked");
    // After the storm the same person signs in at once.
    sign_in(&server, &browser(), start.url.as_str(), "ann@example.com").await;
}

#[tokio::test]
async fn live_session_skips_the_login_page_unless_prompt_login() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let browser = browser();
    sign_in(
        &server,
        &browser,
        authorization_url(&rp, &["openid"]).url.as_str(),
        "ann@example.com",
    )
    .await;

    let again = browser
        .get(authorization_url(&rp, &["openid"]).url)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 303);
    assert!(
        location(&again).starts_with(WEB_CB),
        "single sign-on goes straight back with a code"
    );

    let silent = browser
        .get(format!(
            "{}&prompt=none",
            authorization_url(&rp, &["openid"]).url
        ))
        .send()
        .await
        .unwrap();
    assert!(query(&location(&silent)).contains_key("code"));

    let forced = browser
        .get(format!(
            "{}&prompt=login",
            authorization_url(&rp, &["openid"]).url
        ))
        .send()
        .await
        .unwrap();
    assert!(
        location(&forced).starts_with("/login?flow="),
        "prompt=login asks again"
    );
}

#[tokio::test]
async fn max_age_exceeded_asks_to_sign_in_again() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let browser = browser();
    sign_in(
        &server,
        &browser,
        authorization_url(&rp, &["openid"]).url.as_str(),
        "ann@example.com",
    )
    .await;
    server.clock.advance(120);
    let fresh_enough = browser
        .get(format!(
            "{}&max_age=600",
            authorization_url(&rp, &["openid"]).url
        ))
        .send()
        .await
        .unwrap();
    assert!(location(&fresh_enough).starts_with(WEB_CB));
    let too_old = browser
        .get(format!(
            "{}&max_age=60",
            authorization_url(&rp, &["openid"]).url
        ))
        .send()
        .await
        .unwrap();
    assert!(location(&too_old).starts_with("/login?flow="));
}

#[tokio::test]
async fn consent_is_asked_once_and_remembered() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let rp = server
        .rp("consenting", "http://localhost/consenting/callback")
        .await;
    let browser = browser();
    let start = authorization_url(&rp, &["openid", "email"]);
    let (flow, csrf) = open_login(&browser, start.url.as_str()).await;
    let response = post_login(&server, &browser, &flow, &csrf, "ann@example.com", PASSWORD).await;
    let consent_page = location(&response);
    assert!(consent_page.starts_with("/consent?flow="), "{consent_page}");
    let page = page_at(&server, &browser, &consent_page).await;
    assert!(page.contains("Consent Needed") && page.contains("See your e-mail address"));
    let csrf = form_value(&page, "csrf");

    let forged = browser
        .post(server.url("/consent"))
        .form(&[
            ("flow", flow.as_str()),
            ("csrf", "x"),
            ("decision", "allow"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let allowed = browser
        .post(server.url("/consent"))
        .form(&[
            ("flow", flow.as_str()),
            ("csrf", csrf.as_str()),
            ("decision", "allow"),
        ])
        .send()
        .await
        .unwrap();
    assert!(query(&location(&allowed)).contains_key("code"));

    let again = browser
        .get(authorization_url(&rp, &["openid", "email"]).url)
        .send()
        .await
        .unwrap();
    assert!(
        query(&location(&again)).contains_key("code"),
        "consent is remembered"
    );
    let more = browser
        .get(authorization_url(&rp, &["openid", "email", "profile"]).url)
        .send()
        .await
        .unwrap();
    assert!(
        location(&more).starts_with("/consent?flow="),
        "a wider scope asks again"
    );
    let none = browser
        .get(format!(
            "{}&prompt=none",
            authorization_url(&rp, &["openid", "profile"]).url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(query(&location(&none))["error"], "consent_required");
}

#[tokio::test]
async fn declining_consent_returns_access_denied() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let rp = server
        .rp("consenting", "http://localhost/consenting/callback")
        .await;
    let browser = browser();
    let start = authorization_url(&rp, &["openid"]);
    let (flow, csrf) = open_login(&browser, start.url.as_str()).await;
    let response = post_login(&server, &browser, &flow, &csrf, "ann@example.com", PASSWORD).await;
    let page = page_at(&server, &browser, &location(&response)).await;
    let csrf = form_value(&page, "csrf");
    let denied = browser
        .post(server.url("/consent"))
        .form(&[
            ("flow", flow.as_str()),
            ("csrf", csrf.as_str()),
            ("decision", "deny"),
        ])
        .send()
        .await
        .unwrap();
    let q = query(&location(&denied));
    assert_eq!(q["error"], "access_denied");
    assert_eq!(q["state"], *start.state.secret());
}

#[tokio::test]
async fn pages_carry_security_headers_and_session_cookie_flags() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let browser = browser();
    let start = authorization_url(&rp, &["openid"]);
    let (flow, csrf) = open_login(&browser, start.url.as_str()).await;
    let page = browser
        .get(server.url(&format!("/login?flow={flow}")))
        .send()
        .await
        .unwrap();
    let headers = page.headers();
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert_eq!(headers["referrer-policy"], "same-origin");
    assert_eq!(headers["cache-control"], "no-store");
    let body = page.text().await.unwrap();
    assert!(
        body.contains("autocomplete=\"username\"")
            && body.contains("autocomplete=\"current-password\"")
    );

    let response = post_login(&server, &browser, &flow, &csrf, "ann@example.com", PASSWORD).await;
    assert_eq!(response.status(), 303, "never 307 after a form POST");
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("gatehouse_session="))
        .expect("a session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "no Secure flag on plain-http localhost"
    );
}

#[tokio::test]
async fn codes_and_sessions_are_stored_only_as_hashes() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let (code, _start) = code_for(&server, &rp, &browser(), "ann@example.com", &["openid"]).await;
    use sea_orm::{ConnectionTrait as _, Statement};
    let conn = server.db.connection();
    let backend = conn.get_database_backend();
    let rows = conn
        .query_all(Statement::from_string(
            backend,
            "SELECT code_hash FROM authorization_codes",
        ))
        .await
        .unwrap();
    let stored: Vec<String> = rows
        .iter()
        .map(|r| r.try_get::<String>("", "code_hash").unwrap())
        .collect();
    assert_eq!(stored, [gatehouse_oidc::token_hash(&code)]);
    assert!(!stored.contains(&code));
}
