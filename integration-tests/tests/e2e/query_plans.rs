//! Issue 8's scale target, checked by the database's plans instead of by a stopwatch: every statement
//! that a sign-in with a password and an authenticator app, the signed-in authorize, and the token,
//! userinfo and introspection endpoints run finds its rows through an index, so its cost does not grow
//! with the number of people, grants or tokens. (On a shared machine, whose speed drifts by a quarter
//! within minutes, a timed comparison of a small and a large database cannot show that.)

use gatehouse_mfa::totp;
use gatehouse_store::statement_log;
use openidconnect::core::CoreUserInfoClaims;
use openidconnect::{OAuth2TokenResponse as _, TokenIntrospectionResponse as _};

use crate::harness::*;
use crate::second_factor::{answer, enrol_totp, reach_challenge};

const WEB_CB: &str = "http://localhost/web/callback";

/// The step of a plan that reads a whole table or index: `SCAN users`, `SCAN grants USING COVERING
/// INDEX ...`. `SCAN CONSTANT ROW` (a SELECT without a table) reads nothing.
fn is_full_scan(step: &str) -> bool {
    step.starts_with("SCAN ") && step != "SCAN CONSTANT ROW"
}

#[tokio::test]
async fn every_statement_of_a_sign_in_and_of_the_token_endpoint_finds_its_rows_by_an_index() {
    if std::env::var("DATABASE_URL").is_ok_and(|url| !url.is_empty()) {
        // What is recorded is what the SQLite connections run. PostgreSQL, with the few rows a test
        // has, plans a sequential scan whatever the indexes, so its plans would say nothing here.
        return;
    }
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let enrolled = enrol_totp(&server, &browser(), "ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    statement_log::record_under(&server.dir);

    // A sign-in: password, then the authenticator app, then the code redeemed.
    let browser = browser();
    let (flow, csrf, _, start) = reach_challenge(&server, &browser, &rp, "ann@example.com").await;
    let code = totp::code_at(&enrolled.secret, server.now()).unwrap();
    let response = answer(&server, &browser, &flow, &csrf, "totp", &code).await;
    assert_eq!(response.status(), 303);
    redeem(&rp, query(&location(&response))["code"].clone(), &start).await;

    // The signed-in authorize: straight back with a code; then refresh, userinfo, introspection.
    let again = authorization_url(&rp, &["openid", "email", "offline_access"]);
    let response = browser.get(again.url.as_str()).send().await.unwrap();
    assert_eq!(response.status(), 303);
    let callback = location(&response);
    assert!(callback.starts_with(WEB_CB), "{callback}");
    let tokens = redeem(&rp, query(&callback)["code"].clone(), &again).await;
    let http = http();
    let refreshed = rp
        .exchange_refresh_token(tokens.refresh_token().unwrap())
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    let userinfo: CoreUserInfoClaims = rp
        .user_info(refreshed.access_token().clone(), None)
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    assert!(userinfo.email().is_some());
    let introspected = rp
        .introspect(refreshed.access_token())
        .request_async(&http)
        .await
        .unwrap();
    assert!(introspected.active());
    let refresh_introspected = rp
        .introspect(&openidconnect::AccessToken::new(
            refreshed.refresh_token().unwrap().secret().clone(),
        ))
        .request_async(&http)
        .await
        .unwrap();
    assert!(refresh_introspected.active());

    let statements = statement_log::take();
    let reads = statements
        .iter()
        .filter(|s| s.sql.starts_with("SELECT"))
        .count();
    assert!(
        reads >= 10,
        "the flows above read the database through the recorded connections: {statements:#?}"
    );
    let mut scans = Vec::new();
    for statement in &statements {
        let plan = statement
            .plan()
            .unwrap_or_else(|e| panic!("no plan for {}: {e}", statement.sql));
        scans.extend(
            plan.iter()
                .filter(|step| is_full_scan(step))
                .map(|step| format!("{step}: {}", statement.sql)),
        );
    }
    assert!(
        scans.is_empty(),
        "statements that read a whole table (of {} recorded):\n{}",
        statements.len(),
        scans.join("\n")
    );
}

#[test]
fn a_full_scan_is_told_from_a_search() {
    let steps = [
        ("SCAN users", true),
        ("SCAN grants USING COVERING INDEX idx_grants_user", true),
        ("SEARCH users USING INDEX idx_users_email (email=?)", false),
        ("SEARCH g USING INDEX grant_pk (id=?)", false),
        ("SCAN CONSTANT ROW", false),
    ];
    for (step, full_scan) in steps {
        assert_eq!(is_full_scan(step), full_scan, "{step}");
    }
}
