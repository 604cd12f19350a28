//! Hostile token requests: each must fail with the RFC 6749 §5.2 error and change nothing it should not.

use openidconnect::{AuthorizationCode, OAuth2TokenResponse as _, TokenIntrospectionResponse as _};

use crate::harness::*;

const WEB_CB: &str = "http://localhost/web/callback";

/// A server where Ann signed in to `web` with `offline_access`: the server, the client, her code and
/// the authorization request it answers.
async fn ann_with_a_code() -> (TestServer, Rp, String, AuthStart) {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let (code, start) = code_for(
        &server,
        &rp,
        &browser(),
        "ann@example.com",
        &["openid", "offline_access"],
    )
    .await;
    (server, rp, code, start)
}

/// The same with the code redeemed: the server, the client and Ann's tokens.
async fn ann_signed_in_offline() -> (TestServer, Rp, openidconnect::core::CoreTokenResponse) {
    let (server, rp, code, start) = ann_with_a_code().await;
    let tokens = redeem(&rp, code, &start).await;
    (server, rp, tokens)
}

async fn error_of(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap();
    (
        status,
        body["error"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn reused_code_is_rejected_and_revokes_what_it_issued() {
    let (server, rp, code, start) = ann_with_a_code().await;
    let verifier = start.verifier.secret().clone();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", WEB_CB),
        ("code_verifier", verifier.as_str()),
    ];

    let first: serde_json::Value = token_request(&server, ("web", SECRET), &form)
        .await
        .json()
        .await
        .unwrap();
    let access = first["access_token"].as_str().unwrap().to_owned();
    let refresh = first["refresh_token"].as_str().unwrap().to_owned();

    let second = token_request(&server, ("web", SECRET), &form).await;
    assert_eq!(error_of(second).await, (400, "invalid_grant".into()));

    let info = rp
        .introspect(&openidconnect::AccessToken::new(access))
        .request_async(&http())
        .await
        .unwrap();
    assert!(
        !info.active(),
        "the access token from the first use is revoked"
    );
    let refreshed = token_request(
        &server,
        ("web", SECRET),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.as_str()),
        ],
    )
    .await;
    assert_eq!(error_of(refreshed).await, (400, "invalid_grant".into()));
}

#[tokio::test]
async fn code_used_by_another_client_is_rejected() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let (code, start) = code_for(&server, &rp, &browser(), "ann@example.com", &["openid"]).await;
    let verifier = start.verifier.secret().clone();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", WEB_CB),
        ("code_verifier", verifier.as_str()),
    ];
    let stolen = token_request(&server, ("other", OTHER_SECRET), &form).await;
    assert_eq!(error_of(stolen).await, (400, "invalid_grant".into()));
    // The rightful client can still redeem it.
    assert_eq!(
        token_request(&server, ("web", SECRET), &form)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn wrong_pkce_verifier_is_rejected_and_uses_the_code_up() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let (code, start) = code_for(&server, &rp, &browser(), "ann@example.com", &["openid"]).await;
    let guessed = openidconnect::PkceCodeVerifier::new("x".repeat(64));
    // The wrong verifier is refused; then the code has had its one try, and the right one is too.
    for verifier in [guessed, start.verifier] {
        let result = rp
            .exchange_code(AuthorizationCode::new(code.clone()))
            .unwrap()
            .set_pkce_verifier(verifier)
            .request_async(&http())
            .await;
        let message = format!("{:?}", result.unwrap_err());
        assert!(
            message.contains("invalid_grant") || message.contains("InvalidGrant"),
            "{message}"
        );
    }
}

#[tokio::test]
async fn missing_pkce_verifier_is_rejected() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let (code, _start) = code_for(&server, &rp, &browser(), "ann@example.com", &["openid"]).await;
    let response = token_request(
        &server,
        ("web", SECRET),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", WEB_CB),
        ],
    )
    .await;
    assert_eq!(error_of(response).await, (400, "invalid_grant".into()));
}

#[tokio::test]
async fn expired_code_is_rejected() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let (code, start) = code_for(&server, &rp, &browser(), "ann@example.com", &["openid"]).await;
    server.clock.advance(61);
    let result = rp
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(start.verifier)
        .request_async(&http())
        .await;
    assert!(
        result.is_err(),
        "a code older than its 60 s lifetime is refused"
    );
}

