//! Gatehouse's pages in a real browser: headless Chromium driven by playwright-core
//! (`integration-tests/browser/`), against a real server on localhost. `.ci/run` installs both and sets
//! `GATEHOUSE_BROWSER_TESTS=required`; elsewhere, without them, these tests say so and pass.
//!
//! Every page a script shows is reviewed: axe-core checks it against WCAG 2 A and AA (a serious or
//! critical problem fails the test, listed), and a screenshot at desktop and at phone width lands in
//! `target/screenshots/<test>/`.

use std::path::PathBuf;
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};

use crate::harness::*;

const WEB_CB: &str = "http://localhost/web/callback";
const SPA_CB: &str = "http://localhost/spa/callback";

fn browser_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("browser")
}

/// Whether Chromium, playwright-core and axe-core are here; when `.ci/run` asks for the browser
/// tests, their absence is a failure, not a skip.
fn browser_available(test: &str) -> bool {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let modules = browser_dir().join("node_modules");
    let ready = std::path::Path::new(&chromium).exists()
        && modules.join("playwright-core").exists()
        && modules.join("axe-core").exists();
    if !ready {
        assert!(
            std::env::var("GATEHOUSE_BROWSER_TESTS").is_err(),
            "browser tests are required, but Chromium, playwright-core or axe-core is missing (see .ci/run)"
        );
        eprintln!("{test}: skipped, Chromium or the npm packages are not installed (see .ci/run)");
    }
    ready
}

fn screenshots() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots")
}

/// The folder for one test's screenshots, as a script argument.
fn shots(test: &str) -> String {
    screenshots().join(test).to_str().unwrap().to_owned()
}

/// Asserts that each page was reviewed: a screenshot at both widths in the test's folder.
fn assert_reviewed(test: &str, pages: &[&str]) {
    for page in pages {
        for width in ["desktop", "phone"] {
            let file = screenshots().join(format!("{test}/{page}-{width}.png"));
            assert!(file.exists(), "no screenshot {}", file.display());
        }
    }
}

/// Runs `integration-tests/browser/<script>` with `args`, answering each line it asks (ending in `?`)
/// with `answer`; returns what it printed after `DONE `. Fails the test when the script fails (a step,
/// or a serious accessibility problem on a page) or takes more than a minute.
async fn run_script<F, Fut>(script: &str, args: &[&str], mut answer: F) -> String
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = String>,
{
    let mut node = tokio::process::Command::new("node")
        .current_dir(browser_dir())
        .arg(script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs");
    let mut stdin = node.stdin.take().unwrap();
    let mut lines = BufReader::new(node.stdout.take().unwrap()).lines();
    let talk = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(done) = line.strip_prefix("DONE ") {
                return Some(done.to_owned());
            }
            if line.ends_with('?') {
                let reply = answer(line).await;
                stdin
                    .write_all(format!("{reply}\n").as_bytes())
                    .await
                    .unwrap();
            }
        }
        None
    };
    let done = tokio::time::timeout(std::time::Duration::from_secs(60), talk)
        .await
        .expect("the browser finished within a minute");
    drop(stdin);
    let status = tokio::time::timeout(std::time::Duration::from_secs(30), node.wait())
        .await
        .expect("the browser closed")
        .unwrap();
    assert!(status.success(), "{script} failed (its reasons are above)");
    done.unwrap_or_else(|| panic!("{script} ended without DONE"))
}

/// The six-digit code in the newest message the sink received for `to`.
async fn newest_code_mailed_to(server: &TestServer, to: &str) -> String {
    let mail = server.mail_to(to).await;
    six_digits(mail.last().expect("an e-mail with a code"))
}

/// The six-digit code in the newest text message.
fn newest_code_texted(server: &TestServer) -> String {
    let messages = server.text_messages();
    six_digits(&messages.last().expect("a text message with a code").1)
}

