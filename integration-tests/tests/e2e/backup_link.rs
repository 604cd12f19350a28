//! "I can't use my second factor": a one-time sign-in link to a confirmed backup address, only in the
//! browser that asked, only once, counted as an e-mail second factor, told to both addresses.

use crate::harness::*;
use crate::second_factor::{enrol_totp, reach_challenge};

const WEB_CB: &str = "http://localhost/web/callback";
const BACKUP: &str = "ann.private@example.org";

/// Ann of the strict organisation (links allowed) with an authenticator app and a backup address.
async fn ann_with_backup_address(server: &TestServer) {
    server.add_user_in("ann@example.com", "strict").await;
    let browser = browser();
    enrol_totp(server, &browser, "ann@example.com").await;
    let page = page_at(server, &browser, "/account/backup-email").await;
    assert!(page.contains("Add a backup e-mail address"), "{page}");
    let sent = submit_form_to(
        server,
        &browser,
        &page,
        "/account/backup-email",
        &[("address", BACKUP)],
    )
    .await
    .text()
    .await
    .unwrap();
    let code = six_digits(&server.mail_to(BACKUP).await[0]);
    let saved = submit_form_to(
        server,
        &browser,
        &sent,
        "/account/backup-email/confirm",
        &[("code", code)],
    )
    .await;
    assert_eq!(location(&saved), "/account?notice=backup-address-set");
    let account = page_at(server, &browser, "/account").await;
    assert!(
        account.contains("a***@example.org"),
        "the backup address, masked"
    );
}

/// Reaches the second step in `browser` and asks for a link; returns the link and the sign-in's start.
async fn ask_for_link(server: &TestServer, browser: &reqwest::Client) -> (String, AuthStart) {
    let rp = server.rp("web", WEB_CB).await;
    let (flow, csrf, page, start) = reach_challenge(server, browser, &rp, "ann@example.com").await;
    assert!(
        page.contains("I can&#x27;t use my second factor")
            || page.contains("I can't use my second factor")
    );
    let before = server.mail_to(BACKUP).await.len();
    let sent = browser
        .post(server.url("/mfa/backup-link"))
        .form(&[("flow", flow.as_str()), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        sent.contains("We sent a sign-in link to a***@example.org."),
        "{sent}"
    );
    let mail = server.mail_to(BACKUP).await;
    assert_eq!(mail.len(), before + 1);
    let body = mail.last().unwrap();
    let link = link_in(body, &server.url("/mfa/link?"));
    (link, start)
}

#[tokio::test]
async fn a_backup_link_signs_in_once_in_the_browser_that_asked_and_both_addresses_are_told() {
    let server = TestServer::start().await;
    ann_with_backup_address(&server).await;
    let laptop = browser();
    let (link, start) = ask_for_link(&server, &laptop).await;

    // Opened in another browser (a forwarded or intercepted mail): refused, and not used up.
    let elsewhere = browser().get(&link).send().await.unwrap();
    assert_eq!(elsewhere.status(), 400);
    assert!(
        elsewhere
            .text()
            .await
            .unwrap()
            .contains("only in the browser where you asked")
    );

    let back = laptop.get(&link).send().await.unwrap();
    let back = location(&back);
    assert!(back.starts_with(WEB_CB), "{back}");
    let rp = server.rp("web", WEB_CB).await;
    let tokens = redeem(&rp, query(&back)["code"].clone(), &start).await;
    let (amr, acr) = assurance(&tokens, &rp, &start);
    assert_eq!(amr, ["pwd", "otp", "mfa"]);
    assert_eq!(acr, "urn:gatehouse:acr:mfa-email");

    // Opened twice: refused.
    let again = laptop.get(&link).send().await.unwrap();
    assert_eq!(again.status(), 400);

    let told = |mail: Vec<String>| {
        mail.iter()
            .any(|m| m.contains("signed in with a one-time link sent to your backup address"))
    };
    assert!(
        told(server.mail_to("ann@example.com").await),
        "the login address is told"
    );
    assert!(
        told(server.mail_to(BACKUP).await),
        "the backup address is told"
    );
    let id = server
        .db
        .user_by_email("ann@example.com")
        .await
        .unwrap()
        .unwrap()
        .id;
    let kinds: Vec<String> = server
        .db
        .events_for_user(&id, None, 50)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert!(kinds.iter().any(|k| k == "backup_link.used"), "{kinds:?}");
}

#[tokio::test]
async fn a_backup_link_expires_after_15_minutes() {
    let server = TestServer::start().await;
    ann_with_backup_address(&server).await;
    let laptop = browser();
    let (link, _) = ask_for_link(&server, &laptop).await;
    server.clock.advance(15 * 60);
    let late = laptop.get(&link).send().await.unwrap();
    assert_eq!(late.status(), 400);
}

#[tokio::test]
async fn without_a_backup_address_or_where_the_organisation_does_not_allow_it_there_is_no_link() {
    let server = TestServer::start().await;
    server.add_user_in("ann@example.com", "strict").await;
    enrol_totp(&server, &browser(), "ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let browser = browser();
    let (flow, csrf, page, _) = reach_challenge(&server, &browser, &rp, "ann@example.com").await;
    assert!(!page.contains("/mfa/backup-link"), "no backup address yet");
    let refused = browser
        .post(server.url("/mfa/backup-link"))
        .form(&[("flow", flow.as_str()), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);

    // The default organisation does not allow backup links: no page to add an address.
    server.add_user("bo@example.com").await;
    let bo = crate::harness::browser();
    crate::second_factor::account_page(&server, &bo, "bo@example.com").await;
    let page = bo
        .get(server.url("/account/backup-email"))
        .send()
        .await
        .unwrap();
    assert_ne!(page.status(), 200);
}
