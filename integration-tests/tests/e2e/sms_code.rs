//! Codes by text message: the number is validated and confirmed, codes arrive on the SMS outbox, and
//! the toll-fraud limits hold.

use crate::harness::*;
use crate::second_factor::{account_page, answer, reach_challenge};

const WEB_CB: &str = "http://localhost/web/callback";
const MOBILE: &str = "+31612345678";

async fn submit_number(
    server: &TestServer,
    browser: &reqwest::Client,
    typed: &str,
) -> reqwest::Response {
    let page = page_at(server, browser, "/account/sms").await;
    submit_form_to(
        server,
        browser,
        &page,
        "/account/sms",
        &[("address", typed)],
    )
    .await
}

/// Adds `MOBILE` as a factor, typed the way people type it.
async fn enrol_sms(server: &TestServer, browser: &reqwest::Client, email: &str) {
    account_page(server, browser, email).await;
    let response = submit_number(server, browser, "+31 6 1234 5678").await;
    assert_eq!(response.status(), 200);
    let confirm = response.text().await.unwrap();
    assert!(
        confirm.contains("+31 ••• •••• 78"),
        "the page shows the masked number"
    );
    let (to, text) = server
        .text_messages()
        .last()
        .cloned()
        .expect("a text message");
    assert_eq!(to, MOBILE, "the number is normalised to E.164");
    let response = submit_form_to(
        server,
        browser,
        &confirm,
        "/account/sms/confirm",
        &[("code", six_digits(&text))],
    )
    .await;
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("id=\"recovery-codes\"")
    );
}

#[tokio::test]
async fn confirmed_number_receives_a_code_at_sign_in_and_amr_says_sms() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    enrol_sms(&server, &browser(), "ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let browser = browser();
    let (flow, csrf, page, start) =
        reach_challenge(&server, &browser, &rp, "ann@example.com").await;
    assert!(page.contains("+31 ••• •••• 78") && page.contains("Code from the text message"));
    let messages = server.text_messages();
    assert_eq!(
        messages.len(),
        2,
        "one code at enrolment, one on arrival at the challenge"
    );
    let code = six_digits(&messages[1].1);
    let response = answer(&server, &browser, &flow, &csrf, "sms", &code).await;
    let tokens = redeem(&rp, query(&location(&response))["code"].clone(), &start).await;
    let (amr, acr) = assurance(&tokens, &rp, &start);
    assert_eq!(amr, ["pwd", "sms", "mfa"]);
    assert_eq!(acr, "urn:gatehouse:acr:mfa");
}

#[tokio::test]
async fn numbers_outside_the_allowed_countries_landlines_and_nonsense_are_refused() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let browser = browser();
    account_page(&server, &browser, "ann@example.com").await;
    for (typed, says) in [
        (
            "+49 151 23456789",
            "cannot send text messages to numbers in that country",
        ),
        ("+31 20 123 4567", "not a mobile number"),
        ("06 1234 5678", "with the country code"),
        ("call me", "with the country code"),
    ] {
        let response = submit_number(&server, &browser, typed).await;
        assert_eq!(response.status(), 400, "{typed}");
        assert!(response.text().await.unwrap().contains(says), "{typed}");
    }
    assert!(server.text_messages().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn an_expired_sms_code_is_refused() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    enrol_sms(&server, &browser(), "ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let browser = browser();
    let (flow, csrf, _, _) = reach_challenge(&server, &browser, &rp, "ann@example.com").await;
    let code = six_digits(&server.text_messages()[1].1);
    server.clock.advance(5 * 60);
    let response = answer(&server, &browser, &flow, &csrf, "sms", &code).await;
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("That code is not right")
    );
}

#[tokio::test]
async fn sends_to_one_account_are_limited() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    enrol_sms(&server, &browser(), "ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let browser = browser();
    let (flow, csrf, _, _) = reach_challenge(&server, &browser, &rp, "ann@example.com").await;
    // Five sends per account and window: enrolment, arrival, and three resends.
    for _ in 0..3 {
        server.clock.advance(31);
        let page = browser
            .post(server.url("/mfa/resend"))
            .form(&[
                ("flow", flow.as_str()),
                ("csrf", csrf.as_str()),
                ("method", "sms"),
            ])
            .send()
            .await
            .unwrap();
        assert!(!page.text().await.unwrap().contains("Too many codes"));
    }
    server.clock.advance(31);
    let refused = browser
        .post(server.url("/mfa/resend"))
        .form(&[
            ("flow", flow.as_str()),
            ("csrf", csrf.as_str()),
            ("method", "sms"),
        ])
        .send()
        .await
        .unwrap();
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("Too many codes were sent")
    );
    assert_eq!(server.text_messages().len(), 5);
}
