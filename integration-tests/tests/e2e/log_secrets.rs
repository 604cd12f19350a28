//! No password, code, token, secret or cookie value ever reaches a log line: a whole sign-in with an
//! authenticator app, the token, a refresh, userinfo and logout, run with every log line captured at
//! Gatehouse's most detailed level.

use gatehouse_mfa::totp;
use openidconnect::{OAuth2TokenResponse as _, TokenResponse as _};

use crate::harness::*;
use crate::second_factor::{answer, enrol_totp};

const WEB_CB: &str = "http://localhost/web/callback";

/// Every `Set-Cookie` value of a response (the part before the first `;`, after the `=`).
fn cookie_values(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|c| {
            c.split(';')
                .next()?
                .split_once('=')
                .map(|(_, v)| v.to_owned())
        })
        .filter(|v| v.len() >= 16)
        .collect()
}

#[tokio::test]
async fn a_full_sign_in_leaves_no_secret_in_the_logs() {
    let (logs, _guard) = capture_logs();
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let mut secrets: Vec<String> = vec![PASSWORD.into(), SECRET.into()];

    let enrolled = enrol_totp(&server, &browser(), "ann@example.com").await;
    secrets.extend(enrolled.recovery_codes.iter().cloned());
    let rp = server.rp("web", WEB_CB).await;
    let browser = browser();

    // A wrong password first, then the right one and the authenticator app.
    let start = authorization_url(&rp, &["openid"]);
    let (flow, csrf) = open_login(&browser, start.url.as_str()).await;
    let wrong = "wrong-password-never-logged";
    post_login(&server, &browser, &flow, &csrf, "ann@example.com", wrong).await;
    secrets.extend([wrong.to_owned(), flow, csrf]);

    let rp_start = authorization_url(&rp, &["openid", "offline_access"]);
    let (flow, csrf) = open_login(&browser, rp_start.url.as_str()).await;
    let response = post_login(&server, &browser, &flow, &csrf, "ann@example.com", PASSWORD).await;
    let page = page_at(&server, &browser, &location(&response)).await;
    secrets.push(csrf);
    let csrf = form_value(&page, "csrf");
    answer(&server, &browser, &flow, &csrf, "totp", "000000").await;
    let code = totp::code_at(&enrolled.secret, server.now()).unwrap();
    let response = answer(&server, &browser, &flow, &csrf, "totp", &code).await;
    assert_eq!(response.status(), 303);
    secrets.extend(cookie_values(&response));
    secrets.extend([code, flow, csrf]);
    let authorization_code = query(&location(&response))["code"].clone();
    secrets.push(authorization_code.clone());

    let tokens = redeem(&rp, authorization_code, &rp_start).await;
    let id_token = tokens.id_token().unwrap().clone();
    secrets.push(tokens.access_token().secret().clone());
    secrets.push(id_token.to_string());
    let refresh = tokens.refresh_token().unwrap().clone();
    secrets.push(refresh.secret().clone());

    let refreshed = rp
        .exchange_refresh_token(&refresh)
        .unwrap()
        .request_async(&http())
        .await
        .unwrap();
    secrets.push(refreshed.access_token().secret().clone());
    secrets.push(refreshed.refresh_token().unwrap().secret().clone());
    let userinfo = http()
        .get(server.url("/userinfo"))
        .bearer_auth(refreshed.access_token().secret())
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), 200);
    // A replayed refresh token is refused, its grant revoked (and logged as such, without the token).
    assert!(
        rp.exchange_refresh_token(&refresh)
            .unwrap()
            .request_async(&http())
            .await
            .is_err()
    );
    // A wrong client secret.
    token_request(
        &server,
        ("web", "not-the-secret-never-logged"),
        &[("grant_type", "client_credentials")],
    )
    .await;
    secrets.push("not-the-secret-never-logged".into());
    // Logout carries the ID token in the query string.
    let logout = browser
        .get(
            url::Url::parse_with_params(
                &server.url("/end_session"),
                [("id_token_hint", id_token.to_string().as_str())],
            )
            .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert!(logout.status().is_redirection() || logout.status().is_success());

    let text = logs.text();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.len() > 20, "the flow was logged:\n{text}");
    assert!(
        lines
            .iter()
            .any(|l| l["span"]["request_id"].is_string() && l["span"]["route"] == "/token"),
        "request lines carry the request id and the route:\n{text}"
    );
    // Timestamps have six-digit fractions; everything else is searched.
    let searchable: Vec<String> = lines
        .into_iter()
        .map(|mut l| {
            l.as_object_mut().unwrap().remove("timestamp");
            l.to_string()
        })
        .collect();
    for secret in &secrets {
        assert!(secret.len() >= 6, "{secret:?}");
        for line in &searchable {
            assert!(
                !line.contains(secret.as_str()),
                "a secret ({}…) is in the log line: {line}",
                &secret[..4]
            );
        }
    }
}
