//! From usernames to e-mail: a username typed on the sign-in page gets a kind explanation and the way
//! from the old username to a link at the address on file, then a new password, which signs the
//! person in at the password level and goes on to the second-factor set-up where the organisation
//! asks for it: back to the application when the link is opened in the browser whose sign-in asked
//! for it, else to the account page. Unknown usernames get the same answer; a link works once, for
//! 24 hours, and opening it (as a mail scanner does) uses nothing up.

use gatehouse_mfa::assurance::ACR_PASSWORD;
use gatehouse_store::users::NewUser;

use crate::harness::*;
use crate::policy::enrol_app_in_wizard;

const WEB_CB: &str = "http://localhost/web/callback";
const NEW_PASSWORD: &str = "Harbour lights at 9 tonight!";

async fn text(response: reqwest::Response) -> String {
    response.text().await.unwrap()
}

/// Adds Kees, who used to sign in as `username`, to `organisation`.
async fn add_kees(server: &TestServer, organisation: &str, username: &str) {
    let hash = server.passwords.hash(&"old secret".into()).unwrap();
    server
        .db
        .create_user_with(
            &NewUser {
                email: "kees@example.com",
                name: "Kees Jansen",
                password_hash: &hash,
                organisation_id: organisation,
                legacy_username: Some(username),
            },
            server.now(),
        )
        .await
        .unwrap();
}

/// Posts `username` on the old-username form at `link`; returns the answer page.
async fn ask_with_username(
    server: &TestServer,
    browser: &reqwest::Client,
    link: &str,
    username: &str,
) -> String {
    let form = page_at(server, browser, link).await;
    let answer = submit_form(server, browser, &form, &[("username", username)]).await;
    assert_eq!(answer.status(), 200);
    text(answer).await
}

/// The link in the latest e-mail to Kees.
async fn link_for_kees(server: &TestServer) -> String {
    let mail = server.mail_to("kees@example.com").await;
    link_in(mail.last().unwrap(), &server.url("/login/welcome?token="))
}

/// Starts the web app's sign-in in `browser` and asks, from there, for Kees's link.
async fn link_asked_during_sign_in(
    server: &TestServer,
    browser: &reqwest::Client,
) -> (AuthStart, String, String) {
    let rp = server.rp("web", WEB_CB).await;
    let start = authorization_url(&rp, &["openid"]);
    let (flow, _) = open_login(browser, start.url.as_str()).await;
    ask_with_username(
        server,
        browser,
        &format!("/login/username?flow={flow}"),
        "kees",
    )
    .await;
    let url = link_for_kees(server).await;
    (start, flow, url)
}

/// Opens `url` in `browser` and saves `password` with its form.
async fn save_new_password(
    server: &TestServer,
    browser: &reqwest::Client,
    url: &str,
    password: &str,
) -> reqwest::Response {
    let form = text(browser.get(url).send().await.unwrap()).await;
    save_with_form(server, browser, &form, password).await
}

async fn save_with_form(
    server: &TestServer,
    browser: &reqwest::Client,
    form: &str,
    password: &str,
) -> reqwest::Response {
    submit_form(
        server,
        browser,
        form,
        &[("new_password", password), ("repeat_password", password)],
    )
    .await
}

/// Whether `browser` is signed in: the account page answers, rather than sending it to sign in.
async fn signed_in(server: &TestServer, browser: &reqwest::Client) -> bool {
    browser
        .get(server.url("/account"))
        .send()
        .await
        .unwrap()
        .status()
        == 200
}

/// Whether Kees's password is now `password`.
async fn kees_password_is(server: &TestServer, password: &str) -> bool {
    let kees = server
        .db
        .user_by_email("kees@example.com")
        .await
        .unwrap()
        .unwrap();
    server
        .passwords
        .verify(Some(&kees.password_hash), &password.into())
}

