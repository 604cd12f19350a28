//! Forgotten password: address → code by e-mail (read from the SMTP sink) → new password. The pages
//! answer alike for unknown addresses; the reset is bound to its browser, limited in tries and time,
//! used once, signs the account out everywhere, and never skips the second factor.

use crate::harness::*;
use crate::second_factor::enrol_totp;

const WEB_CB: &str = "http://localhost/web/callback";
const NEW_PASSWORD: &str = "Seven horses walk to Utrecht, 7!";

/// Opens the reset form (from a sign-in page's link when `flow` is given) and asks for a code for
/// `email`; returns the response to the request.
async fn ask_for_code(
    server: &TestServer,
    browser: &reqwest::Client,
    flow: &str,
    email: &str,
) -> reqwest::Response {
    let page = page_at(server, browser, &format!("/password/forgot?flow={flow}")).await;
    submit_form_to(
        server,
        browser,
        &page,
        "/password/forgot",
        &[("flow", flow), ("email", email)],
    )
    .await
}

async fn enter_code(
    server: &TestServer,
    browser: &reqwest::Client,
    code_page: &str,
    code: &str,
) -> reqwest::Response {
    submit_form_to(
        server,
        browser,
        code_page,
        "/password/reset",
        &[("code", code.to_owned())],
    )
    .await
}

async fn set_new_password(
    server: &TestServer,
    browser: &reqwest::Client,
    new_page: &str,
    password: &str,
) -> reqwest::Response {
    submit_form_to(
        server,
        browser,
        new_page,
        "/password/new",
        &[
            ("new_password", password.to_owned()),
            ("repeat_password", password.to_owned()),
        ],
    )
    .await
}

/// Asks for a code for Ann and types it; returns the new-password page.
async fn reach_new_password(server: &TestServer, browser: &reqwest::Client, flow: &str) -> String {
    server.mail_settled().await;
    let before = server.mail_to("ann@example.com").await.len();
    let code_page = ask_for_code(server, browser, flow, "Ann@Example.com")
        .await
        .text()
        .await
        .unwrap();
    let mail = server.mail_to("ann@example.com").await;
    let code = six_digits(&mail[before]);
    let response = enter_code(server, browser, &code_page, &code).await;
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert!(page.contains("Choose a new password"), "{page}");
    page
}

