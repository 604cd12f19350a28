//! From usernames to e-mail: a username typed on the sign-in page gets a kind explanation and the way
//! from the old username to a link at the address on file, then a new password, then the second-factor
//! set-up where the organisation asks for it. Unknown usernames get the same answer.

use gatehouse_store::users::NewUser;

use crate::harness::*;

const WEB_CB: &str = "http://localhost/web/callback";
const NEW_PASSWORD: &str = "Harbour lights at 9 tonight!";

async fn text(response: reqwest::Response) -> String {
    response.text().await.unwrap()
}

/// Posts `username` on the old-username form reached from `login`; returns the answer page.
async fn ask_with_username(
    server: &TestServer,
    browser: &reqwest::Client,
    link: &str,
    username: &str,
) -> String {
    let form = text(browser.get(server.url(link)).send().await.unwrap()).await;
    let answer = browser
        .post(server.url("/login/username"))
        .form(&[
            ("csrf", form_value(&form, "csrf")),
            ("flow", form_value(&form, "flow")),
            ("username", username.to_owned()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    text(answer).await
}

#[tokio::test]
async fn a_username_leads_to_a_link_a_new_password_and_the_second_factor_set_up() {
    let server = TestServer::start().await;
    let hash = server.passwords.hash(&"old secret".into()).unwrap();
    server
        .db
        .create_user_with(
            &NewUser {
                email: "kees@example.com",
                name: "Kees Jansen",
                password_hash: &hash,
                organisation_id: "strict",
                legacy_username: Some("K.Jansen"),
            },
            server.now(),
        )
        .await
        .unwrap();
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
    let body = mail[0].body_text();
    let url = link_in(&body, &server.url("/login/welcome?token="));

    // The link works on another device too (it is the mailbox that proves him).
    let phone = crate::harness::browser();
    let form = text(phone.get(&url).send().await.unwrap()).await;
    assert!(form.contains("From now on you sign in with kees@example.com and this password."));
    let save = |password: &'static str| {
        let phone = phone.clone();
        let form = form.clone();
        let server_url = server.url("/login/welcome");
        async move {
            phone
                .post(server_url)
                .form(&[
                    ("csrf", form_value(&form, "csrf")),
                    ("token", form_value(&form, "token")),
                    ("new_password", password.to_owned()),
                    ("repeat_password", password.to_owned()),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let weak = save("kees").await;
    assert_eq!(weak.status(), 400, "the organisation's rules apply");
    let done = save(NEW_PASSWORD).await;
    assert_eq!(done.status(), 200);
    assert!(text(done).await.contains("Your password is set"));
    assert_eq!(
        save(NEW_PASSWORD).await.status(),
        400,
        "the link works once"
    );
    assert_eq!(phone.get(&url).send().await.unwrap().status(), 400);

    // Back on the computer: e-mail and the new password, then the set-up of a second factor.
    let signed_in = post_login(
        &server,
        &browser,
        &flow,
        &csrf,
        "kees@example.com",
        NEW_PASSWORD,
    )
    .await;
    assert!(
        location(&signed_in).starts_with("/mfa/setup?flow="),
        "{}",
        location(&signed_in)
    );
    let stored = server
        .db
        .user_by_email("kees@example.com")
        .await
        .unwrap()
        .unwrap();
    assert!(stored.password_hash.starts_with("$argon2id$"));
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
    let hash = server.passwords.hash(&"old secret".into()).unwrap();
    server
        .db
        .create_user_with(
            &NewUser {
                email: "kees@example.com",
                name: "Kees Jansen",
                password_hash: &hash,
                organisation_id: "default",
                legacy_username: Some("kees"),
            },
            server.now(),
        )
        .await
        .unwrap();
    let browser = browser();
    ask_with_username(&server, &browser, "/login/username", "kees").await;
    server.mail_settled().await;
    let body = server.smtp.messages().await[0].body_text();
    let url = link_in(&body, &server.url("/login/welcome?token="));
    // (A minute's margin: the test clock moves with real time too.)
    server.clock.advance(24 * 3600 - 60);
    assert_eq!(browser.get(&url).send().await.unwrap().status(), 200);
    server.clock.advance(60);
    assert_eq!(browser.get(&url).send().await.unwrap().status(), 400);
}