#[tokio::test]
async fn a_username_leads_to_a_link_a_new_password_the_second_factor_set_up_and_the_app() {
    let server = TestServer::start().await;
    add_kees(&server, "strict", "K.Jansen").await;
    let rp = server.rp("web", WEB_CB).await;
    let browser = browser();
    let start = authorization_url(&rp, &["openid"]);
    let (flow, csrf) = open_login(&browser, start.url.as_str()).await;

    // Kees types his old username: no password is checked, and he is told what changed.
    let answer = post_login(&server, &browser, &flow, &csrf, "k.jansen", "old secret").await;
    assert_eq!(answer.status(), 200);
    let page = text(answer).await.replace("&#x2f;", "/");
    assert!(
        page.contains("You now sign in with your e-mail address instead of a username."),
        "{page}"
    );
    let link = format!("/login/username?flow={flow}");
    assert!(page.contains(&format!("href=\"{link}\"")));

    let sent = ask_with_username(&server, &browser, &link, "  K.JANSEN ").await;
    assert!(sent.contains("If we know this username"));
    server.mail_settled().await;
    let mail = server.smtp.messages().await;
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].to, ["kees@example.com"]);
    let url = link_in(&mail[0].body_text(), &server.url("/login/welcome?token="));

    // A mail scanner opens the link first: that uses nothing up.
    for _ in 0..2 {
        assert_eq!(http().get(&url).send().await.unwrap().status(), 200);
    }

    // Kees opens it in the browser where he was signing in.
    let form = text(browser.get(&url).send().await.unwrap()).await;
    assert!(form.contains("From now on you sign in with kees@example.com and this password."));
    let weak = save_with_form(&server, &browser, &form, "kees").await;
    assert_eq!(weak.status(), 400, "the organisation's rules apply");
    assert!(!signed_in(&server, &browser).await);
    let saved = save_with_form(&server, &browser, &form, NEW_PASSWORD).await;
    assert_eq!(saved.status(), 303);
    assert_eq!(
        location(&saved),
        format!("/mfa/setup?flow={flow}"),
        "straight into the set-up wizard of the app's sign-in"
    );
    let stored = server
        .db
        .user_by_email("kees@example.com")
        .await
        .unwrap()
        .unwrap();
    assert!(stored.password_hash.starts_with("$argon2id$"));

    // The wizard, then the app, with the original request's state.
    let wizard = page_at(&server, &browser, &location(&saved)).await;
    let codes_page = enrol_app_in_wizard(&server, &browser, &wizard).await;
    let continue_url = button_link(&codes_page);
    let back = browser.get(server.url(&continue_url)).send().await.unwrap();
    let params = query(&location(&back));
    assert_eq!(params["state"], *start.state.secret());
    let tokens = redeem(&rp, params["code"].clone(), &start).await;
    let (amr, _) = assurance(&tokens, &rp, &start);
    assert_eq!(amr, ["pwd", "otp", "mfa"]);

    // The link worked once.
    assert_eq!(browser.get(&url).send().await.unwrap().status(), 400);
    let again = save_with_form(&server, &browser, &form, NEW_PASSWORD).await;
    assert_eq!(again.status(), 400, "the link works once");
}

#[tokio::test]
async fn in_the_browser_that_asked_the_apps_sign_in_continues_at_the_password_level() {
    let server = TestServer::start().await;
    add_kees(&server, "relaxed", "kees").await;
    let browser = browser();
    let (start, _, url) = link_asked_during_sign_in(&server, &browser).await;
    let saved = save_new_password(&server, &browser, &url, NEW_PASSWORD).await;
    assert_eq!(saved.status(), 303);
    let back = location(&saved);
    assert!(
        back.starts_with(WEB_CB),
        "no second factor asked: back to the app, {back}"
    );
    let rp = server.rp("web", WEB_CB).await;
    let tokens = redeem(&rp, query(&back)["code"].clone(), &start).await;
    assert_eq!(
        assurance(&tokens, &rp, &start),
        (vec!["pwd".to_owned()], ACR_PASSWORD.to_owned()),
        "as a password sign-in"
    );
}

