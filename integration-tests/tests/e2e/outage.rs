//! A database outage: requests fail cleanly with 503 while PostgreSQL cannot be reached, and the server
//! recovers by itself when it can again, without a restart. The outage is a TCP proxy between Gatehouse
//! and PostgreSQL that is cut and restored (the shared PostgreSQL itself is never stopped).

use std::time::Duration;

use crate::harness::*;

const SPA_CB: &str = "http://localhost/spa/callback";

/// PostgreSQL's address from `DATABASE_URL`, when the tests run on PostgreSQL.
fn postgres_address() -> Option<std::net::SocketAddr> {
    let url = url::Url::parse(&std::env::var("DATABASE_URL").ok()?).ok()?;
    if !url.scheme().starts_with("postgres") {
        return None;
    }
    url.socket_addrs(|| Some(5432)).ok()?.into_iter().next()
}

async fn ready_status(server: &TestServer) -> u16 {
    http()
        .get(server.url("/health/ready"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Waits (at most `seconds`) until `/health/ready` answers `status`.
async fn until_ready_is(server: &TestServer, status: u16, seconds: u64) {
    for _ in 0..seconds * 5 {
        if ready_status(server).await == status {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(ready_status(server).await, status);
}

#[tokio::test]
async fn requests_get_503_while_the_database_is_unreachable_and_recover_without_a_restart() {
    let Some(upstream) = postgres_address() else {
        eprintln!(
            "skipped: the outage test needs PostgreSQL (DATABASE_URL=postgres://…); SQLite has no connection to lose"
        );
        return;
    };
    let proxy = TcpProxy::start(upstream).await;
    let server = TestServer::start_via(proxy.addr).await;
    server.add_user("ann@example.com").await;
    let rp = server.rp("spa", SPA_CB).await;
    assert_eq!(ready_status(&server).await, 200);
    let (code, start) = code_for(&server, &rp, &browser(), "ann@example.com", &["openid"]).await;
    let access_token =
        openidconnect::OAuth2TokenResponse::access_token(&redeem(&rp, code, &start).await)
            .secret()
            .clone();

    // A steady load of sign-in starts (each writes a pending sign-in) runs through the outage.
    let load_url = authorization_url(&rp, &["openid"]).url.to_string();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let statuses = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let load = tokio::spawn({
        let (stop, statuses) = (stop.clone(), statuses.clone());
        async move {
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let answer = browser().get(&load_url).send().await.unwrap();
                statuses.lock().unwrap().push(answer.status().as_u16());
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    proxy.cut();
    until_ready_is(&server, 503, 10).await;
    let page = browser()
        .get(authorization_url(&rp, &["openid"]).url.as_str())
        .send()
        .await
        .unwrap();
    let status = page.status();
    let headers = page.headers().clone();
    assert_eq!(status, 503, "a sign-in page says: try again shortly");
    assert!(headers.contains_key("retry-after"));
    let token = http()
        .post(server.url("/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", "spa"),
            ("code", "some-code-of-sufficient-length-0123456789"),
            ("redirect_uri", SPA_CB),
            (
                "code_verifier",
                "some-verifier-of-sufficient-length-0123456789",
            ),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 503);
    let body: serde_json::Value = token.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");
    let userinfo = http()
        .get(server.url("/userinfo"))
        .bearer_auth(&access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        userinfo.status(),
        503,
        "userinfo too says: try again shortly"
    );
    assert!(
        userinfo.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("temporarily_unavailable")
    );

    // On a busy machine one request of the load can outlast a short outage: the database stays away
    // until the load has met it (or 10 s have passed, and the assertion below says so).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !statuses.lock().unwrap().contains(&503) && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    proxy.restore();
    until_ready_is(&server, 200, 20).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    load.await.unwrap();
    let statuses = statuses.lock().unwrap().clone();
    assert!(
        statuses.iter().all(|s| *s == 303 || *s == 503),
        "only sign-in redirects or clean 503s under load: {statuses:?}"
    );
    assert!(statuses.contains(&503), "the load met the outage");
    assert_eq!(statuses.last(), Some(&303), "and recovered with it");
    // Everything works again, on the same process and pool.
    let browser = browser();
    let (code, start) = code_for(&server, &rp, &browser, "ann@example.com", &["openid"]).await;
    redeem(&rp, code, &start).await;
}
