//! Two Gatehouse servers on one database behind one issuer, as behind a load balancer: every step of a
//! sign-in may land on either, and limits hold across both. Nothing of a person's sign-in lives in one
//! server's memory.
//!
//! Runs on the configured database: a PostgreSQL schema shared by both nodes when `DATABASE_URL` is
//! set (the deployment this is for), else one SQLite file that both open.

use gatehouse_mfa::totp;
use openidconnect::{OAuth2TokenResponse as _, TokenResponse as _};

use crate::harness::*;
use crate::second_factor::{answer, enrol_totp};

const WEB_CB: &str = "http://localhost/web/callback";

/// `url`, sent to `node` instead of the node the issuer names.
fn on(node: &TestServer, url: &str) -> String {
    url.replacen(&node.issuer, &node.base, 1)
}

#[tokio::test]
async fn a_sign_in_can_hop_between_nodes_at_every_step() {
    let a = TestServer::start().await;
    let b = a.second_node().await;
    a.add_user("ann@example.com").await;
    let enrolled = enrol_totp(&a, &browser(), "ann@example.com").await;
    // Enrolment moved A's clock past the step it used; the nodes share one time.
    b.clock.advance(a.now() - b.now());
    let rp = a.rp("web", WEB_CB).await;
    let browser = browser();

    // Password on A.
    let start = authorization_url(&rp, &["openid", "offline_access"]);
    let (flow, csrf) = open_login(&browser, start.url.as_str()).await;
    let response = post_login(&a, &browser, &flow, &csrf, "ann@example.com", PASSWORD).await;
    let challenge = location(&response);
    assert!(challenge.starts_with("/mfa?flow="), "{challenge}");

    // The second factor on B: the pending sign-in and its attempt counters are in the database.
    let page = browser
        .get(b.url(&challenge))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = form_value(&page, "csrf");
    let code = totp::code_at(&enrolled.secret, b.now()).unwrap();
    let response = answer(&b, &browser, &flow, &csrf, "totp", &code).await;
    assert_eq!(response.status(), 303);
    let authorization_code = query(&location(&response))["code"].clone();

    // The code issued by B is redeemed at A.
    let tokens = redeem(&rp, authorization_code, &start).await;
    let refresh = tokens.refresh_token().unwrap().clone();

    // Refresh at B, with a key B loaded from the database; A's and B's JWKS agree.
    let rp_b = b.rp("web", WEB_CB).await;
    let refreshed = rp_b
        .exchange_refresh_token(&refresh)
        .unwrap()
        .request_async(&http())
        .await
        .unwrap();
    let jwks = |node: &TestServer| {
        let url = node.url("/jwks");
        async move { http().get(url).send().await.unwrap().text().await.unwrap() }
    };
    assert_eq!(jwks(&a).await, jwks(&b).await);
    // B's access token works at A's userinfo.
    let userinfo = http()
        .get(a.url("/userinfo"))
        .bearer_auth(refreshed.access_token().secret())
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), 200);

    // The session made on B is known on A: single sign-on without the login page.
    let again = authorization_url(&rp, &["openid"]);
    let response = browser.get(again.url.as_str()).send().await.unwrap();
    assert!(
        query(&location(&response)).contains_key("code"),
        "A knows the session: {}",
        location(&response)
    );

    // Logout on A ends the session on B too.
    let id_token = tokens.id_token().unwrap().to_string();
    let logout = url::Url::parse_with_params(
        &a.url("/end_session"),
        [("id_token_hint", id_token.as_str())],
    )
    .unwrap();
    browser.get(logout).send().await.unwrap();
    let after = authorization_url(&rp, &["openid"]);
    let response = browser
        .get(on(&b, after.url.as_str()))
        .send()
        .await
        .unwrap();
    assert!(
        location(&response).starts_with("/login?flow="),
        "B no longer knows the session: {}",
        location(&response)
    );
    drop(b);
}

#[tokio::test]
async fn wrong_passwords_split_across_nodes_meet_one_limit() {
    let a = TestServer::start().await;
    let b = a.second_node().await;
    a.add_user("ann@example.com").await;
    let rp = a.rp("web", WEB_CB).await;
    let browser = browser();
    let start = authorization_url(&rp, &["openid"]);
    let (flow, csrf) = open_login(&browser, start.url.as_str()).await;
    // The account allows five failures per window (the default); alternate the nodes.
    for i in 0..5 {
        let node = if i % 2 == 0 { &a } else { &b };
        let response = post_login(node, &browser, &flow, &csrf, "ann@example.com", "guess").await;
        assert_eq!(response.status(), 200);
    }
    for node in [&a, &b] {
        let blocked = post_login(node, &browser, &flow, &csrf, "ann@example.com", PASSWORD).await;
        assert_eq!(blocked.status(), 429, "blocked on {}", node.base);
    }
    drop(b);
}

#[tokio::test]
async fn a_key_rotated_on_one_node_is_picked_up_by_the_other() {
    let a = TestServer::start().await;
    let b = a.second_node().await;
    let new = a.provider.rotate_keys().await.unwrap();
    // B reloads every minute on its own; here the reload is asked for at once.
    assert!(b.provider.reload_keys().await.unwrap());
    let published = http()
        .get(b.url("/jwks"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for kid in new {
        assert!(published.contains(&kid), "{kid} in B's JWKS");
    }
    drop(b);
}
