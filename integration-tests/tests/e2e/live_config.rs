//! Client files reloaded while the server runs: on change, and on SIGHUP; a broken file changes nothing.

use std::time::Duration;

use crate::harness::*;

const OLD: &str = "http://localhost/spa/callback";
const NEW: &str = "http://localhost/spa/moved";

/// `GET /authorize` for the public `spa` client with `redirect_uri`: 303 when the URI is registered,
/// 400 (a page, no redirect) when it is not.
async fn authorize_status(server: &TestServer, redirect_uri: &str) -> u16 {
    let url = url::Url::parse_with_params(
        &server.url("/authorize"),
        [
            ("response_type", "code"),
            ("client_id", "spa"),
            ("redirect_uri", redirect_uri),
            ("scope", "openid"),
            ("state", "s"),
            (
                "code_challenge",
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            ),
            ("code_challenge_method", "S256"),
        ],
    )
    .unwrap();
    browser().get(url).send().await.unwrap().status().as_u16()
}

/// Waits (at most five seconds) for `redirect_uri` to be answered with `status`.
async fn until_status(server: &TestServer, redirect_uri: &str, status: u16) {
    for _ in 0..50 {
        if authorize_status(server, redirect_uri).await == status {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(authorize_status(server, redirect_uri).await, status);
}

fn spa_file(server: &TestServer) -> std::path::PathBuf {
    server.dir.join("clients/spa.toml")
}

fn move_redirect_uri(server: &TestServer) {
    let path = spa_file(server);
    let text = std::fs::read_to_string(&path).unwrap().replace(OLD, NEW);
    std::fs::write(path, text).unwrap();
}

#[tokio::test]
async fn a_changed_redirect_uri_takes_effect_without_a_restart() {
    let server = TestServer::start().await;
    assert_eq!(authorize_status(&server, OLD).await, 303);
    assert_eq!(authorize_status(&server, NEW).await, 400);

    move_redirect_uri(&server);
    until_status(&server, NEW, 303).await;
    assert_eq!(
        authorize_status(&server, OLD).await,
        400,
        "the old redirect URI is refused"
    );
}

#[tokio::test]
async fn a_broken_client_file_is_refused_and_the_previous_configuration_stays() {
    let (logs, _guard) = capture_logs();
    let server = TestServer::start().await;
    assert_eq!(authorize_status(&server, OLD).await, 303);
    std::fs::write(
        spa_file(&server),
        "client_id = \"spa\"\nredirect_uris = 7\n",
    )
    .unwrap();
    for _ in 0..50 {
        if logs.text().contains("configuration reload refused") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let refused: Vec<String> = logs
        .text()
        .lines()
        .filter(|l| l.contains("configuration reload refused"))
        .map(str::to_owned)
        .collect();
    assert!(
        refused.iter().any(|l| l.contains("spa.toml")),
        "the log names the broken file: {refused:?}\n{}",
        logs.text()
    );
    assert_eq!(
        authorize_status(&server, OLD).await,
        303,
        "the client still works as it was"
    );
}

#[tokio::test]
async fn sighup_reloads_when_watching_is_off() {
    let server = TestServer::start_with("watch_config = false\n").await;
    assert_eq!(authorize_status(&server, OLD).await, 303);
    move_redirect_uri(&server);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        authorize_status(&server, NEW).await,
        400,
        "no file watch: nothing changes by itself"
    );

    let status = std::process::Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    until_status(&server, NEW, 303).await;
    assert_eq!(authorize_status(&server, OLD).await, 400);
}

#[tokio::test]
async fn a_theme_that_was_not_loaded_at_start_is_refused_on_reload() {
    let (logs, _guard) = capture_logs();
    let server = TestServer::start().await;
    assert_eq!(authorize_status(&server, OLD).await, 303);
    let path = spa_file(&server);
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace(OLD, NEW)
        .replace("theme = \"harbour\"", "theme = \"lagoon\"");
    assert!(text.contains("lagoon"));
    std::fs::write(path, text).unwrap();
    for _ in 0..50 {
        if logs.text().contains("configuration reload refused") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        logs.text()
            .lines()
            .any(|l| l.contains("configuration reload refused")
                && l.contains("theme \\\"lagoon\\\" is not loaded")),
        "{}",
        logs.text()
    );
    assert_eq!(authorize_status(&server, NEW).await, 400, "nothing changed");
    assert_eq!(authorize_status(&server, OLD).await, 303);
}