#[tokio::test]
async fn in_another_browser_the_link_goes_through_the_wizard_to_the_account_page_and_not_to_the_app()
 {
    let server = TestServer::start().await;
    add_kees(&server, "strict", "kees").await;
    let laptop = browser();
    let (_, flow, url) = link_asked_during_sign_in(&server, &laptop).await;
    assert!(url.contains(&format!("&flow={flow}")), "{url}");

    // On the phone, the laptop's sign-in is not the phone's to continue.
    let phone = browser();
    let saved = save_new_password(&server, &phone, &url, NEW_PASSWORD).await;
    assert_eq!(saved.status(), 303);
    let wizard_url = location(&saved);
    assert!(wizard_url.starts_with("/mfa/setup?flow="), "{wizard_url}");
    assert!(!wizard_url.contains(&flow));
    assert!(
        signed_in(&server, &phone).await,
        "a password-level session for the wizard"
    );
    let wizard = page_at(&server, &phone, &wizard_url).await;
    assert!(wizard.contains("Strict Hosting asks"));
    let codes_page = enrol_app_in_wizard(&server, &phone, &wizard).await;
    let continue_url = button_link(&codes_page);
    let done = phone.get(server.url(&continue_url)).send().await.unwrap();
    assert_eq!(location(&done), "/account");

    // The laptop still waits at the sign-in page, for the e-mail address and new password.
    let login = laptop
        .get(server.url(&format!("/login?flow={flow}")))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    assert!(!signed_in(&server, &laptop).await);
}

#[tokio::test]
async fn without_a_second_factor_to_set_up_the_link_ends_on_the_account_page() {
    let server = TestServer::start().await;
    add_kees(&server, "relaxed", "kees").await;
    let browser = browser();
    ask_with_username(&server, &browser, "/login/username", "kees").await;
    let url = link_for_kees(&server).await;
    let saved = save_new_password(&server, &browser, &url, NEW_PASSWORD).await;
    assert_eq!(saved.status(), 303);
    assert_eq!(location(&saved), "/account");
    assert!(signed_in(&server, &browser).await);
}

#[tokio::test]
async fn a_second_browser_holding_a_used_link_is_refused_and_not_signed_in() {
    let server = TestServer::start().await;
    add_kees(&server, "relaxed", "kees").await;
    let browser = browser();
    ask_with_username(&server, &browser, "/login/username", "kees").await;
    let url = link_for_kees(&server).await;
    // Someone else opened the link too, before Kees used it.
    let other = crate::harness::browser();
    let other_form = text(other.get(&url).send().await.unwrap()).await;
    let saved = save_new_password(&server, &browser, &url, NEW_PASSWORD).await;
    assert_eq!(saved.status(), 303);

    let late = save_with_form(&server, &other, &other_form, "Another fine password 42!").await;
    assert_eq!(late.status(), 400);
    assert!(
        text(late)
            .await
            .contains("This link does not work any more")
    );
    assert!(!signed_in(&server, &other).await);
    assert!(
        kees_password_is(&server, NEW_PASSWORD).await,
        "the password Kees chose stands"
    );
}

#[tokio::test]
async fn an_unknown_username_gets_the_same_answer_and_no_mail() {
    let server = TestServer::start().await;
    let rp = server.rp("web", WEB_CB).await;
    let browser = browser();
    let start = authorization_url(&rp, &["openid"]);
    let (flow, _) = open_login(&browser, start.url.as_str()).await;
    let link = format!("/login/username?flow={flow}");
    let answer = ask_with_username(&server, &browser, &link, "nobody").await;
    assert!(answer.contains("If we know this username"));
    server.mail_settled().await;
    assert!(server.smtp.messages().await.is_empty());
    let forged = browser
        .post(server.url("/login/username"))
        .form(&[("username", "nobody")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403, "no form without its CSRF token");
}

#[tokio::test]
async fn the_link_expires_after_24_hours() {
    let server = TestServer::start().await;
    add_kees(&server, "default", "kees").await;
    let browser = browser();
    ask_with_username(&server, &browser, "/login/username", "kees").await;
    let url = link_for_kees(&server).await;
    // (A minute's margin: the test clock moves with real time too.)
    server.clock.advance(24 * 3600 - 60);
    let form = browser.get(&url).send().await.unwrap();
    assert_eq!(form.status(), 200);
    let form = text(form).await;
    server.clock.advance(60);
    assert_eq!(browser.get(&url).send().await.unwrap().status(), 400);

    // The form opened in time and sent too late: refused, nobody signed in, nothing changed.
    let late = save_with_form(&server, &browser, &form, NEW_PASSWORD).await;
    assert_eq!(late.status(), 400);
    assert!(!signed_in(&server, &browser).await);
    assert!(kees_password_is(&server, "old secret").await);
}
