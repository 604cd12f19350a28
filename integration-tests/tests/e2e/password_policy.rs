//! The password policy on the account page's change-password form: every rule refused over HTTP with
//! its message on the page and nothing changed; a good password accepted; the `nist` mode of an
//! organisation configured with it.

use crate::harness::*;
use crate::second_factor::account_page;

/// Posts the change-password form with the right current password.
async fn change_to(
    server: &TestServer,
    browser: &reqwest::Client,
    page: &str,
    new: &str,
) -> reqwest::Response {
    submit_form_to(
        server,
        browser,
        page,
        "/account/password",
        &[
            ("current_password", PASSWORD),
            ("new_password", new),
            ("repeat_password", new),
        ],
    )
    .await
}

async fn stored_hash(server: &TestServer, email: &str) -> String {
    server
        .db
        .user_by_email(email)
        .await
        .unwrap()
        .unwrap()
        .password_hash
}

/// Each refused password is answered 400 with the account page naming what to do, and the stored
/// hash is the one from before.
async fn assert_refused(
    server: &TestServer,
    browser: &reqwest::Client,
    page: &str,
    email: &str,
    new: &str,
    messages: &[&str],
) {
    let before = stored_hash(server, email).await;
    let response = change_to(server, browser, page, new).await;
    assert_eq!(response.status(), 400, "{new:?} should be refused");
    let html = response.text().await.unwrap();
    assert!(
        html.contains("Your password was not changed"),
        "{new:?}: {html}"
    );
    let problems = between(&html, "id=\"password-problems\"", "</ul>");
    for message in messages {
        assert!(
            problems.contains(message),
            "{new:?}: {message:?} in {problems}"
        );
    }
    assert_eq!(
        problems.matches("<li>").count(),
        messages.len(),
        "{new:?}: exactly the broken rules: {problems}"
    );
    assert_eq!(stored_hash(server, email).await, before, "nothing changed");
}

#[tokio::test]
async fn each_composition_rule_is_refused_with_its_message_and_a_good_password_is_accepted() {
    let server = TestServer::start().await;
    server.add_user("ann.smith@example.com").await;
    let browser = browser();
    let page = account_page(&server, &browser, "ann.smith@example.com").await;
    assert!(
        page.contains("At least 8 characters, with a lower-case letter"),
        "the rules are shown beside the field"
    );
    let email = "ann.smith@example.com";
    let cases: &[(&str, &[&str])] = &[
        ("Tu-l1p!", &["Use at least 8 characters."]),
        ("TULIP-HARBOUR-42", &["Add a lower-case letter"]),
        ("tulip-harbour-42", &["Add an upper-case letter"]),
        ("Tulip-Harbour-xy", &["Add a digit"]),
        ("TulipHarbour42", &["Add a special character"]),
        ("Password1!", &["This password is too common"]),
        ("My-Ann.Smith-42", &["Leave your e-mail address"]),
        (
            "qzx",
            &[
                "Use at least 8 characters.",
                "Add an upper-case letter",
                "Add a digit",
                "Add a special character",
            ],
        ),
    ];
    for (new, messages) in cases {
        assert_refused(&server, &browser, &page, email, new, messages).await;
    }
    let too_long = format!("Aa1!{}", "x".repeat(125));
    assert_refused(
        &server,
        &browser,
        &page,
        email,
        &too_long,
        &["Use at most 128 characters."],
    )
    .await;

    let done = change_to(&server, &browser, &page, "Tulip-Harbour-42").await;
    assert_eq!(location(&done), "/account?notice=password-changed");
    let hash = stored_hash(&server, email).await;
    assert!(
        server
            .passwords
            .verify(Some(&hash), &"Tulip-Harbour-42".into())
    );
}

#[tokio::test]
async fn an_organisation_in_nist_mode_asks_for_length_only() {
    let server = TestServer::start().await;
    server.add_user_in("bobby@example.com", "nist").await;
    let browser = browser();
    let page = account_page(&server, &browser, "bobby@example.com").await;
    assert!(page.contains("At least 8 characters. A few words"));
    let email = "bobby@example.com";
    assert_refused(
        &server,
        &browser,
        &page,
        email,
        "tulip",
        &["Use at least 8 characters."],
    )
    .await;
    assert_refused(
        &server,
        &browser,
        &page,
        email,
        "iloveyou",
        &["This password is too common"],
    )
    .await;
    assert_refused(
        &server,
        &browser,
        &page,
        email,
        "my-Bobby-harbour",
        &["Leave your e-mail address"],
    )
    .await;
    // Length only: no upper case, digit or special character needed; 64 and more allowed.
    let long = "tulip harbour ".repeat(6);
    let done = change_to(&server, &browser, &page, &long).await;
    assert_eq!(location(&done), "/account?notice=password-changed");
    let hash = stored_hash(&server, email).await;
    assert!(server.passwords.verify(Some(&hash), &long.as_str().into()));
}
