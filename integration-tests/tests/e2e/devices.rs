//! Remembered devices: "don't ask again on this device" skips the policy's second step there only,
//! says so honestly in the token, can be forgotten, and never stands in for a step-up.

use gatehouse_mfa::totp::{self, TotpSecret};

use crate::harness::*;
use crate::second_factor::reach_challenge;

const WEB_CB: &str = "http://localhost/web/callback";
const STRICT_CB: &str = "http://localhost/strict/callback";

/// Ann of the `strict` organisation (MFA required, devices remembered 30 days) with an authenticator app.
async fn ann_with_app(server: &TestServer) -> TotpSecret {
    server.add_user_in("ann@example.com", "strict").await;
    crate::second_factor::enrol_totp(server, &browser(), "ann@example.com")
        .await
        .secret
}

/// Signs in with password and code, ticking "don't ask again"; returns the set-cookie of the device.
async fn sign_in_remembering(
    server: &TestServer,
    browser: &reqwest::Client,
    rp: &Rp,
    secret: &TotpSecret,
) -> String {
    let (flow, csrf, page, _) = reach_challenge(server, browser, rp, "ann@example.com").await;
    assert!(page.contains("Don&#x27;t ask again on this device for 30 days"));
    let code = totp::code_at(secret, server.now()).unwrap();
    let form = [
        ("flow", flow.as_str()),
        ("csrf", csrf.as_str()),
        ("method", "totp"),
        ("code", code.as_str()),
        ("remember", "yes"),
    ];
    let response = browser
        .post(server.url("/mfa"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("gatehouse_device="))
        .expect("a device cookie")
}

/// A new sign-in on the same browser after its session has ended (13 hours later).
async fn later_sign_in(
    server: &TestServer,
    browser: &reqwest::Client,
    rp: &Rp,
    extra: &str,
) -> (reqwest::Response, AuthStart) {
    let start = authorization_url(rp, &["openid"]);
    let (flow, csrf) = open_login(browser, &format!("{}{extra}", start.url)).await;
    (
        post_login(server, browser, &flow, &csrf, "ann@example.com", PASSWORD).await,
        start,
    )
}

#[tokio::test]
async fn a_remembered_device_skips_the_code_says_so_and_other_browsers_are_still_asked() {
    let server = TestServer::start().await;
    let secret = ann_with_app(&server).await;
    let rp = server.rp("web", WEB_CB).await;
    let laptop = browser();
    let cookie = sign_in_remembering(&server, &laptop, &rp, &secret).await;
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("Max-Age=2592000"),
        "{cookie}"
    );

    server.clock.advance(13 * 3600);
    let (response, start) = later_sign_in(&server, &laptop, &rp, "").await;
    let back = location(&response);
    assert!(
        back.starts_with(WEB_CB),
        "no code asked on the remembered laptop: {back}"
    );
    let tokens = redeem(&rp, query(&back)["code"].clone(), &start).await;
    let (amr, acr) = assurance(&tokens, &rp, &start);
    assert_eq!(amr, ["pwd"], "amr lists only what was done this time");
    assert_eq!(acr, "urn:gatehouse:acr:password-remembered-device");

    let phone = browser();
    let (response, _) = later_sign_in(&server, &phone, &rp, "").await;
    assert!(
        location(&response).starts_with("/mfa?flow="),
        "another browser is asked"
    );
}

#[tokio::test]
async fn step_up_and_max_age_ask_for_the_code_even_on_a_remembered_device() {
    let server = TestServer::start().await;
    let secret = ann_with_app(&server).await;
    let rp = server.rp("web", WEB_CB).await;
    let laptop = browser();
    sign_in_remembering(&server, &laptop, &rp, &secret).await;
    for extra in ["&acr_values=urn:gatehouse:acr:mfa", "&max_age=0"] {
        server.clock.advance(13 * 3600);
        let (response, _) = later_sign_in(&server, &laptop, &rp, extra).await;
        assert!(location(&response).starts_with("/mfa?flow="), "{extra}");
    }
}

