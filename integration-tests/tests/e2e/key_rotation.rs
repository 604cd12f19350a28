//! Key rotation: new keys are published before they sign, old keys verify until their tokens expire.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::{OAuth2TokenResponse as _, TokenResponse as _};

use crate::harness::*;

const WEB_CB: &str = "http://localhost/web/callback";

fn kid(jwt: &str) -> String {
    let header: serde_json::Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(jwt.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

async fn jwks_kids(server: &TestServer) -> Vec<String> {
    let jwks: serde_json::Value = http()
        .get(server.url("/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

async fn client_token(server: &TestServer) -> String {
    let response = token_request(
        server,
        ("web", SECRET),
        &[("grant_type", "client_credentials")],
    )
    .await;
    let body: serde_json::Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn rotated_keys_are_published_first_then_sign_while_old_tokens_keep_working() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let (code, start) = code_for(&server, &rp, &browser(), "ann@example.com", &["openid"]).await;
    let before = redeem(&rp, code, &start).await;
    let old_kid = kid(before.access_token().secret());
    assert_eq!(jwks_kids(&server).await.len(), 3);

    let new_kids = server.provider.rotate_keys().await.unwrap();
    let published = jwks_kids(&server).await;
    assert_eq!(published.len(), 6);
    assert!(
        new_kids.iter().all(|k| published.contains(k)),
        "new keys are published at once"
    );
    assert_eq!(
        kid(&client_token(&server).await),
        old_kid,
        "but do not sign yet"
    );
    // A relying party that refreshes its JWKS cache (max-age=60) during this window learns the new keys.
    let refreshed_rp = server.rp("web", WEB_CB).await;

    server.clock.advance(gatehouse_oidc::KEY_PUBLISH_AHEAD + 1);
    assert!(
        server.provider.reload_keys().await.unwrap(),
        "the takeover is noticed on reload"
    );
    let after = client_token(&server).await;
    assert!(
        new_kids.contains(&kid(&after)),
        "new keys sign after the publish-ahead time"
    );
    assert!(
        jwks_kids(&server).await.contains(&old_kid),
        "old keys stay published"
    );

    let userinfo = http()
        .get(server.url("/userinfo"))
        .bearer_auth(before.access_token().secret())
        .send()
        .await
        .unwrap();
    assert_eq!(
        userinfo.status(),
        200,
        "a token signed before the rotation still works"
    );

    // ...and verifies ID tokens signed by them after the takeover.
    let (code, start) = code_for(
        &server,
        &refreshed_rp,
        &browser(),
        "ann@example.com",
        &["openid"],
    )
    .await;
    let tokens = redeem(&refreshed_rp, code, &start).await;
    let id_token = tokens.id_token().unwrap();
    id_token
        .claims(&refreshed_rp.id_token_verifier(), &start.nonce)
        .unwrap();
    assert!(new_kids.contains(&kid(&id_token.to_string())));

    // Once every token the old keys signed has expired, they leave the JWKS.
    server
        .clock
        .advance(server.provider.lifetimes.verify_window() + 1);
    server.provider.reload_keys().await.unwrap();
    let remaining = jwks_kids(&server).await;
    assert_eq!(remaining.len(), 3);
    assert!(!remaining.contains(&old_kid));
}
