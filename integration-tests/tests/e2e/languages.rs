//! Pages, e-mails and password rules in the person's language: the app's `ui_locales`, then the
//! person's choice (the switcher on every page, saved with the account), then the browser's
//! `Accept-Language`, then English.

use crate::harness::*;

const WEB_CB: &str = "http://localhost/web/callback";

/// A browser whose `Accept-Language` is `languages` (keeps cookies, follows no redirects).
fn browser_speaking(languages: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::ACCEPT_LANGUAGE, languages.parse().unwrap());
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap()
}

async fn page(server: &TestServer, browser: &reqwest::Client, path: &str) -> String {
    let response = browser.get(server.url(path)).send().await.unwrap();
    assert_eq!(response.status(), 200, "GET {path}");
    response.text().await.unwrap().replace("&#x2f;", "/")
}

/// The sign-in page of a new authorization request (with `extra` query parameters).
async fn login_page(
    server: &TestServer,
    browser: &reqwest::Client,
    rp: &Rp,
    extra: &str,
) -> (String, String) {
    let start = authorization_url(rp, &["openid"]);
    let url = format!("{}{extra}", start.url);
    let (flow, _) = open_login(browser, &url).await;
    let html = page(server, browser, &format!("/login?flow={flow}")).await;
    (flow, html)
}

fn is_dutch(html: &str) -> bool {
    html.contains("<html lang=\"nl\">") && html.contains("Inloggen")
}

fn is_english(html: &str) -> bool {
    html.contains("<html lang=\"en\">") && html.contains("Sign in")
}

/// The switcher's link to `code` on a page.
fn switcher_link(html: &str, code: &str) -> String {
    let marker = format!("href=\"/language?lang={code}&amp;back=");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no switcher link to {code}:\n{html}"))
        + "href=\"".len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].replace("&amp;", "&")
}