#[tokio::test]
async fn a_forgotten_password_is_reset_with_an_emailed_code_and_the_second_factor_is_still_asked() {
    let server = TestServer::start().await;
    server.add_user_in("ann@example.com", "strict").await;
    let laptop = browser();
    enrol_totp(&server, &laptop, "ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;

    // The laptop is signed in and the app holds a refresh token.
    let start = authorization_url(&rp, &["openid", "offline_access"]);
    let back = location(&laptop.get(start.url.clone()).send().await.unwrap());
    let tokens = redeem(&rp, query(&back)["code"].clone(), &start).await;
    let refresh = openidconnect::OAuth2TokenResponse::refresh_token(&tokens)
        .unwrap()
        .clone();
    server.clock.advance(30);

    // On another computer, Ann has forgotten her password: the link is on the sign-in page.
    let desktop = browser();
    let start = authorization_url(&rp, &["openid"]);
    let (flow, _) = open_login(&desktop, start.url.as_str()).await;
    let login = page_at(&server, &desktop, &format!("/login?flow={flow}"))
        .await
        .replace("&#x2f;", "/");
    assert!(login.contains(&format!("href=\"/password/forgot?flow={flow}\"")));
    let new_page = reach_new_password(&server, &desktop, &flow).await;
    let done = set_new_password(&server, &desktop, &new_page, NEW_PASSWORD).await;
    assert_eq!(done.status(), 200);
    let done = done.text().await.unwrap().replace("&#x2f;", "/");
    assert!(done.contains("Your password is changed"));
    let next = between(&done, "class=\"button\" href=\"", "\"").replace("&amp;", "&");
    assert_eq!(
        next,
        format!("/login?flow={flow}"),
        "back to the same sign-in"
    );

    // Everything signed in before is signed out.
    let account = laptop.get(server.url("/account")).send().await.unwrap();
    assert_eq!(account.status(), 303, "the laptop's session ended");
    assert!(
        rp.exchange_refresh_token(&refresh)
            .unwrap()
            .request_async(&http())
            .await
            .is_err(),
        "the app's refresh token no longer works"
    );
    // Mail to Ann: the notice of her app, the reset code, then the notice of the reset.
    let notices = server.mail_to("ann@example.com").await;
    assert!(
        notices
            .iter()
            .any(|n| n.contains("password of your account was reset")),
        "{notices:?}"
    );

    // The old password is refused; the new one is followed by the second factor.
    let csrf = form_value(&page_at(&server, &desktop, &next).await, "csrf");
    let refused = post_login(&server, &desktop, &flow, &csrf, "ann@example.com", PASSWORD).await;
    assert_eq!(refused.status(), 200);
    let signed_in = post_login(
        &server,
        &desktop,
        &flow,
        &csrf,
        "ann@example.com",
        NEW_PASSWORD,
    )
    .await;
    assert!(
        location(&signed_in).starts_with("/mfa?flow="),
        "a reset never skips the second factor"
    );
}

#[tokio::test]
async fn an_unknown_address_gets_the_same_answer_and_no_mail() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let known = ask_for_code(&server, &browser(), "", "ann@example.com").await;
    let unknown = ask_for_code(&server, &browser(), "", "nobody@example.com").await;
    assert_eq!(known.status(), unknown.status());
    let strip = |page: String, email: &str| {
        page.replace(email, "EMAIL")
            .lines()
            .filter(|l| !l.contains("name=\"csrf\"") && !l.contains("name=\"reset\""))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        strip(known.text().await.unwrap(), "ann@example.com"),
        strip(unknown.text().await.unwrap(), "nobody@example.com"),
        "the pages differ only in the address typed and the random tokens"
    );
    let mail = server.messages_to("ann@example.com").await;
    assert_eq!(mail.len(), 1, "the account's reset e-mail");
    let code = six_digits(&mail[0].body_text());
    let html = mail[0]
        .body_html()
        .expect("an HTML alternative from the theme");
    assert!(html.contains(&format!(">{code}</strong>")), "{html}");
    let to: Vec<Vec<String>> = server
        .smtp
        .messages()
        .await
        .into_iter()
        .map(|m| m.to)
        .collect();
    assert_eq!(
        to,
        [["ann@example.com".to_owned()]],
        "mail only to the account"
    );
}

#[tokio::test]
async fn five_wrong_codes_void_the_reset() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let browser = browser();
    let code_page = ask_for_code(&server, &browser, "", "ann@example.com")
        .await
        .text()
        .await
        .unwrap();
    let code = six_digits(&server.mail_to("ann@example.com").await[0]);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for attempt in 1..=5 {
        let page = enter_code(&server, &browser, &code_page, wrong).await;
        assert_eq!(page.status(), 400);
        let text = page.text().await.unwrap();
        let expected = if attempt < 5 {
            "That code is not right"
        } else {
            "too many wrong codes"
        };
        assert!(text.contains(expected), "attempt {attempt}: {text}");
    }
    let page = enter_code(&server, &browser, &code_page, &code).await;
    assert_eq!(page.status(), 400);
    assert!(
        page.text().await.unwrap().contains("too many wrong codes"),
        "the right code after five wrong ones is refused"
    );
}

