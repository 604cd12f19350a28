//! Who must use a second factor: organisation policy, the staff override, a client's demand and
//! `acr_values` step-up, and the set-up wizard that completes the original authorization request.

use gatehouse_mfa::totp;

use crate::harness::*;
use crate::second_factor::{answer, reach_challenge};

const WEB_CB: &str = "http://localhost/web/callback";

/// From the wizard, adds an authenticator app through the page the wizard links to; returns the
/// page that follows (recovery codes, with the way back to the sign-in).
pub(crate) async fn enrol_app_in_wizard(
    server: &TestServer,
    browser: &reqwest::Client,
    wizard: &str,
) -> String {
    let wizard = wizard.replace("&#x2f;", "/");
    let link = between(&wizard, "href=\"/account/totp?flow=", "\"").to_owned();
    let page = page_at(server, browser, &format!("/account/totp?flow={link}")).await;
    let secret = totp_secret_on(&page);
    let code = totp::code_at(&secret, server.now()).unwrap();
    submit_form_to(server, browser, &page, "/account/totp", &[("code", code)])
        .await
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn required_policy_sends_a_person_without_a_factor_through_the_wizard_and_completes_the_request()
 {
    let server = TestServer::start().await;
    server.add_user_in("ann@example.com", "strict").await;
    let rp = server.rp("web", WEB_CB).await;
    let browser = browser();
    let start = authorization_url(&rp, &["openid"]);
    let (flow, csrf) = open_login(&browser, start.url.as_str()).await;
    let response = post_login(&server, &browser, &flow, &csrf, "ann@example.com", PASSWORD).await;
    let wizard_url = location(&response);
    assert_eq!(
        wizard_url,
        format!("/mfa/setup?flow={flow}"),
        "right after the password, the wizard"
    );
    let wizard = page_at(&server, &browser, &wizard_url).await;
    assert!(wizard.contains("Strict Hosting asks"));
    assert!(
        wizard.contains("authenticator app")
            && wizard.contains("by e-mail")
            && wizard.contains("text message"),
        "the organisation's methods"
    );
    assert!(!wizard.contains("passkey"), "and only those");

    // Before a factor is set up, the client gets nothing.
    let early = browser
        .get(authorization_url(&rp, &["openid"]).url)
        .send()
        .await
        .unwrap();
    assert!(location(&early).starts_with("/mfa/setup?flow="));

    let codes_page = enrol_app_in_wizard(&server, &browser, &wizard).await;
    assert!(
        codes_page.contains("id=\"recovery-codes\""),
        "recovery codes are saved in the wizard"
    );
    let continue_url = button_link(&codes_page);
    assert_eq!(continue_url, format!("/continue?flow={flow}"));
    let done = browser.get(server.url(&continue_url)).send().await.unwrap();
    let params = query(&location(&done));
    assert_eq!(
        params["state"],
        *start.state.secret(),
        "the original request, state intact"
    );
    let tokens = redeem(&rp, params["code"].clone(), &start).await;
    // The library verifies the nonce of the original request here.
    let (amr, _) = assurance(&tokens, &rp, &start);
    assert_eq!(amr, ["pwd", "otp", "mfa"]);
}

#[tokio::test]
async fn off_policy_asks_nothing_even_of_people_with_a_factor() {
    let server = TestServer::start().await;
    server.add_user_in("ann@example.com", "relaxed").await;
    crate::second_factor::enrol_totp(&server, &browser(), "ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let start = authorization_url(&rp, &["openid"]);
    let location = sign_in(&server, &browser(), start.url.as_str(), "ann@example.com").await;
    let tokens = redeem(&rp, query(&location)["code"].clone(), &start).await;
    let (amr, _) = assurance(&tokens, &rp, &start);
    assert_eq!(amr, ["pwd"]);
}

#[tokio::test]
async fn staff_override_beats_an_off_organisation() {
    let server = TestServer::start().await;
    let id = server.add_user_in("staff@example.com", "relaxed").await;
    server.db.set_require_mfa(&id, true, 1).await.unwrap();
    let rp = server.rp("web", WEB_CB).await;
    let browser = browser();
    let (flow, csrf) = open_login(&browser, authorization_url(&rp, &["openid"]).url.as_str()).await;
    let response = post_login(
        &server,
        &browser,
        &flow,
        &csrf,
        "staff@example.com",
        PASSWORD,
    )
    .await;
    assert!(
        location(&response).starts_with("/mfa/setup?flow="),
        "a staff account without a factor gets the wizard"
    );
}

#[tokio::test]
async fn a_client_that_requires_mfa_gets_it_where_the_organisation_makes_it_optional() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let browser = browser();
    // The ordinary app: password is enough.
    sign_in(
        &server,
        &browser,
        authorization_url(&rp, &["openid"]).url.as_str(),
        "ann@example.com",
    )
    .await;
    // The strict app, in the same browser session: the wizard first.
    let strict = server
        .rp("strict-app", "http://localhost/strict/callback")
        .await;
    let response = browser
        .get(authorization_url(&strict, &["openid"]).url)
        .send()
        .await
        .unwrap();
    assert!(
        location(&response).starts_with("/mfa/setup?flow="),
        "{}",
        location(&response)
    );
}

#[tokio::test]
async fn acr_values_step_up_passes_over_weaker_factors() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let enrolled = crate::second_factor::enrol_totp(&server, &browser(), "ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;

    // Asked for the strong level with an authenticator app: a challenge that only offers strong methods.
    let browser = browser();
    let start = authorization_url(&rp, &["openid"]);
    let stepped = format!("{}&acr_values=urn:gatehouse:acr:mfa", start.url);
    let (flow, csrf) = open_login(&browser, &stepped).await;
    let response = post_login(&server, &browser, &flow, &csrf, "ann@example.com", PASSWORD).await;
    assert!(location(&response).starts_with("/mfa?flow="));
    let page = page_at(&server, &browser, &location(&response)).await;
    let code = totp::code_at(&enrolled.secret, server.now()).unwrap();
    let done = answer(
        &server,
        &browser,
        &flow,
        &form_value(&page, "csrf"),
        "totp",
        &code,
    )
    .await;
    let tokens = redeem(&rp, query(&location(&done))["code"].clone(), &start).await;
    let (_, acr) = assurance(&tokens, &rp, &start);
    assert_eq!(acr, "urn:gatehouse:acr:mfa");

    // Asked for a passkey level nobody here has: the wizard, offering only passkeys (off on this IP issuer,
    // so nothing) — never the weaker authenticator app.
    let higher = format!(
        "{}&acr_values=urn:gatehouse:acr:phishing-resistant",
        authorization_url(&rp, &["openid"]).url
    );
    let again = browser.get(higher).send().await.unwrap();
    let wizard = page_at(&server, &browser, &location(&again)).await;
    assert!(location(&again).starts_with("/mfa/setup?flow="));
    assert!(!wizard.replace("&#x2f;", "/").contains("/account/totp"));
}

#[tokio::test]
async fn prompt_none_that_needs_a_second_factor_answers_interaction_required() {
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
    let strict = server
        .rp("strict-app", "http://localhost/strict/callback")
        .await;
    let silent = browser
        .get(format!(
            "{}&prompt=none",
            authorization_url(&strict, &["openid"]).url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(query(&location(&silent))["error"], "interaction_required");
}

#[tokio::test]
async fn with_a_factor_a_required_organisation_challenges_at_every_new_sign_in() {
    let server = TestServer::start().await;
    server.add_user_in("ann@example.com", "strict").await;
    let browser = browser();
    let rp = server.rp("web", WEB_CB).await;
    let (flow, csrf) = open_login(&browser, authorization_url(&rp, &["openid"]).url.as_str()).await;
    let wizard_url =
        location(&post_login(&server, &browser, &flow, &csrf, "ann@example.com", PASSWORD).await);
    let wizard = page_at(&server, &browser, &wizard_url).await;
    enrol_app_in_wizard(&server, &browser, &wizard).await;
    let (_, _, page, _) =
        reach_challenge(&server, &crate::harness::browser(), &rp, "ann@example.com").await;
    assert!(page.contains("authenticator app"));
}

#[tokio::test]
async fn the_last_factor_cannot_be_removed_where_one_is_required() {
    let server = TestServer::start().await;
    let id = server.add_user("ann@example.com").await;
    let browser = browser();
    crate::second_factor::enrol_totp(&server, &browser, "ann@example.com").await;
    server.db.set_require_mfa(&id, true, 1).await.unwrap();
    let page = page_at(&server, &browser, "/account").await;
    let refused = submit_form_to(
        &server,
        &browser,
        &page,
        "/account/factors/remove",
        &[("password", PASSWORD)],
    )
    .await;
    assert_eq!(refused.status(), 400);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("at least one second step")
    );
    assert_eq!(server.db.factors(&id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn after_an_operator_resets_mfa_the_next_sign_in_goes_through_the_wizard_again() {
    let server = TestServer::start().await;
    let id = server.add_user_in("ann@example.com", "strict").await;
    let rp = server.rp("web", WEB_CB).await;
    let first = browser();
    let (flow, csrf) = open_login(&first, authorization_url(&rp, &["openid"]).url.as_str()).await;
    let wizard_url =
        location(&post_login(&server, &first, &flow, &csrf, "ann@example.com", PASSWORD).await);
    let wizard = page_at(&server, &first, &wizard_url).await;
    enrol_app_in_wizard(&server, &first, &wizard).await;
    assert_eq!(server.db.factors(&id).await.unwrap().len(), 1);

    // What `gatehouse user reset-mfa` does.
    assert_eq!(server.db.reset_mfa(&id).await.unwrap(), 1);
    let again = browser();
    let (flow, csrf) = open_login(&again, authorization_url(&rp, &["openid"]).url.as_str()).await;
    let response = post_login(&server, &again, &flow, &csrf, "ann@example.com", PASSWORD).await;
    assert!(
        location(&response).starts_with("/mfa/setup?flow="),
        "{}",
        location(&response)
    );
}

#[tokio::test]
async fn sign_ins_and_failures_are_in_the_audit_log_with_address_and_device() {
    let server = TestServer::start().await;
    let id = server.add_user("ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("Firefox/140 test")
        .build()
        .unwrap();
    let (flow, csrf) = open_login(&browser, authorization_url(&rp, &["openid"]).url.as_str()).await;
    post_login(
        &server,
        &browser,
        &flow,
        &csrf,
        "ann@example.com",
        "wrong password",
    )
    .await;
    post_login(&server, &browser, &flow, &csrf, "ann@example.com", PASSWORD).await;
    let events = server.db.events_for_user(&id, None, 10).await.unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["sign_in.succeeded", "sign_in.failed"],
        "newest first"
    );
    assert_eq!(events[0].ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(events[0].user_agent.as_deref(), Some("Firefox/140 test"));
    assert!(
        !events.iter().any(|e| e.detail.contains("wrong password")),
        "no password in the log"
    );
}

/// Signs Bo of the strict organisation in and follows the wizard's link to text messages; returns
/// that page.
async fn sms_page_in_wizard(
    server: &TestServer,
    browser: &reqwest::Client,
    start: &AuthStart,
) -> String {
    let (flow, csrf) = open_login(browser, start.url.as_str()).await;
    let wizard_url =
        location(&post_login(server, browser, &flow, &csrf, "bo@example.com", PASSWORD).await);
    let wizard = page_at(server, browser, &wizard_url)
        .await
        .replace("&#x2f;", "/");
    let link = between(&wizard, "href=\"/account/sms?flow=", "\"").to_owned();
    page_at(server, browser, &format!("/account/sms?flow={link}")).await
}

#[tokio::test]
async fn choosing_sms_in_the_wizard_asks_for_the_mobile_number_and_completes_the_request() {
    let server = TestServer::start().await;
    server.add_user_in("bo@example.com", "strict").await;
    let rp = server.rp("web", WEB_CB).await;
    let browser = browser();
    let start = authorization_url(&rp, &["openid"]);
    let page = sms_page_in_wizard(&server, &browser, &start).await;
    assert!(!page.contains("We have this mobile number for you"));
    assert!(
        page.contains("Mobile number, with country code"),
        "no number is known: the wizard asks for it"
    );
    let sent = submit_form_to(
        &server,
        &browser,
        &page,
        "/account/sms",
        &[("address", "+31 6 1234 5678")],
    )
    .await
    .text()
    .await
    .unwrap();
    let code = six_digits(&server.text_messages()[0].1);
    let done = submit_form_to(
        &server,
        &browser,
        &sent,
        "/account/sms/confirm",
        &[("code", code)],
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(done.contains("id=\"recovery-codes\""));
    let continue_url = button_link(&done);
    let back = browser.get(server.url(&continue_url)).send().await.unwrap();
    let params = query(&location(&back));
    assert_eq!(params["state"], *start.state.secret());
    let tokens = redeem(&rp, params["code"].clone(), &start).await;
    let (amr, _) = assurance(&tokens, &rp, &start);
    assert_eq!(amr, ["pwd", "sms", "mfa"]);
}

#[tokio::test]
async fn a_known_mobile_number_is_shown_in_the_wizard_to_be_confirmed_or_corrected() {
    let server = TestServer::start().await;
    let bo = server.add_user_in("bo@example.com", "strict").await;
    server
        .db
        .set_phone_number(&bo, "+31612345678", false, server.now())
        .await
        .unwrap();
    let rp = server.rp("web", WEB_CB).await;
    let browser = browser();
    let start = authorization_url(&rp, &["openid"]);
    let page = sms_page_in_wizard(&server, &browser, &start).await;
    assert!(
        page.contains("We have this mobile number for you: +31612345678."),
        "{page}"
    );
    assert!(
        page.contains("value=\"+31612345678\" required"),
        "the number is filled in"
    );

    // Bo has a new phone: corrects the number; the code goes to the new one, which is kept.
    let sent = submit_form_to(
        &server,
        &browser,
        &page,
        "/account/sms",
        &[("address", "+31 6 8765 4321")],
    )
    .await
    .text()
    .await
    .unwrap();
    let (to, text) = server.text_messages()[0].clone();
    assert_eq!(to, "+31687654321");
    let done = submit_form_to(
        &server,
        &browser,
        &sent,
        "/account/sms/confirm",
        &[("code", six_digits(&text))],
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(done.contains("id=\"recovery-codes\""));
    let user = server.db.user(&bo).await.unwrap().unwrap();
    assert_eq!(user.phone_number.as_deref(), Some("+31687654321"));
    assert!(user.phone_number_verified, "confirmed with a code");
}