#[tokio::test]
async fn pages_follow_the_browser_and_every_page_offers_the_other_language() {
    let server = TestServer::start().await;
    let rp = server.rp("web", WEB_CB).await;

    let (_, dutch) = login_page(
        &server,
        &browser_speaking("nl-BE,nl;q=0.9,en;q=0.5"),
        &rp,
        "",
    )
    .await;
    assert!(is_dutch(&dutch), "{dutch}");
    assert!(dutch.contains("Wachtwoord vergeten?"));
    assert!(dutch.contains(">English</a>"), "a way back to English");

    let (_, english) = login_page(&server, &browser_speaking("de-DE, en;q=0.8"), &rp, "").await;
    assert!(is_english(&english), "{english}");
    assert!(english.contains(">Nederlands</a>"));
    let discovery: serde_json::Value = http()
        .get(server.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        discovery["ui_locales_supported"],
        serde_json::json!(["en", "nl"])
    );

    // A language nobody offers, or no header at all: English.
    let (_, french) = login_page(&server, &browser_speaking("fr-FR"), &rp, "").await;
    assert!(is_english(&french));
    let (_, none) = login_page(&server, &browser(), &rp, "").await;
    assert!(is_english(&none));

    // Error pages too.
    let error = browser_speaking("nl")
        .get(server.url("/authorize?client_id=nobody"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(error.contains("Deze inloglink werkt niet"), "{error}");
}

#[tokio::test]
async fn the_app_s_ui_locales_wins_over_the_browser_until_an_app_asks_without_it() {
    let server = TestServer::start().await;
    let rp = server.rp("web", WEB_CB).await;
    let english_browser = browser_speaking("en-GB,en;q=0.9");

    let (_, asked) = login_page(&server, &english_browser, &rp, "&ui_locales=fr-CA%20nl").await;
    assert!(
        is_dutch(&asked),
        "the first offered of the app's list: {asked}"
    );
    let (_, unknown) = login_page(&server, &english_browser, &rp, "&ui_locales=fr").await;
    assert!(is_english(&unknown), "none offered: the browser's");
    let (_, again) = login_page(&server, &english_browser, &rp, "&ui_locales=nl").await;
    assert!(is_dutch(&again));
    let (_, later) = login_page(&server, &english_browser, &rp, "").await;
    assert!(
        is_english(&later),
        "a request without ui_locales drops it: {later}"
    );
}

#[tokio::test]
async fn the_switcher_changes_the_language_of_the_same_page_and_never_leaves_the_site() {
    let server = TestServer::start().await;
    let rp = server.rp("web", WEB_CB).await;
    let visitor = browser_speaking("en");
    // Even where the app asked for English, the person's click wins.
    let (flow, english) = login_page(&server, &visitor, &rp, "&ui_locales=en").await;
    assert!(is_english(&english));
    let link = switcher_link(&english, "nl");
    let response = visitor.get(server.url(&link)).send().await.unwrap();
    assert_eq!(response.status(), 303);
    let back = location(&response);
    assert_eq!(back, format!("/login?flow={flow}"), "back to the same page");
    let dutch = page(&server, &visitor, &back).await;
    assert!(is_dutch(&dutch), "{dutch}");
    // The choice stays for this browser's next sign-in.
    let (_, next) = login_page(&server, &visitor, &rp, "").await;
    assert!(is_dutch(&next));

    // After a form's answer the switcher returns to the form's page.
    let wrong = visitor
        .post(server.url("/login"))
        .header("referer", server.url(&format!("/login?flow={flow}")))
        .form(&[
            ("flow", flow.as_str()),
            ("csrf", &form_value(&dutch, "csrf")),
            ("email", "nobody@example.com"),
            ("password", "not the password"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .replace("&#x2f;", "/");
    assert!(
        wrong.contains("Het e-mailadres of wachtwoord klopt niet"),
        "{wrong}"
    );
    let back_to = query(&server.url(&switcher_link(&wrong, "en")))["back"].clone();
    assert_eq!(back_to, format!("/login?flow={flow}"));

    // Only paths on this server; an unknown language changes nothing.
    for hostile in [
        "/language?lang=nl&back=//evil.example/",
        "/language?lang=nl&back=https://evil.example/",
        "/language?lang=nl&back=/%5Cevil.example",
    ] {
        let response = visitor.get(server.url(hostile)).send().await.unwrap();
        assert_eq!(location(&response), "/", "{hostile}");
    }
    let response = visitor
        .get(server.url("/language?lang=xx&back=/account"))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&response), "/account");
    let (_, still) = login_page(&server, &visitor, &rp, "").await;
    assert!(is_dutch(&still));
}

#[tokio::test]
async fn the_choice_is_saved_with_the_account_and_follows_the_person_to_another_browser() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;

    let laptop = browser_speaking("en");
    let start = authorization_url(&rp, &["openid"]);
    sign_in(&server, &laptop, start.url.as_str(), "ann@example.com").await;
    let account = page(&server, &laptop, "/account").await;
    assert!(account.contains("Your account"));
    let link = switcher_link(&account, "nl");
    laptop.get(server.url(&link)).send().await.unwrap();
    assert!(
        page(&server, &laptop, "/account")
            .await
            .contains("Uw account")
    );

    // A new browser that prefers English: English until Ann is known, then her choice.
    let phone = browser_speaking("en-US");
    let start = authorization_url(&rp, &["openid"]);
    let (flow, csrf) = open_login(&phone, start.url.as_str()).await;
    let before = page(&server, &phone, &format!("/login?flow={flow}")).await;
    assert!(is_english(&before));
    post_login(&server, &phone, &flow, &csrf, "ann@example.com", PASSWORD).await;
    let after = page(&server, &phone, "/account").await;
    assert!(after.contains("Uw account"), "{after}");
}

#[tokio::test]
async fn e_mails_and_password_rules_come_in_the_person_s_language() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let visitor = browser_speaking("nl-NL");
    let (flow, _) = login_page(&server, &visitor, &rp, "").await;

    let form = page(&server, &visitor, &format!("/password/forgot?flow={flow}")).await;
    assert!(form.contains("Stuur mij een code"), "{form}");
    let code_page = submit_form_to(
        &server,
        &visitor,
        &form,
        "/password/forgot",
        &[("email", "ann@example.com")],
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(code_page.contains("Kijk in uw e-mail"), "{code_page}");
    let mail = server
        .messages_to("ann@example.com")
        .await
        .into_iter()
        .next()
        .expect("the reset code by e-mail");
    assert_eq!(
        mail.subject().unwrap(),
        "Uw code om een nieuw wachtwoord in te stellen voor Gatehouse"
    );
    let text = mail.body_text();
    assert!(text.starts_with("Hallo,"), "{text}");
    assert!(text.contains("Hij werkt 15 minuten, in dezelfde browser."));
    assert!(mail.body_html().unwrap().contains("<html lang=\"nl\">"));

    let new_page = submit_form_to(
        &server,
        &visitor,
        &code_page,
        "/password/reset",
        &[("code", six_digits(&text))],
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(new_page.contains("Kies een nieuw wachtwoord"), "{new_page}");
    let refused = submit_form(
        &server,
        &visitor,
        &new_page,
        &[("new_password", "ann"), ("repeat_password", "anna")],
    )
    .await
    .text()
    .await
    .unwrap();
    for rule in [
        "De twee nieuwe wachtwoorden zijn niet gelijk.",
        "Gebruik minstens 8 tekens.",
        "Voeg een hoofdletter toe (A–Z).",
        "Voeg een cijfer toe (0–9).",
    ] {
        assert!(refused.contains(rule), "{rule} missing in:\n{refused}");
    }
}