#[tokio::test]
async fn the_code_works_only_in_its_browser_only_for_15_minutes_and_only_once() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let browser_a = browser();
    let code_page = ask_for_code(&server, &browser_a, "", "ann@example.com")
        .await
        .text()
        .await
        .unwrap();
    let code = six_digits(&server.mail_to("ann@example.com").await[0]);

    // Another browser, with the code and even the form's fields, gets nowhere.
    let other = browser();
    let other_page = page_at(&server, &other, "/password/forgot").await;
    let stolen = other
        .post(server.url("/password/reset"))
        .form(&[
            ("csrf", form_value(&other_page, "csrf")),
            ("reset", form_value(&code_page, "reset")),
            ("code", code.clone()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(stolen.status(), 400);
    assert!(
        stolen
            .text()
            .await
            .unwrap()
            .contains("in the browser where you asked")
    );

    // A form without the CSRF token is refused.
    let forged = browser_a
        .post(server.url("/password/reset"))
        .form(&[
            ("reset", form_value(&code_page, "reset")),
            ("code", code.clone()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);

    // Used once: a second new password with the same reset is refused.
    let new_page = enter_code(&server, &browser_a, &code_page, &code)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        set_new_password(&server, &browser_a, &new_page, NEW_PASSWORD)
            .await
            .status(),
        200
    );
    let again = set_new_password(&server, &browser_a, &new_page, "Another fine password 9!").await;
    assert_eq!(again.status(), 400);
    assert!(again.text().await.unwrap().contains("already used"));

    // A later code expires after 15 minutes.
    server.clock.advance(60);
    let later = reach_code_page(&server, &browser_a).await;
    let code = six_digits(&server.mail_to("ann@example.com").await.pop().unwrap());
    server.clock.advance(15 * 60);
    let expired = enter_code(&server, &browser_a, &later, &code).await;
    assert_eq!(expired.status(), 400);
    assert!(expired.text().await.unwrap().contains("no longer valid"));
}

async fn reach_code_page(server: &TestServer, browser: &reqwest::Client) -> String {
    ask_for_code(server, browser, "", "ann@example.com")
        .await
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_new_password_must_be_typed_twice_alike_and_be_long_enough() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let browser = browser();
    let new_page = reach_new_password(&server, &browser, "").await;
    let short = set_new_password(&server, &browser, &new_page, "short").await;
    assert_eq!(short.status(), 400);
    assert!(short.text().await.unwrap().contains("at least 8"));
    // Every rule of the organisation's policy is explained at once.
    let weak = set_new_password(&server, &browser, &new_page, "annannann").await;
    assert_eq!(weak.status(), 400);
    let weak = weak.text().await.unwrap();
    for rule in [
        "upper-case letter",
        "a digit",
        "special character",
        "part before the @",
    ] {
        assert!(weak.contains(rule), "{rule}: {weak}");
    }
    let mismatch = submit_form_to(
        &server,
        &browser,
        &new_page,
        "/password/new",
        &[
            ("new_password", NEW_PASSWORD.to_owned()),
            ("repeat_password", format!("{NEW_PASSWORD}!")),
        ],
    )
    .await;
    assert_eq!(mismatch.status(), 400);
    assert!(mismatch.text().await.unwrap().contains("not the same"));
    // Nothing changed: the old password still signs in.
    let rp = server.rp("web", WEB_CB).await;
    let (code, _) = code_for(
        &server,
        &rp,
        &crate::harness::browser(),
        "ann@example.com",
        &["openid"],
    )
    .await;
    assert!(!code.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_asked_for_just_before_a_shutdown_still_gets_its_e_mail() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let answer = ask_for_code(&server, &browser(), "", "ann@example.com").await;
    assert_eq!(answer.status(), 200);
    // The reset is saved, and its e-mail queued, after the answer. Shutting down at once must wait
    // for that work, so the e-mail is sent or still queued, never lost.
    let stopped = server.stop().await;
    let delivered = stopped
        .smtp
        .messages()
        .await
        .iter()
        .filter(|m| m.to == ["ann@example.com".to_owned()])
        .count();
    let queued = stopped.db.outbox_depth().await.unwrap();
    assert_eq!(
        delivered as u64 + queued as u64,
        1,
        "sent or queued once, when the server has stopped"
    );
    // The next start sends what was left queued, once.
    let server = stopped.start().await;
    let mail = server.messages_to("ann@example.com").await;
    server.mail_settled().await;
    assert_eq!(mail.len(), 1);
    six_digits(&mail[0].body_text());
}
