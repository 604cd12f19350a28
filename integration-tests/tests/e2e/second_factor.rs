//! Second factors end to end: an authenticator app enrolled on the account page, the challenge at
//! sign-in, recovery codes, and every way a code must be refused.

use gatehouse_mfa::totp::{self, TotpSecret};

use crate::harness::*;

const WEB_CB: &str = "http://localhost/web/callback";

/// Signs in to the account page with the password (no second factor yet) and returns its HTML.
pub(crate) async fn account_page(
    server: &TestServer,
    browser: &reqwest::Client,
    email: &str,
) -> String {
    let response = browser.get(server.url("/account")).send().await.unwrap();
    assert_eq!(response.status(), 303, "the account page needs a sign-in");
    let login = location(&response);
    let page = page_at(server, browser, &login).await;
    assert!(page.contains("your account"), "{page}");
    let response = post_login(
        server,
        browser,
        &form_value(&page, "flow"),
        &form_value(&page, "csrf"),
        email,
        PASSWORD,
    )
    .await;
    assert_eq!(location(&response), "/account");
    page_at(server, browser, "/account").await
}

pub(crate) struct Enrolled {
    pub secret: TotpSecret,
    pub recovery_codes: Vec<String>,
}

/// Adds an authenticator app as a person would: QR page, key typed into the "app", current code.
pub(crate) async fn enrol_totp(
    server: &TestServer,
    browser: &reqwest::Client,
    email: &str,
) -> Enrolled {
    account_page(server, browser, email).await;
    let page = page_at(server, browser, "/account/totp").await;
    assert!(
        page.replace("&#x2f;", "/")
            .contains("src=\"data:image/svg+xml;base64,"),
        "the QR code is rendered here"
    );
    let secret = totp_secret_on(&page);
    let code = totp::code_at(&secret, server.now()).unwrap();
    let response = submit_form_to(
        server,
        browser,
        &page,
        "/account/totp",
        &[("code", code), ("label", "My phone".into())],
    )
    .await;
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    let list = between(&page, "id=\"recovery-codes\">", "</ul>");
    let recovery_codes: Vec<String> = list
        .split("<code>")
        .skip(1)
        .map(|c| c.split('<').next().unwrap().to_owned())
        .collect();
    assert_eq!(
        recovery_codes.len(),
        10,
        "ten recovery codes are shown once"
    );
    // Codes the app shows later belong to later time steps.
    server.clock.advance(30);
    Enrolled {
        secret,
        recovery_codes,
    }
}

/// Starts a sign-in for the web client and posts the password; returns the /mfa page's (flow, csrf, html).
pub(crate) async fn reach_challenge(
    server: &TestServer,
    browser: &reqwest::Client,
    rp: &Rp,
    email: &str,
) -> (String, String, String, AuthStart) {
    let start = authorization_url(rp, &["openid"]);
    let (flow, csrf) = open_login(browser, start.url.as_str()).await;
    let response = post_login(server, browser, &flow, &csrf, email, PASSWORD).await;
    let challenge = location(&response);
    assert!(
        challenge.starts_with("/mfa?flow="),
        "a second factor is asked for: {challenge}"
    );
    assert!(
        response
            .headers()
            .get_all("set-cookie")
            .iter()
            .all(|c| !c.to_str().unwrap().starts_with("gatehouse_session=")),
        "no session before the second factor"
    );
    let page = page_at(server, browser, &challenge).await;
    (flow, form_value(&page, "csrf"), page, start)
}

