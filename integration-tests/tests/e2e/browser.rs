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

    let mut node = tokio::process::Command::new("node")
        .current_dir(browser_dir())
        .arg("sign_in.mjs")
        .arg(start.url.as_str())
        .arg(WEB_CB)
        .arg("ann@example.com")
        .arg(PASSWORD)
        .arg(screenshots().join("totp"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs");
    let mut stdin = node.stdin.take().unwrap();
    let mut lines = BufReader::new(node.stdout.take().unwrap()).lines();
    let mut returned = None;
    let talk = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line == "CODE?" {
                let code = gatehouse_mfa::totp::code_at(&secret, server.now()).unwrap();
                stdin
                    .write_all(format!("{code}\n").as_bytes())
                    .await
                    .unwrap();
            } else if let Some(url) = line.strip_prefix("DONE ") {
                returned = Some(url.to_owned());
                break;
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(60), talk)
        .await
        .expect("the browser finished within a minute");
    drop(stdin);
    let status = node.wait().await.unwrap();
    assert!(status.success(), "the browser script failed");
    let returned = returned.expect("the browser came back to the app");
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