#[tokio::test]
async fn a_forgotten_device_is_asked_again() {
    let server = TestServer::start().await;
    let secret = ann_with_app(&server).await;
    let rp = server.rp("web", WEB_CB).await;
    let laptop = browser();
    sign_in_remembering(&server, &laptop, &rp, &secret).await;
    let account = page_at(&server, &laptop, "/account").await;
    assert!(account.contains("id=\"remembered-devices\""));
    let forgotten = submit_form_to(
        &server,
        &laptop,
        &account,
        "/account/devices/forget",
        NO_FIELDS,
    )
    .await;
    assert_eq!(location(&forgotten), "/account?notice=device-forgotten");

    server.clock.advance(13 * 3600);
    let (response, _) = later_sign_in(&server, &laptop, &rp, "").await;
    assert!(location(&response).starts_with("/mfa?flow="));
}

#[tokio::test]
async fn an_mfa_reset_forgets_every_device() {
    let server = TestServer::start().await;
    let secret = ann_with_app(&server).await;
    let id = server
        .db
        .user_by_email("ann@example.com")
        .await
        .unwrap()
        .unwrap()
        .id;
    let rp = server.rp("web", WEB_CB).await;
    let laptop = browser();
    sign_in_remembering(&server, &laptop, &rp, &secret).await;
    server.db.reset_mfa(&id).await.unwrap();
    assert!(
        server
            .db
            .remembered_devices(&id, server.now())
            .await
            .unwrap()
            .is_empty()
    );
    server.clock.advance(13 * 3600);
    let (response, _) = later_sign_in(&server, &laptop, &rp, "").await;
    assert!(
        location(&response).starts_with("/mfa/setup?flow="),
        "no factor and no device: the wizard"
    );
}

#[tokio::test]
async fn a_remembered_device_stands_in_when_a_password_only_session_meets_an_app_that_requires_mfa()
{
    let server = TestServer::start().await;
    // Ann's organisation asks for no second factor (but lets devices be remembered); the strict
    // app requires one.
    server.add_user_in("ann@example.com", "flexible").await;
    let secret = crate::second_factor::enrol_totp(&server, &browser(), "ann@example.com")
        .await
        .secret;
    let web = server.rp("web", WEB_CB).await;
    let strict = server.rp("strict-app", STRICT_CB).await;
    let laptop = browser();
    sign_in_remembering(&server, &laptop, &strict, &secret).await;

    // Later, a password-only sign-in to an app that asks for nothing more...
    server.clock.advance(13 * 3600);
    let (response, start) = later_sign_in(&server, &laptop, &web, "").await;
    let back = location(&response);
    assert!(back.starts_with(WEB_CB), "{back}");
    let (_, acr) = assurance(
        &redeem(&web, query(&back)["code"].clone(), &start).await,
        &web,
        &start,
    );
    assert_eq!(acr, "urn:gatehouse:acr:password");

    // ...then single sign-on to the strict app: the remembered laptop stands in for the code.
    let start = authorization_url(&strict, &["openid"]);
    let back = location(&laptop.get(start.url.clone()).send().await.unwrap());
    assert!(back.starts_with(STRICT_CB), "no code asked: {back}");
    let tokens = redeem(&strict, query(&back)["code"].clone(), &start).await;
    let (amr, acr) = assurance(&tokens, &strict, &start);
    assert_eq!(amr, ["pwd"], "amr lists only what was done");
    assert_eq!(acr, "urn:gatehouse:acr:password-remembered-device");

    // Another browser with a password-only session is still asked.
    let phone = browser();
    let (response, _) = later_sign_in(&server, &phone, &web, "").await;
    assert!(location(&response).starts_with(WEB_CB));
    let start = authorization_url(&strict, &["openid"]);
    let asked = location(&phone.get(start.url.clone()).send().await.unwrap());
    assert!(asked.starts_with("/mfa?flow="), "{asked}");
}