/// Password and authenticator app, with the script's `flags` (`--no-js`, `--lang=nl`): the code the app
/// would show now.
async fn sign_in_with_authenticator_app(test: &str, flags: &[&str]) {
    if !browser_available(test) {
        return;
    }
    let server = TestServer::start_on_localhost().await;
    server.add_user("ann@example.com").await;
    let secret = crate::second_factor::enrol_totp(&server, &browser(), "ann@example.com")
        .await
        .secret;
    let rp = server.rp("web", WEB_CB).await;
    let start = authorization_url(&rp, &["openid"]);

    let shots = shots(test);
    let mut args = vec![
        start.url.as_str(),
        WEB_CB,
        "ann@example.com",
        PASSWORD,
        &shots,
    ];
    args.extend_from_slice(flags);
    let returned = run_script("sign_in.mjs", &args, |_| async {
        gatehouse_mfa::totp::code_at(&secret, server.now()).unwrap()
    })
    .await;
    let tokens = redeem(&rp, query(&returned)["code"].clone(), &start).await;
    let (amr, _) = assurance(&tokens, &rp, &start);
    assert_eq!(amr, ["pwd", "otp", "mfa"]);
    assert_reviewed(test, &["login", "second-factor"]);
}

#[tokio::test]
async fn signing_in_with_an_authenticator_app_in_chromium() {
    sign_in_with_authenticator_app("totp", &[]).await;
}

#[tokio::test]
async fn signing_in_with_an_authenticator_app_without_javascript() {
    sign_in_with_authenticator_app("totp-no-js", &["--no-js"]).await;
}

/// A forgotten password, with the script's `flags`: the code as it arrived over SMTP.
async fn reset_forgotten_password(test: &str, flags: &[&str]) {
    if !browser_available(test) {
        return;
    }
    let server = TestServer::start_on_localhost().await;
    server.add_user_in("ann@example.com", "strict").await;
    let rp = server.rp("web", WEB_CB).await;
    let start = authorization_url(&rp, &["openid"]);
    let new_password = "Seven horses walk to Utrecht, 7!";

    let shots = shots(test);
    let mut args = vec![start.url.as_str(), "ann@example.com", new_password, &shots];
    args.extend_from_slice(flags);
    let landed = run_script("forgot_password.mjs", &args, |_| async {
        newest_code_mailed_to(&server, "ann@example.com").await
    })
    .await;
    // Ann's organisation requires a second factor: after the new password comes its set-up.
    assert!(landed.contains("/mfa/setup?flow="), "{landed}");
    assert_reviewed(
        test,
        &[
            "forgot-password",
            "reset-code",
            "new-password",
            "password-changed",
        ],
    );
}

#[tokio::test]
async fn resetting_a_forgotten_password_in_chromium() {
    reset_forgotten_password("forgot-password", &[]).await;
}

#[tokio::test]
async fn resetting_a_forgotten_password_without_javascript() {
    reset_forgotten_password("forgot-password-no-js", &["--no-js"]).await;
}

