//! Gatehouse's pages in a real browser: headless Chromium driven by playwright-core
//! (`integration-tests/browser/`), against a real server on localhost. `.ci/run` installs both and sets
//! `GATEHOUSE_BROWSER_TESTS=required`; elsewhere, without them, these tests say so and pass.
//! Screenshots of each page, at desktop and phone width, land in `target/screenshots/`.

use std::path::PathBuf;
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};

use crate::harness::*;

const WEB_CB: &str = "http://localhost/web/callback";

fn browser_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("browser")
}

/// Whether Chromium and playwright-core are here; when `.ci/run` asks for the browser tests, their
/// absence is a failure, not a skip.
fn browser_available(test: &str) -> bool {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let ready = std::path::Path::new(&chromium).exists()
        && browser_dir().join("node_modules/playwright-core").exists();
    if !ready {
        assert!(
            std::env::var("GATEHOUSE_BROWSER_TESTS").is_err(),
            "browser tests are required, but Chromium or playwright-core is missing (see .ci/run)"
        );
        eprintln!("{test}: skipped, Chromium or playwright-core is not installed (see .ci/run)");
    }
    ready
}

fn screenshots() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots")
}

/// Runs `integration-tests/browser/<script>` with `args`, answering each line it asks (`CODE?`) with
/// `answer`; returns what it printed after `DONE `. Fails the test when the script fails or takes more
/// than a minute.
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
    assert!(node.wait().await.unwrap().success(), "{script} failed");
    done.unwrap_or_else(|| panic!("{script} ended without DONE"))
}

#[tokio::test]
async fn signing_in_with_an_authenticator_app_in_chromium() {
    if !browser_available("signing_in_with_an_authenticator_app_in_chromium") {
        return;
    }
    let server = TestServer::start_on_localhost().await;
    server.add_user("ann@example.com").await;
    let secret = crate::second_factor::enrol_totp(&server, &browser(), "ann@example.com")
        .await
        .secret;
    let rp = server.rp("web", WEB_CB).await;
    let start = authorization_url(&rp, &["openid"]);

    let shots = screenshots().join("totp");
    let returned = run_script(
        "sign_in.mjs",
        &[
            start.url.as_str(),
            WEB_CB,
            "ann@example.com",
            PASSWORD,
            shots.to_str().unwrap(),
        ],
        |_| async { gatehouse_mfa::totp::code_at(&secret, server.now()).unwrap() },
    )
    .await;
    let tokens = redeem(&rp, query(&returned)["code"].clone(), &start).await;
    let (amr, _) = assurance(&tokens, &rp, &start);
    assert_eq!(amr, ["pwd", "otp", "mfa"]);
    for page in ["login", "second-factor"] {
        for width in ["desktop", "phone"] {
            assert!(
                screenshots()
                    .join(format!("totp/{page}-{width}.png"))
                    .exists()
            );
        }
    }
}

#[tokio::test]
async fn resetting_a_forgotten_password_in_chromium() {
    if !browser_available("resetting_a_forgotten_password_in_chromium") {
        return;
    }
    let server = TestServer::start_on_localhost().await;
    server.add_user_in("ann@example.com", "strict").await;
    let rp = server.rp("web", WEB_CB).await;
    let start = authorization_url(&rp, &["openid"]);
    let new_password = "Seven horses walk to Utrecht, 7!";

    let shots = screenshots().join("forgot-password");
    let landed = run_script(
        "forgot_password.mjs",
        &[
            start.url.as_str(),
            "ann@example.com",
            new_password,
            shots.to_str().unwrap(),
        ],
        // The code, as it arrived over SMTP.
        |_| async {
            let mail = server
                .smtp
                .wait_for(1, std::time::Duration::from_secs(10))
                .await;
            six_digits(&mail[0].body_text())
        },
    )
    .await;
    // Ann's organisation requires a second factor: after the new password comes its set-up.
    assert!(landed.contains("/mfa/setup?flow="), "{landed}");
}
