//! What operators rely on: health checks, metrics, request ids, the client address behind a proxy,
//! the retention job and shutting down.

use sea_orm::{ConnectionTrait as _, Statement};

use crate::harness::*;

const WEB_CB: &str = "http://localhost/web/callback";
const METRICS_TOKEN: &str = "metrics-token-of-some-length";

async fn get(url: String) -> reqwest::Response {
    http().get(url).send().await.unwrap()
}

#[tokio::test]
async fn live_and_ready_answer_json() {
    let server = TestServer::start().await;
    let live = get(server.url("/health/live")).await;
    assert_eq!(live.status(), 200);
    let ready = get(server.url("/health/ready")).await;
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "ready");
}

#[tokio::test]
async fn not_ready_with_a_reason_when_the_database_is_gone() {
    let server = TestServer::start().await;
    // The server shares this handle: closing it closes the database for the server too.
    server.db.close().await.unwrap();
    let ready = get(server.url("/health/ready")).await;
    assert_eq!(ready.status(), 503);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["reason"], "the database is unreachable");
    assert_eq!(
        get(server.url("/health/live")).await.status(),
        200,
        "the process itself is alive"
    );
}

#[tokio::test]
async fn metrics_are_not_served_on_the_main_port_without_a_token() {
    let server = TestServer::start().await;
    assert_eq!(get(server.url("/metrics")).await.status(), 404);
}

#[tokio::test]
async fn metrics_on_the_main_port_need_the_bearer_token() {
    let server = TestServer::start_with(&format!("metrics_token = {METRICS_TOKEN:?}\n")).await;
    assert_eq!(get(server.url("/metrics")).await.status(), 401);
    let wrong = http()
        .get(server.url("/metrics"))
        .bearer_auth("metrics-token-of-some-lengtX")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
}