/// Adds codes by `method` on the account page and signs in with one; returns the ID token's `amr`.
async fn add_codes_and_sign_in(
    server: &TestServer,
    test: &str,
    method: &str,
    address: &str,
) -> Vec<String> {
    server.add_user("ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let start = authorization_url(&rp, &["openid"]);
    let account = server.url("/account");
    let shots = shots(test);
    let returned = run_script(
        "codes.mjs",
        &[
            method,
            &account,
            start.url.as_str(),
            WEB_CB,
            "ann@example.com",
            PASSWORD,
            address,
            &shots,
        ],
        |_| async {
            match method {
                "sms" => newest_code_texted(server),
                _ => newest_code_mailed_to(server, address).await,
            }
        },
    )
    .await;
    let tokens = redeem(&rp, query(&returned)["code"].clone(), &start).await;
    assert_reviewed(
        test,
        &[
            "account",
            &format!("{method}-address"),
            &format!("{method}-confirm"),
            "recovery-codes",
            "account-with-factor",
            &format!("second-factor-{method}"),
        ],
    );
    assurance(&tokens, &rp, &start).0
}

#[tokio::test]
async fn adding_a_mobile_number_and_signing_in_with_a_text_message_code_in_chromium() {
    let test = "sms";
    if !browser_available(test) {
        return;
    }
    let server = TestServer::start_on_localhost().await;
    let amr = add_codes_and_sign_in(&server, test, "sms", "+31 6 1234 5678").await;
    assert_eq!(amr, ["pwd", "sms", "mfa"]);
    let messages = server.text_messages();
    assert_eq!(messages.len(), 2, "one code to confirm, one to sign in");
    assert!(messages.iter().all(|(to, _)| to == "+31612345678"));
}

#[tokio::test]
async fn adding_a_second_address_and_signing_in_with_an_emailed_code_in_chromium() {
    let test = "email";
    if !browser_available(test) {
        return;
    }
    let server = TestServer::start_on_localhost().await;
    let amr = add_codes_and_sign_in(&server, test, "email", "ann.codes@example.org").await;
    assert_eq!(amr.first().map(String::as_str), Some("pwd"));
    assert!(amr.iter().any(|m| m == "mfa"), "{amr:?}");
    assert_eq!(
        server.mail_to("ann.codes@example.org").await.len(),
        2,
        "one code to confirm, one to sign in"
    );
}

#[tokio::test]
async fn creating_a_passkey_and_signing_in_with_it_in_chromium() {
    let test = "passkey";
    if !browser_available(test) {
        return;
    }
    // WebAuthn needs a host name: the issuer is http://localhost:PORT.
    let server = TestServer::start_on_localhost().await;
    server.add_user("ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let with_password = authorization_url(&rp, &["openid"]);
    let alone = authorization_url(&rp, &["openid"]);
    let (account, logout, shots) = (
        server.url("/account"),
        server.url("/end_session?client_id=web"),
        shots(test),
    );
    let returned = run_script(
        "passkey.mjs",
        &[
            &account,
            with_password.url.as_str(),
            alone.url.as_str(),
            WEB_CB,
            &logout,
            "ann@example.com",
            PASSWORD,
            &shots,
        ],
        // The first sign-in: password and passkey, redeemed before the script signs out.
        |question| {
            let (rp, start) = (&rp, &with_password);
            async move {
                let returned = question
                    .strip_prefix("REDEEM ")
                    .and_then(|q| q.strip_suffix('?'))
                    .unwrap_or_else(|| panic!("passkey.mjs asked {question}"));
                let tokens = redeem(rp, query(returned)["code"].clone(), start).await;
                // Chromium's virtual authenticator keeps its key on the device, not backed up: a
                // hardware-bound key (RFC 8176 "hwk").
                assert_eq!(
                    assurance(&tokens, rp, start),
                    (
                        vec!["pwd".into(), "hwk".into(), "mfa".into()],
                        "urn:gatehouse:acr:phishing-resistant".into()
                    )
                );
                "redeemed".to_owned()
            }
        },
    )
    .await;
    let tokens = redeem(&rp, query(&returned)["code"].clone(), &alone).await;
    assert_eq!(
        assurance(&tokens, &rp, &alone).0,
        ["hwk", "mfa"],
        "the passkey alone, no password"
    );
    assert_reviewed(
        test,
        &[
            "passkey-create",
            "passkey-recovery-codes",
            "second-factor-passkey",
            "logout",
            "logged-out",
            "passkey-sign-in",
        ],
    );
}

/// The wizard, with the script's `flags`: the code is computed from the key the page showed.
async fn set_up_in_the_wizard(test: &str, flags: &[&str]) {
    if !browser_available(test) {
        return;
    }
    let server = TestServer::start_on_localhost().await;
    server.add_user_in("ann@example.com", "strict").await;
    let rp = server.rp("web", WEB_CB).await;
    let start = authorization_url(&rp, &["openid"]);
    let shots = shots(test);
    let mut args = vec![
        start.url.as_str(),
        WEB_CB,
        "ann@example.com",
        PASSWORD,
        &shots,
    ];
    args.extend_from_slice(flags);
    let server = &server;
    let returned = run_script("wizard.mjs", &args, |question| async move {
        let key = question
            .strip_prefix("TOTP ")
            .and_then(|q| q.strip_suffix('?'))
            .unwrap_or_else(|| panic!("wizard.mjs asked {question}"));
        gatehouse_mfa::totp::code_at(&totp_secret_from_key(key), server.now()).unwrap()
    })
    .await;
    let params = query(&returned);
    assert_eq!(
        params["state"],
        *start.state.secret(),
        "the original request"
    );
    let tokens = redeem(&rp, params["code"].clone(), &start).await;
    assert_eq!(assurance(&tokens, &rp, &start).0, ["pwd", "otp", "mfa"]);
    assert_reviewed(
        test,
        &[
            "wizard",
            "wizard-authenticator-app",
            "wizard-recovery-codes",
        ],
    );
}

#[tokio::test]
async fn the_set_up_wizard_adds_an_authenticator_app_and_returns_to_the_app_in_chromium() {
    set_up_in_the_wizard("wizard", &[]).await;
}

#[tokio::test]
async fn the_set_up_wizard_works_without_javascript() {
    set_up_in_the_wizard("wizard-no-js", &["--no-js"]).await;
}

/// A browser that prefers Dutch gets every page in Dutch, from the sign-in through the wizard; the
/// scripts find nothing by its English text, so they run unchanged.
#[tokio::test]
async fn the_whole_sign_in_and_set_up_in_dutch_in_chromium() {
    set_up_in_the_wizard("wizard-nl", &["--lang=nl"]).await;
}

#[tokio::test]
async fn a_forgotten_password_in_dutch_in_chromium() {
    reset_forgotten_password("forgot-password-nl", &["--lang=nl"]).await;
}

#[tokio::test]
async fn a_clients_theme_changes_what_the_browser_shows_and_other_clients_keep_the_default() {
    let test = "themes";
    if !browser_available(test) {
        return;
    }
    let server = TestServer::start_on_localhost().await;
    let spa = server.rp("spa", SPA_CB).await;
    let web = server.rp("web", WEB_CB).await;
    let (themed, plain) = (
        authorization_url(&spa, &["openid"]),
        authorization_url(&web, &["openid"]),
    );
    let shots = shots(test);
    let seen = run_script(
        "themes.mjs",
        &[themed.url.as_str(), plain.url.as_str(), &shots],
        |question| async move { panic!("themes.mjs asked {question}") },
    )
    .await;
    let seen: serde_json::Value = serde_json::from_str(&seen).unwrap();
    // themes/harbour/theme.toml: accent #0b5d4b, accent_ink #ffffff, background #e3efe9.
    assert_eq!(seen["themed"]["button"], "rgb(11, 93, 75)", "{seen}");
    assert_eq!(seen["themed"]["buttonText"], "rgb(255, 255, 255)");
    assert_eq!(seen["themed"]["background"], "rgb(227, 239, 233)");
    assert_eq!(
        seen["themed"]["logo"],
        serde_json::json!({ "alt": "Harbour Hosting", "loaded": true })
    );
    assert_eq!(
        seen["themed"]["forgotButton"], seen["themed"]["button"],
        "the theme stays for the rest of the sign-in"
    );
    assert_ne!(seen["default"]["button"], seen["themed"]["button"]);
    assert_ne!(seen["default"]["background"], seen["themed"]["background"]);
    assert_eq!(seen["default"]["logo"], serde_json::Value::Null);
    assert_eq!(seen["default"]["forgotButton"], seen["default"]["button"]);
    assert_reviewed(test, &["login-themed", "login-default"]);
}

#[tokio::test]
async fn the_review_fails_pale_text_a_field_without_label_or_focus_a_code_field_without_a_number_pad_and_a_page_too_wide()
 {
    let test = "review-check";
    if !browser_available(test) {
        return;
    }
    let server = TestServer::start_on_localhost().await;
    let home = page_at(&server, &http(), "/").await.replace("&#x2f;", "/");
    let css = server.url(between(&home, "<link rel=\"stylesheet\" href=\"", "\""));
    let reason = run_script(
        "review_check.mjs",
        &[&server.url("/broken"), &css, &shots(test)],
        |question| async move { panic!("review_check.mjs asked {question}") },
    )
    .await;
    let reason: String = serde_json::from_str(&reason).expect("the review failed, with its reason");
    assert!(reason.contains("serious or critical"), "{reason}");
    assert!(reason.contains("color-contrast [serious]"), "{reason}");
    assert!(reason.contains("label [critical]"), "{reason}");
    assert!(reason.contains("#nameless"), "the field is named: {reason}");
    assert!(
        reason.contains("field #nameless () has no autocomplete attribute"),
        "{reason}"
    );
    assert!(
        reason.contains("code field #code has no inputmode=\"numeric\""),
        "{reason}"
    );
    assert!(
        reason.contains("px wide on a 390px phone screen"),
        "{reason}"
    );
    assert!(
        reason.contains("no visible focus outline on nameless"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_recovery_code_signs_in_and_says_how_many_are_left_in_chromium() {
    let test = "recovery-code";
    if !browser_available(test) {
        return;
    }
    let server = TestServer::start_on_localhost().await;
    server.add_user("ann@example.com").await;
    let enrolled = crate::second_factor::enrol_totp(&server, &browser(), "ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let start = authorization_url(&rp, &["openid"]);
    let shots = shots(test);
    let returned = run_script(
        "recovery_code.mjs",
        &[
            start.url.as_str(),
            WEB_CB,
            "ann@example.com",
            PASSWORD,
            &shots,
        ],
        |_| async { enrolled.recovery_codes[3].clone() },
    )
    .await;
    let (left, returned) = returned.split_once(' ').unwrap();
    assert_eq!(left, "9", "the code is used up");
    let tokens = redeem(&rp, query(returned)["code"].clone(), &start).await;
    assert_eq!(assurance(&tokens, &rp, &start).0, ["pwd", "otp", "mfa"]);
    assert_reviewed(test, &["second-factor-recovery-code", "recovery-code-used"]);
}

#[tokio::test]
async fn a_backup_address_from_the_account_page_brings_a_sign_in_link_in_chromium() {
    let test = "backup-link";
    if !browser_available(test) {
        return;
    }
    let backup = "ann.private@example.org";
    let server = TestServer::start_on_localhost().await;
    // The strict organisation allows backup links.
    server.add_user_in("ann@example.com", "strict").await;
    let secret = crate::second_factor::enrol_totp(&server, &browser(), "ann@example.com")
        .await
        .secret;
    let rp = server.rp("web", WEB_CB).await;
    let start = authorization_url(&rp, &["openid"]);
    let (account, shots) = (server.url("/account"), shots(test));
    let server = &server;
    let returned = run_script(
        "backup_link.mjs",
        &[
            &account,
            start.url.as_str(),
            WEB_CB,
            "ann@example.com",
            PASSWORD,
            backup,
            &shots,
        ],
        |question| {
            let secret = &secret;
            async move {
                match question.as_str() {
                    "TOTP?" => gatehouse_mfa::totp::code_at(secret, server.now()).unwrap(),
                    "MAILED-CODE?" => newest_code_mailed_to(server, backup).await,
                    "LATER?" => {
                        server.clock.advance(11 * 60);
                        "later".to_owned()
                    }
                    "LINK?" => {
                        let mail = server.mail_to(backup).await;
                        link_in(mail.last().unwrap(), &server.url("/mfa/link?"))
                    }
                    _ => panic!("backup_link.mjs asked {question}"),
                }
            }
        },
    )
    .await;
    let tokens = redeem(&rp, query(&returned)["code"].clone(), &start).await;
    assert_eq!(
        assurance(&tokens, &rp, &start).1,
        "urn:gatehouse:acr:mfa-email"
    );
    assert_reviewed(
        test,
        &[
            "backup-address",
            "backup-address-confirm",
            "account-backup-address-set",
            "confirm-password",
            "account-authenticator-app",
            "backup-link-sent",
        ],
    );
}

#[tokio::test]
async fn an_old_username_leads_by_a_link_to_a_new_password_and_on_into_the_set_up_in_chromium() {
    let test = "username";
    if !browser_available(test) {
        return;
    }
    let server = TestServer::start_on_localhost().await;
    let hash = server.passwords.hash(&"old secret".into()).unwrap();
    server
        .db
        .create_user_with(
            &gatehouse_store::users::NewUser {
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
    let start = authorization_url(&rp, &["openid"]);
    let shots = shots(test);
    let landed = run_script(
        "username.mjs",
        &[
            start.url.as_str(),
            "k.jansen",
            "old secret",
            "Harbour lights at 9 tonight!",
            &shots,
        ],
        |_| async {
            let mail = server.mail_to("kees@example.com").await;
            link_in(&mail[0], &server.url("/login/welcome?token="))
        },
    )
    .await;
    // Signed in by the new password; Kees's organisation requires a second factor: its set-up comes
    // next, in the sign-in the app started.
    assert!(landed.contains("/mfa/setup?flow="), "{landed}");
    assert_reviewed(
        test,
        &[
            "login-username-notice",
            "username",
            "username-link-sent",
            "username-new-password",
            "username-set-up",
        ],
    );
}

#[tokio::test]
async fn the_error_page_and_consent_in_chromium() {
    let test = "consent";
    if !browser_available(test) {
        return;
    }
    let server = TestServer::start_on_localhost().await;
    server.add_user("ann@example.com").await;
    let callback = "http://localhost/consenting/callback";
    let rp = server.rp("consenting", callback).await;
    let start = authorization_url(&rp, &["openid", "email"]);
    let mut bad = start.url.clone();
    let pairs: Vec<(String, String)> = bad
        .query_pairs()
        .map(|(k, v)| match k.as_ref() {
            "redirect_uri" => (k.into_owned(), "https://evil.example/cb".to_owned()),
            _ => (k.into_owned(), v.into_owned()),
        })
        .collect();
    bad.query_pairs_mut().clear().extend_pairs(pairs);
    let shots = shots(test);
    let returned = run_script(
        "consent.mjs",
        &[
            bad.as_str(),
            start.url.as_str(),
            callback,
            "ann@example.com",
            PASSWORD,
            &shots,
        ],
        |question| async move { panic!("consent.mjs asked {question}") },
    )
    .await;
    let (status, returned) = returned.split_once(' ').unwrap();
    assert_eq!(
        status, "400",
        "an unregistered redirect URI is refused on the page"
    );
    let tokens = redeem(&rp, query(returned)["code"].clone(), &start).await;
    assert_eq!(assurance(&tokens, &rp, &start).0, ["pwd"]);
    assert_reviewed(test, &["error", "consent"]);
}

#[tokio::test]
async fn without_javascript_the_passkey_page_leads_back_to_the_password() {
    let test = "passkey-no-js";
    if !browser_available(test) {
        return;
    }
    let server = TestServer::start_on_localhost().await;
    server.add_user("ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let start = authorization_url(&rp, &["openid"]);
    let shots = shots(test);
    let returned = run_script(
        "passkey_without_javascript.mjs",
        &[
            start.url.as_str(),
            WEB_CB,
            "ann@example.com",
            PASSWORD,
            &shots,
        ],
        |question| async move { panic!("passkey_without_javascript.mjs asked {question}") },
    )
    .await;
    let tokens = redeem(&rp, query(&returned)["code"].clone(), &start).await;
    assert_eq!(assurance(&tokens, &rp, &start).0, ["pwd"]);
    assert_reviewed(test, &["passkey-sign-in-no-js"]);
}