pub(crate) async fn answer(
    server: &TestServer,
    browser: &reqwest::Client,
    flow: &str,
    csrf: &str,
    method: &str,
    code: &str,
) -> reqwest::Response {
    browser
        .post(server.url("/mfa"))
        .form(&[
            ("flow", flow),
            ("csrf", csrf),
            ("method", method),
            ("code", code),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn authenticator_app_is_asked_after_the_password_and_shows_in_amr_and_acr() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let enrolled = enrol_totp(&server, &browser(), "ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let browser = browser();
    let (flow, csrf, page, start) =
        reach_challenge(&server, &browser, &rp, "ann@example.com").await;
    assert!(
        page.contains("authenticator app")
            && page.contains("autocomplete=\"one-time-code\"")
            && page.contains("inputmode=\"numeric\"")
    );
    assert!(
        page.contains("Use a recovery code"),
        "another method is offered"
    );

    let code = totp::code_at(&enrolled.secret, server.now()).unwrap();
    let response = answer(&server, &browser, &flow, &csrf, "totp", &code).await;
    assert_eq!(response.status(), 303);
    let tokens = redeem(&rp, query(&location(&response))["code"].clone(), &start).await;
    let (amr, acr) = assurance(&tokens, &rp, &start);
    assert_eq!(amr, ["pwd", "otp", "mfa"]);
    assert_eq!(acr, "urn:gatehouse:acr:mfa");
}

#[tokio::test]
async fn replayed_totp_code_is_refused() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let enrolled = enrol_totp(&server, &browser(), "ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let code = totp::code_at(&enrolled.secret, server.now()).unwrap();

    let first = browser();
    let (flow, csrf, _, _) = reach_challenge(&server, &first, &rp, "ann@example.com").await;
    assert_eq!(
        answer(&server, &first, &flow, &csrf, "totp", &code)
            .await
            .status(),
        303
    );

    let second = browser();
    let (flow, csrf, _, _) = reach_challenge(&server, &second, &rp, "ann@example.com").await;
    let replay = answer(&server, &second, &flow, &csrf, "totp", &code).await;
    assert_eq!(replay.status(), 200);
    assert!(
        replay
            .text()
            .await
            .unwrap()
            .contains("That code is not right")
    );
}

#[tokio::test]
async fn the_code_typed_at_enrolment_cannot_be_used_to_sign_in() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let enrolled = enrol_totp(&server, &browser(), "ann@example.com").await;
    let enrolment_code = totp::code_at(&enrolled.secret, server.now() - 30).unwrap();
    server.clock.advance(-30);
    let rp = server.rp("web", WEB_CB).await;
    let browser = browser();
    let (flow, csrf, _, _) = reach_challenge(&server, &browser, &rp, "ann@example.com").await;
    assert_eq!(
        answer(&server, &browser, &flow, &csrf, "totp", &enrolment_code)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn five_wrong_codes_lock_the_method_across_sessions_until_the_lock_ends() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let enrolled = enrol_totp(&server, &browser(), "ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;

    let (a, b) = (browser(), browser());
    let (flow_a, csrf_a, _, _) = reach_challenge(&server, &a, &rp, "ann@example.com").await;
    let (flow_b, csrf_b, _, _) = reach_challenge(&server, &b, &rp, "ann@example.com").await;
    for _ in 0..3 {
        assert_eq!(
            answer(&server, &a, &flow_a, &csrf_a, "totp", "000000")
                .await
                .status(),
            200
        );
    }
    for _ in 0..2 {
        assert_eq!(
            answer(&server, &b, &flow_b, &csrf_b, "totp", "000000")
                .await
                .status(),
            200
        );
    }
    let good = totp::code_at(&enrolled.secret, server.now()).unwrap();
    let locked = answer(&server, &a, &flow_a, &csrf_a, "totp", &good).await;
    assert_eq!(
        locked.status(),
        429,
        "brute force split over two sessions meets one limit"
    );
    assert!(locked.text().await.unwrap().contains("Wait 15 minutes"));
    let fresh = browser();
    let (flow_c, csrf_c, _, _) = reach_challenge(&server, &fresh, &rp, "ann@example.com").await;
    assert_eq!(
        answer(&server, &fresh, &flow_c, &csrf_c, "totp", &good)
            .await
            .status(),
        429,
        "a new session does not reset it"
    );

    server.clock.advance(2 * 15 * 60);
    let later = browser();
    let (flow, csrf, _, _) = reach_challenge(&server, &later, &rp, "ann@example.com").await;
    let code = totp::code_at(&enrolled.secret, server.now()).unwrap();
    assert_eq!(
        answer(&server, &later, &flow, &csrf, "totp", &code)
            .await
            .status(),
        303
    );
}

#[tokio::test]
async fn many_consecutive_failures_lock_the_second_factor_for_good() {
    let server =
        TestServer::start_with("[mfa]\nmax_failures = 1000\nmax_consecutive_failures = 8\n").await;
    server.add_user("ann@example.com").await;
    let enrolled = enrol_totp(&server, &browser(), "ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let browser = browser();
    let (flow, csrf, _, _) = reach_challenge(&server, &browser, &rp, "ann@example.com").await;
    for _ in 0..8 {
        answer(&server, &browser, &flow, &csrf, "totp", "000000").await;
    }
    server.clock.advance(24 * 3600);
    let (flow, csrf, _, _) = reach_challenge(&server, &browser, &rp, "ann@example.com").await;
    let code = totp::code_at(&enrolled.secret, server.now()).unwrap();
    let response = answer(&server, &browser, &flow, &csrf, "totp", &code).await;
    assert_eq!(response.status(), 429);
    assert!(response.text().await.unwrap().contains("locked"));

    // A recovery code is another route in; it succeeds and unlocks the authenticator app again.
    let recovered = answer(
        &server,
        &browser,
        &flow,
        &csrf,
        "recovery_code",
        &enrolled.recovery_codes[0],
    )
    .await;
    assert_eq!(recovered.status(), 200);
    let other = crate::harness::browser();
    let (flow, csrf, _, _) = reach_challenge(&server, &other, &rp, "ann@example.com").await;
    server.clock.advance(30);
    let code = totp::code_at(&enrolled.secret, server.now()).unwrap();
    assert_eq!(
        answer(&server, &other, &flow, &csrf, "totp", &code)
            .await
            .status(),
        303
    );
}

#[tokio::test]
async fn recovery_code_signs_in_once_and_says_how_many_are_left() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let enrolled = enrol_totp(&server, &browser(), "ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let browser = browser();
    let (flow, csrf, _, start) = reach_challenge(&server, &browser, &rp, "ann@example.com").await;
    let page = page_at(
        &server,
        &browser,
        &format!("/mfa?flow={flow}&method=recovery_code"),
    )
    .await;
    assert!(page.contains("recovery codes you saved"));
    // Typed in lower case without hyphens: still accepted.
    let typed = enrolled.recovery_codes[0].replace('-', "").to_lowercase();
    let response = answer(&server, &browser, &flow, &csrf, "recovery_code", &typed).await;
    assert_eq!(response.status(), 200);
    let notice = response.text().await.unwrap();
    assert_eq!(between(&notice, "id=\"codes-left\">", "<"), "9");
    let next = browser
        .get(server.url(&format!("/continue?flow={flow}")))
        .send()
        .await
        .unwrap();
    let tokens = redeem(&rp, query(&location(&next))["code"].clone(), &start).await;
    let (amr, _) = assurance(&tokens, &rp, &start);
    assert!(amr.contains(&"mfa".to_owned()));

    let other = crate::harness::browser();
    let (flow, csrf, _, _) = reach_challenge(&server, &other, &rp, "ann@example.com").await;
    let reused = answer(
        &server,
        &other,
        &flow,
        &csrf,
        "recovery_code",
        &enrolled.recovery_codes[0],
    )
    .await;
    assert_eq!(reused.status(), 200);
    assert!(
        reused
            .text()
            .await
            .unwrap()
            .contains("That code is not right"),
        "a recovery code works once"
    );
}

#[tokio::test]
async fn codes_of_another_user_are_refused() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    server.add_user("bo@example.com").await;
    let ann = enrol_totp(&server, &browser(), "ann@example.com").await;
    enrol_totp(&server, &browser(), "bo@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let browser = browser();
    let (flow, csrf, _, _) = reach_challenge(&server, &browser, &rp, "bo@example.com").await;
    let anns_code = totp::code_at(&ann.secret, server.now()).unwrap();
    assert_eq!(
        answer(&server, &browser, &flow, &csrf, "totp", &anns_code)
            .await
            .status(),
        200
    );
    let anns_recovery = &ann.recovery_codes[1];
    let response = answer(
        &server,
        &browser,
        &flow,
        &csrf,
        "recovery_code",
        anns_recovery,
    )
    .await;
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("That code is not right")
    );
}

#[tokio::test]
async fn challenge_answer_without_csrf_or_from_another_browser_is_refused() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let enrolled = enrol_totp(&server, &browser(), "ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let victim = browser();
    let (flow, csrf, _, _) = reach_challenge(&server, &victim, &rp, "ann@example.com").await;
    let code = totp::code_at(&enrolled.secret, server.now()).unwrap();
    assert_eq!(
        answer(&server, &victim, &flow, "forged", "totp", &code)
            .await
            .status(),
        403
    );
    let attacker = browser();
    assert_eq!(
        answer(&server, &attacker, &flow, &csrf, "totp", &code)
            .await
            .status(),
        400
    );
}

#[tokio::test]
async fn enrolment_needs_a_current_code_and_an_untampered_form() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let browser = browser();
    account_page(&server, &browser, "ann@example.com").await;
    let page = page_at(&server, &browser, "/account/totp").await;
    let (csrf, enrolment) = (form_value(&page, "csrf"), form_value(&page, "enrolment"));
    let wrong = browser
        .post(server.url("/account/totp"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("enrolment", enrolment.as_str()),
            ("code", "123456"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 400);
    let again = wrong.text().await.unwrap();
    assert_eq!(
        form_value(&again, "enrolment"),
        enrolment,
        "the same key is kept for another try"
    );

    let mut tampered = enrolment.clone().into_bytes();
    let last = tampered.len() - 5;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let forged = browser
        .post(server.url("/account/totp"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("enrolment", tampered.as_str()),
            ("code", "123456"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);
    assert_ne!(
        form_value(&forged.text().await.unwrap(), "enrolment"),
        enrolment,
        "a tampered form starts over"
    );

    let no_csrf = browser
        .post(server.url("/account/totp"))
        .form(&[
            ("csrf", "x"),
            ("enrolment", enrolment.as_str()),
            ("code", "123456"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(no_csrf.status(), 403);
    let account = page_at(&server, &browser, "/account").await;
    assert!(
        account.contains("Two-step verification is off"),
        "nothing was saved"
    );
}

#[tokio::test]
async fn removing_a_factor_needs_the_password() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let browser = browser();
    enrol_totp(&server, &browser, "ann@example.com").await;
    let page = page_at(&server, &browser, "/account").await;
    assert!(page.contains("My phone"));
    let (csrf, factor) = (form_value(&page, "csrf"), form_value(&page, "factor"));

    let without = browser
        .post(server.url("/account/factors/remove"))
        .form(&[("csrf", csrf.as_str()), ("factor", factor.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(without.status(), 400);
    let wrong = browser
        .post(server.url("/account/factors/remove"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("factor", factor.as_str()),
            ("password", "not my password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 400);
    assert!(wrong.text().await.unwrap().contains("Nothing was changed"));
    let forged = browser
        .post(server.url("/account/factors/remove"))
        .form(&[
            ("csrf", "forged"),
            ("factor", factor.as_str()),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert!(
        page_at(&server, &browser, "/account")
            .await
            .contains("My phone")
    );

    let removed = browser
        .post(server.url("/account/factors/remove"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("factor", factor.as_str()),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&removed), "/account?notice=factor-removed");
    let rp = server.rp("web", WEB_CB).await;
    let start = authorization_url(&rp, &["openid"]);
    let location = sign_in(
        &server,
        &crate::harness::browser(),
        start.url.as_str(),
        "ann@example.com",
    )
    .await;
    assert!(
        location.starts_with(WEB_CB),
        "without a factor the password is enough again"
    );
}

#[tokio::test]
async fn new_recovery_codes_void_the_old_set() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let browser = browser();
    let enrolled = enrol_totp(&server, &browser, "ann@example.com").await;
    let page = page_at(&server, &browser, "/account").await;
    let response = submit_form_to(
        &server,
        &browser,
        &page,
        "/account/recovery-codes",
        &[("password", PASSWORD)],
    )
    .await;
    let fresh = response.text().await.unwrap();
    assert!(fresh.contains("id=\"recovery-codes\""));
    let rp = server.rp("web", WEB_CB).await;
    let other = crate::harness::browser();
    let (flow, csrf, _, _) = reach_challenge(&server, &other, &rp, "ann@example.com").await;
    let old = answer(
        &server,
        &other,
        &flow,
        &csrf,
        "recovery_code",
        &enrolled.recovery_codes[2],
    )
    .await;
    assert!(old.text().await.unwrap().contains("That code is not right"));
}

#[tokio::test]
async fn methods_the_operator_does_not_offer_cannot_be_added() {
    let server = TestServer::start_with("[mfa]\nmethods = [\"totp\"]\n").await;
    server.add_user("ann@example.com").await;
    let browser = browser();
    let account = account_page(&server, &browser, "ann@example.com").await;
    assert!(account.contains("Add an authenticator app"));
    assert!(!account.contains("/account/sms") && !account.contains("/account/email"));
    for path in ["/account/sms", "/account/email"] {
        let response = browser.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 400, "{path}");
        assert!(response.text().await.unwrap().contains("not offered here"));
    }
    // A form the page does not offer, built by hand with the account pages' CSRF token.
    let page = page_at(&server, &browser, "/account/totp").await;
    let posted = browser
        .post(server.url("/account/email"))
        .form(&[
            ("csrf", form_value(&page, "csrf").as_str()),
            ("address", "ann.backup@example.org"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 400);
    server.mail_settled().await;
    assert!(server.smtp.messages().await.is_empty());
}