#[tokio::test]
async fn redirect_uri_differing_from_the_authorization_request_is_rejected() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let (code, start) = code_for(&server, &rp, &browser(), "ann@example.com", &["openid"]).await;
    let verifier = start.verifier.secret().clone();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", "https://web.example/cb?tenant=7"),
        ("code_verifier", verifier.as_str()),
    ];
    assert_eq!(
        error_of(token_request(&server, ("web", SECRET), &form).await).await,
        (400, "invalid_grant".into())
    );
}

#[tokio::test]
async fn bad_client_secret_gets_401_with_www_authenticate() {
    let server = TestServer::start().await;
    let response = token_request(
        &server,
        ("web", "not-the-secret"),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(response.status(), 401);
    assert!(
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
    assert_eq!(error_of(response).await, (401, "invalid_client".into()));

    let unknown = token_request(
        &server,
        ("nobody", "secret"),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(error_of(unknown).await, (401, "invalid_client".into()));

    let posted = http()
        .post(server.url("/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "web"),
            ("client_secret", "wrong"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(posted).await, (401, "invalid_client".into()));
}

#[tokio::test]
async fn public_client_cannot_use_client_credentials() {
    let server = TestServer::start().await;
    let response = http()
        .post(server.url("/token"))
        .form(&[("grant_type", "client_credentials"), ("client_id", "spa")])
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(response).await, (401, "invalid_client".into()));
}

#[tokio::test]
async fn old_refresh_token_reused_revokes_the_whole_family() {
    let (server, rp, tokens) = ann_signed_in_offline().await;
    let http = http();
    let first = tokens.refresh_token().unwrap().clone();
    let second = rp
        .exchange_refresh_token(&first)
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    let current = second.refresh_token().unwrap().clone();

    let replay = token_request(
        &server,
        ("web", SECRET),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", first.secret()),
        ],
    )
    .await;
    assert_eq!(error_of(replay).await, (400, "invalid_grant".into()));

    let after = token_request(
        &server,
        ("web", SECRET),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", current.secret()),
        ],
    )
    .await;
    assert_eq!(
        error_of(after).await,
        (400, "invalid_grant".into()),
        "the newest token of the family is revoked too"
    );
    let info = rp
        .introspect(second.access_token())
        .request_async(&http)
        .await
        .unwrap();
    assert!(!info.active());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_refresh_token_sent_many_times_at_once_rotates_once_and_revokes_the_family() {
    let (server, _, tokens) = ann_signed_in_offline().await;
    let first = tokens.refresh_token().unwrap().secret().clone();
    let attempts: Vec<_> = (0..8)
        .map(|_| {
            let send = http()
                .post(server.url("/token"))
                .basic_auth("web", Some(SECRET))
                .form(&[("grant_type", "refresh_token"), ("refresh_token", &first)])
                .send();
            tokio::spawn(send)
        })
        .collect();
    let mut rotated = Vec::new();
    for attempt in attempts {
        let response = attempt.await.unwrap().unwrap();
        if response.status().is_success() {
            let body: serde_json::Value = response.json().await.unwrap();
            rotated.push(body["refresh_token"].as_str().unwrap().to_owned());
        } else {
            assert_eq!(error_of(response).await, (400, "invalid_grant".into()));
        }
    }
    assert_eq!(rotated.len(), 1, "exactly one request rotates the token");
    // The others presented a used token: the family, the winner's new token with it, is revoked.
    let after = token_request(
        &server,
        ("web", SECRET),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &rotated[0]),
        ],
    )
    .await;
    assert_eq!(error_of(after).await, (400, "invalid_grant".into()));
}

#[tokio::test]
async fn refresh_token_of_another_client_is_rejected() {
    let (server, _, tokens) = ann_signed_in_offline().await;
    let refresh = tokens.refresh_token().unwrap().secret().clone();
    let stolen = token_request(
        &server,
        ("other", OTHER_SECRET),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.as_str()),
        ],
    )
    .await;
    assert_eq!(error_of(stolen).await, (400, "invalid_grant".into()));
    let own = token_request(
        &server,
        ("web", SECRET),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.as_str()),
        ],
    )
    .await;
    assert_eq!(
        own.status(),
        200,
        "a stolen token presented elsewhere is not burnt for its owner"
    );
}

