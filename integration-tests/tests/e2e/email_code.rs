//! Codes by e-mail to a second address: enrolment, sign-in, and the ways a code must be refused.
//! Every message travels over real SMTP to a sink on 127.0.0.1 and is read back from there.

use std::time::Duration;

use crate::harness::*;
use crate::second_factor::{account_page, answer, reach_challenge};

const WEB_CB: &str = "http://localhost/web/callback";
const BACKUP: &str = "ann.backup@example.org";

/// The `nth` message (counting from 1) the sink received for `to`, once the mail has settled. Other
/// mail (security notices to the login address) does not count.
async fn mail_to(server: &TestServer, nth: usize, to: &str) -> String {
    let messages = server.mail_to(to).await;
    assert!(
        messages.len() >= nth,
        "only {} e-mails to {to}, expected {nth}",
        messages.len()
    );
    assert_eq!(messages.len(), nth, "more than {nth} e-mails to {to}");
    messages[nth - 1].clone()
}

async fn count_to(server: &TestServer, to: &str) -> usize {
    server
        .smtp
        .messages()
        .await
        .iter()
        .filter(|m| m.to == [to.to_owned()])
        .count()
}

/// Adds `BACKUP` as a second address for codes; returns the recovery codes page.
async fn enrol_email(server: &TestServer, browser: &reqwest::Client, email: &str) -> String {
    account_page(server, browser, email).await;
    let page = page_at(server, browser, "/account/email").await;
    let before = count_to(server, BACKUP).await;
    let sent = submit_form_to(
        server,
        browser,
        &page,
        "/account/email",
        &[("address", "Ann.Backup@Example.org")],
    )
    .await;
    assert_eq!(sent.status(), 200);
    let confirm = sent.text().await.unwrap();
    let code = six_digits(&mail_to(server, before + 1, BACKUP).await);
    let response = submit_form_to(
        server,
        browser,
        &confirm,
        "/account/email/confirm",
        &[("code", code)],
    )
    .await;
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("id=\"recovery-codes\""),
        "the first factor comes with recovery codes"
    );
    page
}

#[tokio::test]
async fn email_code_is_sent_on_arrival_and_signs_in_at_a_lower_acr() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    enrol_email(&server, &browser(), "ann@example.com").await;
    server.mail_settled().await;
    let sent_so_far = server.smtp.messages().await.len();

    let rp = server.rp("web", WEB_CB).await;
    let browser = browser();
    let start = authorization_url(&rp, &["openid"]);
    let (flow, csrf) = open_login(&browser, start.url.as_str()).await;
    let response = post_login(&server, &browser, &flow, &csrf, "ann@example.com", PASSWORD).await;
    let challenge = location(&response);
    server.mail_settled().await;
    assert_eq!(
        server.smtp.messages().await.len(),
        sent_so_far,
        "nothing is sent before the code page is opened"
    );

    let page = page_at(&server, &browser, &challenge).await;
    assert!(
        page.contains("a***@example.org"),
        "the page says where the code went"
    );
    let code = six_digits(&mail_to(&server, 2, BACKUP).await);
    let reload = browser.get(server.url(&challenge)).send().await.unwrap();
    assert_eq!(reload.status(), 200);
    server.mail_settled().await;
    assert_eq!(
        server.smtp.messages().await.len(),
        sent_so_far + 1,
        "reloading the page does not send another code"
    );

    let response = answer(
        &server,
        &browser,
        &flow,
        &form_value(&page, "csrf"),
        "email",
        &code,
    )
    .await;
    assert_eq!(response.status(), 303);
    let tokens = redeem(&rp, query(&location(&response))["code"].clone(), &start).await;
    let (amr, acr) = assurance(&tokens, &rp, &start);
    assert_eq!(amr, ["pwd", "otp", "mfa"]);
    assert_eq!(acr, "urn:gatehouse:acr:mfa-email");
}

#[tokio::test]
async fn second_address_equal_to_the_login_address_is_refused() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let browser = browser();
    account_page(&server, &browser, "ann@example.com").await;
    let page = page_at(&server, &browser, "/account/email").await;
    for address in ["ANN@example.com", " ann@Example.COM ", "not-an-address"] {
        let response = submit_form_to(
            &server,
            &browser,
            &page,
            "/account/email",
            &[("address", address)],
        )
        .await;
        assert_eq!(response.status(), 400, "{address}");
    }
    server.mail_settled().await;
    assert!(server.smtp.messages().await.is_empty(), "no code was sent");
}

#[tokio::test]
async fn wrong_enrolment_code_saves_nothing() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let browser = browser();
    account_page(&server, &browser, "ann@example.com").await;
    let page = page_at(&server, &browser, "/account/email").await;
    let confirm = submit_form_to(
        &server,
        &browser,
        &page,
        "/account/email",
        &[("address", BACKUP)],
    )
    .await
    .text()
    .await
    .unwrap();
    let real = six_digits(&mail_to(&server, 1, BACKUP).await);
    let wrong = if real == "000000" { "111111" } else { "000000" };
    let response = submit_form_to(
        &server,
        &browser,
        &confirm,
        "/account/email/confirm",
        &[("code", wrong)],
    )
    .await;
    assert_eq!(response.status(), 400);
    let account = page_at(&server, &browser, "/account").await;
    assert!(account.contains("Two-step verification is off"));
}