async fn scrape(server: &TestServer) -> String {
    let response = http()
        .get(server.url("/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

#[tokio::test]
async fn sign_ins_tokens_and_latency_by_route_pattern_are_counted() {
    let server = TestServer::start_with(&format!("metrics_token = {METRICS_TOKEN:?}\n")).await;
    server.add_user("ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let browser = browser();
    let start = authorization_url(&rp, &["openid"]);
    let (flow, csrf) = open_login(&browser, start.url.as_str()).await;
    post_login(&server, &browser, &flow, &csrf, "ann@example.com", "wrong").await;
    let response = post_login(&server, &browser, &flow, &csrf, "ann@example.com", PASSWORD).await;
    let code = query(&location(&response))["code"].clone();
    redeem(&rp, code, &start).await;
    get(server.url("/static/no-such-file-0123.css")).await;

    let text = scrape(&server).await;
    for line in [
        r#"gatehouse_sign_ins_total{result="success",method="password"} 1"#,
        r#"gatehouse_sign_ins_total{result="failure",method="password"} 1"#,
        r#"gatehouse_tokens_issued_total{grant_type="authorization_code"} 1"#,
        r#"gatehouse_http_request_duration_seconds_count{method="POST",route="/token",status="200"} 1"#,
        r#"gatehouse_http_request_duration_seconds_count{method="GET",route="/static/{name}",status="404"} 1"#,
        "gatehouse_outbox_depth 0",
    ] {
        assert!(text.contains(line), "{line} missing in:\n{text}");
    }
    assert!(
        !text.contains("no-such-file-0123"),
        "routes are labelled by pattern, never by raw path"
    );
}

#[tokio::test]
async fn a_separate_metrics_port_serves_them_without_a_token() {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let server = TestServer::start_with(&format!("metrics_listen = \"127.0.0.1:{port}\"\n")).await;
    get(server.url("/health/live")).await;
    let response = get(format!("http://127.0.0.1:{port}/metrics")).await;
    assert_eq!(response.status(), 200);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains(r#"route="/health/live""#)
    );
    assert_eq!(
        get(server.url("/metrics")).await.status(),
        404,
        "not on the main port"
    );
}

fn request_id(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("x-request-id")
        .expect("every response carries a request id")
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn every_response_carries_a_fresh_request_id_unless_a_trusted_proxy_sent_one() {
    let server = TestServer::start().await;
    let first = request_id(&get(server.url("/health/live")).await);
    let second = request_id(&get(server.url("/health/live")).await);
    assert_ne!(first, second);
    assert_eq!(first.len(), 36, "a UUID: {first}");

    let chosen = http()
        .get(server.url("/health/live"))
        .header("x-request-id", "chosen-by-the-client")
        .send()
        .await
        .unwrap();
    assert_ne!(
        request_id(&chosen),
        "chosen-by-the-client",
        "a client that is no trusted proxy cannot choose the id in our logs"
    );

    let behind_proxy = TestServer::start_with("trusted_proxies = [\"127.0.0.1/32\"]\n").await;
    let relayed = http()
        .get(behind_proxy.url("/health/live"))
        .header("x-request-id", "from-the-proxy-42")
        .send()
        .await
        .unwrap();
    assert_eq!(request_id(&relayed), "from-the-proxy-42");
}

/// Posts the login form as if relayed with `X-Forwarded-For: forwarded_for`.
async fn post_login_from(
    server: &TestServer,
    browser: &reqwest::Client,
    (flow, csrf): (&str, &str),
    email: &str,
    password: &str,
    forwarded_for: &str,
) -> reqwest::Response {
    browser
        .post(server.url("/login"))
        .header("x-forwarded-for", forwarded_for)
        .form(&[
            ("flow", flow),
            ("csrf", csrf),
            ("email", email),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_spoofed_forwarded_for_does_not_escape_the_address_throttle() {
    // No trusted proxies (the default): X-Forwarded-For is the client's own claim.
    let server = TestServer::start_with("[login_throttle]\nper_address = 8\n").await;
    server.add_user("ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let browser = browser();
    let start = authorization_url(&rp, &["openid"]);
    let (flow, csrf) = open_login(&browser, start.url.as_str()).await;
    for i in 0..8 {
        post_login_from(
            &server,
            &browser,
            (&flow, &csrf),
            &format!("guess{i}@example.com"),
            "guess",
            &format!("198.51.100.{i}"),
        )
        .await;
    }
    let blocked = post_login_from(
        &server,
        &browser,
        (&flow, &csrf),
        "ann@example.com",
        PASSWORD,
        "198.51.100.200",
    )
    .await;
    assert_eq!(blocked.status(), 429);
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_is_throttled_and_audited_apart() {
    let server = TestServer::start_with(
        "trusted_proxies = [\"127.0.0.0/8\"]\n[login_throttle]\nper_address = 8\n",
    )
    .await;
    let ann = server.add_user("ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let browser = browser();
    let start = authorization_url(&rp, &["openid"]);
    let (flow, csrf) = open_login(&browser, start.url.as_str()).await;
    for i in 0..8 {
        // The client wrote a leftmost hop of its own; the proxy appended what it saw.
        post_login_from(
            &server,
            &browser,
            (&flow, &csrf),
            &format!("guess{i}@example.com"),
            "guess",
            &format!("10.9.9.{i}, 203.0.113.5"),
        )
        .await;
    }
    let blocked = post_login_from(
        &server,
        &browser,
        (&flow, &csrf),
        "ann@example.com",
        PASSWORD,
        "203.0.113.5",
    )
    .await;
    assert_eq!(blocked.status(), 429, "the forwarded client is throttled");

    let other = post_login_from(
        &server,
        &browser,
        (&flow, &csrf),
        "ann@example.com",
        PASSWORD,
        "203.0.113.6",
    )
    .await;
    assert_eq!(
        other.status(),
        303,
        "another client behind the same proxy is not"
    );
    let events = server
        .db
        .events_for_user(&ann, Some("sign_in.succeeded"), 1)
        .await
        .unwrap();
    assert_eq!(events[0].ip.as_deref(), Some("203.0.113.6"));
}

async fn rows(server: &TestServer, table: &str) -> i64 {
    let conn = server.db.connection();
    let row = conn
        .query_one(Statement::from_string(
            conn.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM {table}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

/// Waits (at most five seconds) until `table` has `expected` rows.
async fn until_rows(server: &TestServer, table: &str, expected: i64) {
    for _ in 0..50 {
        if rows(server, table).await == expected {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(rows(server, table).await, expected, "rows in {table}");
}

#[tokio::test]
async fn the_retention_job_deletes_what_expired_and_keeps_what_lives() {
    let server = TestServer::start_with("retention_interval_seconds = 1\n").await;
    server.add_user("ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let browser = browser();
    let (code, start) = code_for(
        &server,
        &rp,
        &browser,
        "ann@example.com",
        &["openid", "offline_access"],
    )
    .await;
    redeem(&rp, code, &start).await;
    // A sign-in someone started and walked away from.
    open_login(
        &crate::harness::browser(),
        authorization_url(&rp, &["openid"]).url.as_str(),
    )
    .await;
    assert_eq!(rows(&server, "authorization_codes").await, 1);
    assert!(rows(&server, "auth_flows").await >= 1);

    // Two hours on: the code (60 s) and the pending sign-ins (30 min) have expired; the session
    // (12 h) and the refresh token (30 days) have not.
    server.clock.advance(2 * 3600);
    until_rows(&server, "authorization_codes", 0).await;
    until_rows(&server, "auth_flows", 0).await;
    assert_eq!(rows(&server, "sessions").await, 1);
    assert_eq!(rows(&server, "refresh_tokens").await, 1);

    server.clock.advance(31 * 24 * 3600);
    until_rows(&server, "sessions", 0).await;
    until_rows(&server, "refresh_tokens", 0).await;
}

#[tokio::test]
async fn shutting_down_stops_the_listener_and_the_background_tasks() {
    let server = TestServer::start_with("retention_interval_seconds = 1\n").await;
    let url = server.url("/health/live");
    assert_eq!(get(url.clone()).await.status(), 200);
    tokio::time::timeout(std::time::Duration::from_secs(10), server.shut_down())
        .await
        .expect("the server stops promptly")
        .unwrap();
    assert!(
        http().get(url).send().await.is_err(),
        "nothing listens any more"
    );
}
