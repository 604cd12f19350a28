//! The security page: changing the password, recent sign-ins, and the notices people get by e-mail.

use gatehouse_mfa::totp;

use crate::harness::*;
use crate::second_factor::{account_page, reach_challenge};

const WEB_CB: &str = "http://localhost/web/callback";

fn browser_as(user_agent: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(user_agent)
        .build()
        .unwrap()
}

#[tokio::test]
async fn adding_and_removing_a_factor_are_notified_to_the_login_address() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let browser = browser();
    crate::second_factor::enrol_totp(&server, &browser, "ann@example.com").await;
    let notices = server.mail_to("ann@example.com").await;
    assert!(
        notices
            .iter()
            .any(|n| n.contains("A second step was added to your account.")),
        "{notices:?}"
    );

    let page = page_at(&server, &browser, "/account").await;
    submit_form_to(
        &server,
        &browser,
        &page,
        "/account/factors/remove",
        &[("password", PASSWORD)],
    )
    .await;
    let notices = server.mail_to("ann@example.com").await;
    assert!(
        notices
            .iter()
            .any(|n| n.contains("A second step was removed from your account."))
    );
    assert!(
        notices.iter().all(|n| !n.contains(PASSWORD)),
        "no secret in a notice"
    );
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_ends_other_sessions_and_forgets_devices() {
    let server = TestServer::start().await;
    server.add_user_in("ann@example.com", "strict").await;
    let secret = crate::second_factor::enrol_totp(&server, &browser(), "ann@example.com")
        .await
        .secret;
    let laptop = browser_as("Firefox/140 (Windows NT 10.0)");
    // The laptop is remembered; the phone has a session of its own.
    let rp = server.rp("web", WEB_CB).await;
    let (flow, csrf, _, _) = reach_challenge(&server, &laptop, &rp, "ann@example.com").await;
    let code = totp::code_at(&secret, server.now()).unwrap();
    let form = [
        ("flow", flow.as_str()),
        ("csrf", csrf.as_str()),
        ("method", "totp"),
        ("code", code.as_str()),
        ("remember", "yes"),
    ];
    laptop
        .post(server.url("/mfa"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let phone = browser_as("Safari/605 (iPhone)");
    server.clock.advance(30);
    let (flow, csrf, _, _) = reach_challenge(&server, &phone, &rp, "ann@example.com").await;
    let code = totp::code_at(&secret, server.now()).unwrap();
    crate::second_factor::answer(&server, &phone, &flow, &csrf, "totp", &code).await;
    assert_eq!(
        phone
            .get(server.url("/account"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let page = page_at(&server, &laptop, "/account").await;
    let change = |current: &str, new: &str, repeat: &str| {
        let form = [
            ("csrf", form_value(&page, "csrf")),
            ("current_password", current.into()),
            ("new_password", new.into()),
            ("repeat_password", repeat.into()),
        ];
        laptop
            .post(server.url("/account/password"))
            .form(&form)
            .send()
    };
    assert_eq!(
        change(
            "not my password",
            "A brand new password 7",
            "A brand new password 7"
        )
        .await
        .unwrap()
        .status(),
        400
    );
    assert_eq!(
        change(PASSWORD, "A brand new password 7", "a different one")
            .await
            .unwrap()
            .status(),
        400
    );
    assert_eq!(
        change(PASSWORD, "short", "short").await.unwrap().status(),
        400
    );
    let done = change(PASSWORD, "A brand new password 7", "A brand new password 7")
        .await
        .unwrap();
    assert_eq!(location(&done), "/account?notice=password-changed");

    assert_eq!(
        phone
            .get(server.url("/account"))
            .send()
            .await
            .unwrap()
            .status(),
        303,
        "the phone is signed out"
    );
    assert_eq!(
        laptop
            .get(server.url("/account"))
            .send()
            .await
            .unwrap()
            .status(),
        200,
        "the laptop stays signed in"
    );
    let notices = server.mail_to("ann@example.com").await;
    assert!(
        notices
            .iter()
            .any(|n| n.contains("The password of your account was changed."))
    );

    // The old password no longer works, the new one does, and the laptop is asked for a code again.
    server.clock.advance(13 * 3600);
    let (flow, csrf) = open_login(&laptop, authorization_url(&rp, &["openid"]).url.as_str()).await;
    let old = post_login(&server, &laptop, &flow, &csrf, "ann@example.com", PASSWORD).await;
    assert_eq!(old.status(), 200, "the old password is refused");
    let new = post_login(
        &server,
        &laptop,
        &flow,
        &csrf,
        "ann@example.com",
        "A brand new password 7",
    )
    .await;
    assert!(
        location(&new).starts_with("/mfa?flow="),
        "remembered devices were forgotten"
    );
}

#[tokio::test]
async fn recent_sign_ins_are_listed_and_a_new_device_is_notified() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let sign_in_with = |user_agent: &'static str| {
        let server = &server;
        let rp = &rp;
        async move {
            let browser = browser_as(user_agent);
            sign_in(
                server,
                &browser,
                authorization_url(rp, &["openid"]).url.as_str(),
                "ann@example.com",
            )
            .await;
            browser
        }
    };
    sign_in_with("Mozilla/5.0 (Windows NT 10.0) Firefox/140.0").await;
    assert!(
        server.mail_to("ann@example.com").await.is_empty(),
        "a first sign-in is not news"
    );
    sign_in_with("Mozilla/5.0 (Windows NT 10.0) Firefox/140.0").await;
    assert!(
        server.mail_to("ann@example.com").await.is_empty(),
        "a known device is not news"
    );
    let phone =
        sign_in_with("Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Safari/604.1").await;
    let notices = server.mail_to("ann@example.com").await;
    assert_eq!(notices.len(), 1);
    assert!(
        notices[0].contains("a device we have not seen before")
            && notices[0].contains("Safari on iPhone"),
        "{}",
        notices[0]
    );

    let page = page_at(&server, &phone, "/account").await;
    let list = between(&page, "id=\"recent-sign-ins\">", "</ul>");
    assert_eq!(list.matches("<li>").count(), 3);
    assert!(
        list.contains("Safari on iPhone")
            && list.contains("Firefox on Windows")
            && list.contains("127.0.0.1")
    );
    let _ = account_page;
}

#[tokio::test]
async fn the_default_method_is_asked_first_and_factors_can_be_renamed() {
    let server = TestServer::start().await;
    let id = server.add_user("ann@example.com").await;
    let browser = browser();
    crate::second_factor::enrol_totp(&server, &browser, "ann@example.com").await;
    // A second authenticator app; the first stays the default.
    let page = page_at(&server, &browser, "/account/totp").await;
    let secret = totp_secret_on(&page);
    let code = totp::code_at(&secret, server.now()).unwrap();
    submit_form_to(
        &server,
        &browser,
        &page,
        "/account/totp",
        &[("code", code), ("label", "Tablet".into())],
    )
    .await;
    let factors = server.db.factors(&id).await.unwrap();
    let tablet = factors.iter().find(|f| f.label == "Tablet").unwrap();
    assert!(!tablet.is_default);

    let page = page_at(&server, &browser, "/account").await;
    let csrf = form_value(&page, "csrf");
    let made = browser
        .post(server.url("/account/factors/default"))
        .form(&[("csrf", csrf.as_str()), ("factor", tablet.id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&made), "/account?notice=factor-changed");
    let factors = server.db.factors(&id).await.unwrap();
    assert_eq!(factors[0].label, "Tablet", "the default comes first");
    assert_eq!(factors.iter().filter(|f| f.is_default).count(), 1);

    let renamed = browser
        .post(server.url("/account/factors/rename"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("factor", tablet.id.as_str()),
            ("label", "Kitchen tablet"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), 303);
    assert!(
        page_at(&server, &browser, "/account")
            .await
            .contains("Kitchen tablet")
    );
    let foreign = browser
        .post(server.url("/account/factors/rename"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("factor", "not-mine"),
            ("label", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 400);
}

#[tokio::test]
async fn adding_a_factor_long_after_signing_in_needs_the_password_again() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let browser = browser();
    account_page(&server, &browser, "ann@example.com").await;
    server.clock.advance(11 * 60);
    let page = page_at(&server, &browser, "/account/totp").await;
    assert!(
        page.contains("Confirm it&#x27;s you") && !page.contains("id=\"secret\""),
        "no QR code yet"
    );
    let csrf = form_value(&page, "csrf");

    let wrong = browser
        .post(server.url("/account/confirm"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("password", "guess"),
            ("next", "/account/totp"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 400);
    let escape = browser
        .post(server.url("/account/confirm"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("password", PASSWORD),
            ("next", "https://evil.example/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&escape), "/account", "never an open redirect");
    let page = page_at(&server, &browser, "/account/totp").await;
    assert!(
        page.contains("id=\"secret\""),
        "right after confirming, the QR code is shown"
    );
}