#[tokio::test]
async fn expired_email_code_is_refused() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    enrol_email(&server, &browser(), "ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let browser = browser();
    let (flow, csrf, _, _) = reach_challenge(&server, &browser, &rp, "ann@example.com").await;
    let code = six_digits(&mail_to(&server, 2, BACKUP).await);
    server.clock.advance(10 * 60);
    let response = answer(&server, &browser, &flow, &csrf, "email", &code).await;
    assert_eq!(response.status(), 200);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("That code is not right")
    );
}

#[tokio::test]
async fn resend_waits_for_the_cool_down_and_voids_the_old_code() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    enrol_email(&server, &browser(), "ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let browser = browser();
    let (flow, csrf, _, _) = reach_challenge(&server, &browser, &rp, "ann@example.com").await;
    let first = six_digits(&mail_to(&server, 2, BACKUP).await);

    let resend = |csrf: String| {
        let browser = browser.clone();
        let url = server.url("/mfa/resend");
        let flow = flow.clone();
        async move {
            browser
                .post(url)
                .form(&[("flow", flow), ("csrf", csrf), ("method", "email".into())])
                .send()
                .await
                .unwrap()
        }
    };
    let too_soon = resend(csrf.clone()).await.text().await.unwrap();
    assert!(too_soon.contains("Wait half a minute"));
    assert_eq!(
        count_to(&server, BACKUP).await,
        2,
        "no new code before the cool-down"
    );

    server.clock.advance(31);
    assert_eq!(resend(csrf.clone()).await.status(), 200);
    let second = six_digits(&mail_to(&server, 3, BACKUP).await);
    if first != second {
        let old = answer(&server, &browser, &flow, &csrf, "email", &first).await;
        assert!(
            old.text().await.unwrap().contains("That code is not right"),
            "a new code replaces the old one"
        );
    }
    assert_eq!(
        answer(&server, &browser, &flow, &csrf, "email", &second)
            .await
            .status(),
        303
    );
}

#[tokio::test]
async fn a_code_from_another_users_challenge_is_refused() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    server.add_user("bo@example.com").await;
    enrol_email(&server, &browser(), "ann@example.com").await;
    // Bo's codes go to a second address of his own.
    let bo = browser();
    account_page(&server, &bo, "bo@example.com").await;
    let page = page_at(&server, &bo, "/account/email").await;
    let confirm = submit_form_to(
        &server,
        &bo,
        &page,
        "/account/email",
        &[("address", "bo.other@example.org")],
    )
    .await
    .text()
    .await
    .unwrap();
    let code = six_digits(&mail_to(&server, 1, "bo.other@example.org").await);
    submit_form_to(
        &server,
        &bo,
        &confirm,
        "/account/email/confirm",
        &[("code", code)],
    )
    .await;

    let rp = server.rp("web", WEB_CB).await;
    let ann = browser();
    reach_challenge(&server, &ann, &rp, "ann@example.com").await;
    let anns_code = six_digits(&mail_to(&server, 2, BACKUP).await);
    let bo_browser = browser();
    let (flow, csrf, _, _) = reach_challenge(&server, &bo_browser, &rp, "bo@example.com").await;
    mail_to(&server, 2, "bo.other@example.org").await;
    let response = answer(&server, &bo_browser, &flow, &csrf, "email", &anns_code).await;
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("That code is not right")
    );
}

#[tokio::test]
async fn a_code_asked_for_while_the_mail_server_is_down_arrives_exactly_once_when_it_is_back() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    enrol_email(&server, &browser(), "ann@example.com").await;
    server.mail_settled().await;
    let before = count_to(&server, BACKUP).await;

    server.smtp.set_refusing(true);
    let rp = server.rp("web", WEB_CB).await;
    let browser = browser();
    let start = authorization_url(&rp, &["openid"]);
    let (flow, csrf) = open_login(&browser, start.url.as_str()).await;
    let challenge =
        location(&post_login(&server, &browser, &flow, &csrf, "ann@example.com", PASSWORD).await);
    let page = page_at(&server, &browser, &challenge).await;
    assert!(page.contains("a***@example.org"), "the code is on its way");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while server.smtp.refused() == 0 {
        assert!(std::time::Instant::now() < deadline, "no attempt to send");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        server.db.outbox_depth().await.unwrap(),
        1,
        "kept for a retry"
    );
    assert_eq!(count_to(&server, BACKUP).await, before);

    // The mail server is back; the retry is due 15 seconds after the failure.
    server.smtp.set_refusing(false);
    server.clock.advance(15);
    let code = six_digits(&mail_to(&server, before + 1, BACKUP).await);
    server.mail_settled().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        count_to(&server, BACKUP).await,
        before + 1,
        "sent exactly once"
    );

    let response = answer(
        &server,
        &browser,
        &flow,
        &form_value(&page, "csrf"),
        "email",
        &code,
    )
    .await;
    assert_eq!(response.status(), 303);
    assert!(location(&response).starts_with(WEB_CB));
}