#[tokio::test]
async fn malformed_token_requests_get_spec_errors() {
    let server = TestServer::start().await;
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[], "invalid_request"),
        (
            &[
                ("grant_type", "password"),
                ("username", "a"),
                ("password", "b"),
            ],
            "unsupported_grant_type",
        ),
        (&[("grant_type", "authorization_code")], "invalid_request"),
        (
            &[
                ("grant_type", "client_credentials"),
                ("grant_type", "client_credentials"),
            ],
            "invalid_request",
        ),
    ];
    for (form, expected) in cases {
        let response = token_request(&server, ("web", SECRET), form).await;
        assert_eq!(response.headers()["cache-control"], "no-store");
        assert_eq!(error_of(response).await.1, expected, "{form:?}");
    }
    let wrong_type = http()
        .post(server.url("/token"))
        .basic_auth("web", Some(SECRET))
        .body("{}")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(wrong_type).await, (400, "invalid_request".into()));
}

/// Client secrets are checked with argon2 one at a time (each check takes its working memory); a burst
/// of first requests, right and wrong secrets mixed, still gets every answer right.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_first_client_secret_checks_answers_each_one_right() {
    let server = TestServer::start().await;
    let mut requests = tokio::task::JoinSet::new();
    for i in 0..24 {
        let secret = if i % 3 == 0 { "not-the-secret" } else { SECRET };
        let token_url = server.url("/token");
        requests.spawn(async move {
            let response = http()
                .post(token_url)
                .basic_auth("web", Some(secret))
                .form(&[("grant_type", "client_credentials"), ("scope", "api.read")])
                .send()
                .await
                .unwrap();
            (secret, response.status().as_u16())
        });
    }
    let mut answered = 0;
    while let Some(answer) = requests.join_next().await {
        let (secret, status) = answer.unwrap();
        let expected = if secret == SECRET { 200 } else { 401 };
        assert_eq!(status, expected, "secret {secret:?}");
        answered += 1;
    }
    assert_eq!(answered, 24);
}

#[tokio::test]
async fn a_disabled_person_s_tokens_stop_working_at_their_next_use() {
    let server = TestServer::start().await;
    let ann = server.add_user("ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let http = http();
    let sign_in = |code_for_scopes: &'static [&'static str]| {
        let (server, rp) = (&server, &rp);
        async move { code_for(server, rp, &browser(), "ann@example.com", code_for_scopes).await }
    };
    let (code, start) = sign_in(&["openid", "email", "offline_access"]).await;
    let tokens = redeem(&rp, code, &start).await;
    let access = tokens.access_token().clone();
    let refresh = tokens.refresh_token().unwrap().clone();
    // Both kinds of token are introspected as a client library does (a refresh token as a token).
    let introspect = |token: String| {
        let (rp, http) = (&rp, &http);
        async move {
            rp.introspect(&openidconnect::AccessToken::new(token))
                .request_async(http)
                .await
                .unwrap()
                .active()
        }
    };
    let userinfo = || {
        http.get(server.url("/userinfo"))
            .bearer_auth(access.secret())
            .send()
    };
    // Each token is used once first, so the node has verified it and remembers the signature.
    assert_eq!(userinfo().await.unwrap().status(), 200);
    assert!(introspect(access.secret().clone()).await);
    assert!(introspect(refresh.secret().clone()).await);
    // A code minted before the account is disabled, redeemed after.
    let (late_code, late_start) = sign_in(&["openid"]).await;

    assert!(server.db.disable_user(&ann, server.now()).await.unwrap());

    assert_eq!(userinfo().await.unwrap().status(), 401);
    assert!(
        !introspect(access.secret().clone()).await,
        "the access token introspects as inactive"
    );
    assert!(!introspect(refresh.secret().clone()).await);
    let refreshed = token_request(
        &server,
        ("web", SECRET),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.secret()),
        ],
    )
    .await;
    assert_eq!(error_of(refreshed).await, (400, "invalid_grant".into()));
    let form = [
        ("grant_type", "authorization_code"),
        ("code", late_code.as_str()),
        ("redirect_uri", WEB_CB),
        ("code_verifier", late_start.verifier.secret().as_str()),
    ];
    let redeemed = token_request(&server, ("web", SECRET), &form).await;
    assert_eq!(error_of(redeemed).await, (400, "invalid_grant".into()));
}
