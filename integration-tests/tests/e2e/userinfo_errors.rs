//! Tokens the userinfo endpoint must refuse.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::OAuth2TokenResponse as _;

use crate::harness::*;

const WEB_CB: &str = "http://localhost/web/callback";

async fn access_token(server: &TestServer) -> String {
    server.add_user("ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let (code, start) = code_for(
        server,
        &rp,
        &browser(),
        "ann@example.com",
        &["openid", "email"],
    )
    .await;
    let tokens = redeem(&rp, code, &start).await;
    tokens.access_token().secret().clone()
}

async fn userinfo(server: &TestServer, token: &str) -> reqwest::Response {
    http()
        .get(server.url("/userinfo"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

fn assert_invalid_token(response: &reqwest::Response) {
    assert_eq!(response.status(), 401);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.starts_with("Bearer") && challenge.contains("error=\"invalid_token\""),
        "{challenge}"
    );
}

#[tokio::test]
async fn good_token_works_by_get_and_post() {
    let server = TestServer::start().await;
    let token = access_token(&server).await;
    let response = userinfo(&server, &token).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let posted = http()
        .post(server.url("/userinfo"))
        .form(&[("access_token", token.as_str())])
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = posted.json().await.unwrap();
    assert_eq!(body["email"], "ann@example.com");
}

#[tokio::test]
async fn alg_none_token_is_refused() {
    let server = TestServer::start().await;
    let token = access_token(&server).await;
    let mut parts = token.split('.');
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap()).unwrap();
    let payload = parts.next().unwrap();
    let forged_header = serde_json::json!({ "alg": "none", "typ": "at+jwt", "kid": header["kid"] });
    let forged = format!(
        "{}.{payload}.",
        URL_SAFE_NO_PAD.encode(forged_header.to_string())
    );
    assert_invalid_token(&userinfo(&server, &forged).await);
}

#[tokio::test]
async fn token_signed_by_a_foreign_key_is_refused() {
    let server = TestServer::start().await;
    let token = access_token(&server).await;
    let payload = token.split('.').nth(1).unwrap();
    let claims = URL_SAFE_NO_PAD.decode(payload).unwrap();
    // Same claims, same kid, signed with a key the attacker made.
    let kid: serde_json::Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    let pair = josekit::jws::RS256.generate_key_pair(2048).unwrap();
    let signer = josekit::jws::RS256
        .signer_from_der(pair.to_der_private_key())
        .unwrap();
    let mut header = josekit::jws::JwsHeader::new();
    header.set_token_type("at+jwt");
    header.set_key_id(kid["kid"].as_str().unwrap());
    let forged = josekit::jws::serialize_compact(&claims, &header, &signer).unwrap();
    assert_invalid_token(&userinfo(&server, &forged).await);
}

#[tokio::test]
async fn id_token_presented_as_access_token_is_refused() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let (code, start) = code_for(&server, &rp, &browser(), "ann@example.com", &["openid"]).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", WEB_CB),
        ("code_verifier", start.verifier.secret().as_str()),
    ];
    let body: serde_json::Value = token_request(&server, ("web", SECRET), &form)
        .await
        .json()
        .await
        .unwrap();
    assert_invalid_token(&userinfo(&server, body["id_token"].as_str().unwrap()).await);
}

#[tokio::test]
async fn expired_and_revoked_tokens_are_refused() {
    // Each token is accepted once first, so the node has checked its signature and remembers it:
    // that must not outlive the revocation or the expiry.
    let server = TestServer::start().await;
    let token = access_token(&server).await;
    assert_eq!(userinfo(&server, &token).await.status(), 200);
    let revoke = http()
        .post(server.url("/revoke"))
        .basic_auth("web", Some(SECRET))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 200);
    assert_invalid_token(&userinfo(&server, &token).await);

    let server = TestServer::start().await;
    let token = access_token(&server).await;
    assert_eq!(userinfo(&server, &token).await.status(), 200);
    server.clock.advance(601);
    assert_invalid_token(&userinfo(&server, &token).await);
}

#[tokio::test]
async fn missing_or_garbage_token_is_refused() {
    let server = TestServer::start().await;
    let none = http().get(server.url("/userinfo")).send().await.unwrap();
    assert_eq!(none.status(), 401);
    assert_eq!(
        none.headers()["www-authenticate"],
        "Bearer realm=\"gatehouse\""
    );
    assert_invalid_token(&userinfo(&server, "garbage").await);
    assert_invalid_token(&userinfo(&server, "a.b.c").await);
}

#[tokio::test]
async fn revoking_someone_elses_token_does_nothing() {
    let server = TestServer::start().await;
    let token = access_token(&server).await;
    let response = http()
        .post(server.url("/revoke"))
        .basic_auth("other", Some(OTHER_SECRET))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "RFC 7009: always 200");
    assert_eq!(userinfo(&server, &token).await.status(), 200);
}

#[tokio::test]
async fn introspection_needs_a_confidential_client() {
    let server = TestServer::start().await;
    let token = access_token(&server).await;
    let public = http()
        .post(server.url("/introspect"))
        .form(&[("token", token.as_str()), ("client_id", "spa")])
        .send()
        .await
        .unwrap();
    assert_eq!(public.status(), 401);
    let anonymous = http()
        .post(server.url("/introspect"))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let garbage = http()
        .post(server.url("/introspect"))
        .basic_auth("web", Some(SECRET))
        .form(&[("token", "garbage")])
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = garbage.json().await.unwrap();
    assert_eq!(body, serde_json::json!({ "active": false }));
}
