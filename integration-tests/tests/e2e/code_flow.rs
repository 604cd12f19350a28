//! The authorization code flow as a certified client library runs it.

use openidconnect::core::{CoreIdTokenVerifier, CoreRevocableToken, CoreUserInfoClaims};

async fn token_post(server: &TestServer, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    http()
        .post(server.url(path))
        .basic_auth("web", Some(SECRET))
        .form(form)
        .send()
        .await
        .unwrap()
}
use openidconnect::{
    AccessTokenHash, AuthType, OAuth2TokenResponse as _, TokenIntrospectionResponse as _,
    TokenResponse as _,
};

use crate::harness::*;

const WEB_CB: &str = "http://localhost/web/callback";

#[tokio::test]
async fn confidential_client_signs_in_refreshes_introspects_and_revokes() {
    let server = TestServer::start().await;
    let sub = server.add_user("ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let start = authorization_url(&rp, &["openid", "profile", "email", "offline_access"]);
    let browser = browser();

    let callback = sign_in(&server, &browser, start.url.as_str(), "Ann@Example.com").await;
    assert!(callback.starts_with(WEB_CB), "{callback}");
    let params = query(&callback);
    assert_eq!(params["state"], *start.state.secret());
    // RFC 9207: the issuer on every authorization response.
    assert_eq!(params["iss"], server.issuer);

    let http = http();
    let tokens = redeem(&rp, params["code"].clone(), &start).await;
    let id_token = tokens.id_token().expect("an ID token");
    let verifier = rp.id_token_verifier();
    let claims = id_token
        .claims(&verifier, &start.nonce)
        .expect("signature, issuer, audience and nonce verify");
    assert_eq!(claims.subject().as_str(), sub);
    assert_eq!(claims.email().unwrap().as_str(), "ann@example.com");
    assert!(claims.auth_time().is_some());
    let amr: Vec<String> = claims
        .auth_method_refs()
        .unwrap()
        .iter()
        .map(|a| a.to_string())
        .collect();
    assert_eq!(amr, ["pwd"]);
    assert!(claims.auth_context_ref().is_some());
    let expected = claims.access_token_hash().expect("at_hash");
    let actual = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(&actual, expected);

    let info: CoreUserInfoClaims = rp
        .user_info(tokens.access_token().clone(), None)
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    assert_eq!(info.subject().as_str(), sub);
    assert_eq!(info.email().unwrap().as_str(), "ann@example.com");

    let refresh = tokens
        .refresh_token()
        .expect("a refresh token for offline_access")
        .clone();
    let refreshed = rp
        .exchange_refresh_token(&refresh)
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    let new_refresh = refreshed
        .refresh_token()
        .expect("rotation returns a new refresh token")
        .clone();
    assert_ne!(new_refresh.secret(), refresh.secret());
    let refreshed_id = refreshed.id_token().unwrap();
    let refreshed_claims = refreshed_id
        .claims(&verifier, |_: Option<&openidconnect::Nonce>| Ok(()))
        .unwrap();
    assert_eq!(refreshed_claims.subject().as_str(), sub);

    let active = rp
        .introspect(refreshed.access_token())
        .request_async(&http)
        .await
        .unwrap();
    assert!(active.active());
    assert_eq!(active.sub(), Some(sub.as_str()));
    let refresh_info = rp
        .introspect(&openidconnect::AccessToken::new(
            new_refresh.secret().clone(),
        ))
        .request_async(&http)
        .await
        .unwrap();
    assert!(
        refresh_info.active(),
        "a live refresh token introspects as active"
    );

    // openidconnect refuses to send a revocation over plain http (RFC 7009 §2 requires TLS), and these
    // tests run on http://127.0.0.1: the library builds the request, we send it.
    assert!(
        rp.revoke_token(CoreRevocableToken::from(new_refresh.clone()))
            .is_err_and(|e| format!("{e:?}").contains("InsecureUrl"))
    );
    let revoked = token_post(
        &server,
        "/revoke",
        &[
            ("token", new_refresh.secret()),
            ("token_type_hint", "refresh_token"),
        ],
    )
    .await;
    assert_eq!(revoked.status(), 200);
    let after = rp
        .introspect(refreshed.access_token())
        .request_async(&http)
        .await
        .unwrap();
    assert!(
        !after.active(),
        "revoking the refresh token revokes the grant's access tokens"
    );
    assert!(
        rp.exchange_refresh_token(&new_refresh)
            .unwrap()
            .request_async(&http)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn public_client_with_es256_and_client_with_eddsa_verify_in_the_library() {
    let server = TestServer::start().await;
    server.add_user("bo@example.com").await;
    for (client, callback, alg) in [
        ("spa", "http://localhost/spa/callback", "ES256"),
        ("other", WEB_CB, "EdDSA"),
    ] {
        let rp = server.rp(client, callback).await;
        let start = authorization_url(&rp, &["openid", "email"]);
        let location = sign_in(&server, &browser(), start.url.as_str(), "bo@example.com").await;
        let code = query(&location)["code"].clone();
        let tokens = redeem(&rp, code, &start).await;
        let id_token = tokens.id_token().unwrap();
        let verifier: CoreIdTokenVerifier = rp.id_token_verifier();
        let verifier = verifier.set_allowed_algs(vec![
            serde_json::from_value(serde_json::json!(alg)).unwrap(),
        ]);
        let claims = id_token
            .claims(&verifier, &start.nonce)
            .unwrap_or_else(|e| panic!("{client}: {e}"));
        let actual = AccessTokenHash::from_token(
            tokens.access_token(),
            id_token.signing_alg().unwrap(),
            id_token.signing_key(&verifier).unwrap(),
        )
        .unwrap();
        assert_eq!(Some(&actual), claims.access_token_hash(), "{alg} at_hash");
        assert_eq!(
            serde_json::to_value(id_token.signing_alg().unwrap()).unwrap(),
            serde_json::json!(alg)
        );
    }
}

#[tokio::test]
async fn client_secret_post_works_like_basic() {
    let server = TestServer::start().await;
    server.add_user("cy@example.com").await;
    let rp = server
        .rp("web", WEB_CB)
        .await
        .set_auth_type(AuthType::RequestBody);
    let start = authorization_url(&rp, &["openid"]);
    let location = sign_in(&server, &browser(), start.url.as_str(), "cy@example.com").await;
    let tokens = redeem(&rp, query(&location)["code"].clone(), &start).await;
    assert!(tokens.id_token().is_some());
    assert!(
        tokens.refresh_token().is_none(),
        "no refresh token without offline_access"
    );
}

#[tokio::test]
async fn client_credentials_issue_a_token_that_introspects_but_cannot_read_userinfo() {
    let server = TestServer::start().await;
    let rp = server.rp("web", WEB_CB).await;
    let http = http();
    let tokens = rp
        .exchange_client_credentials()
        .unwrap()
        .add_scope(openidconnect::Scope::new("api.read".into()))
        .request_async(&http)
        .await
        .unwrap();
    let info = rp
        .introspect(tokens.access_token())
        .request_async(&http)
        .await
        .unwrap();
    assert!(info.active());
    assert_eq!(info.client_id().map(|c| c.as_str()), Some("web"));
    let userinfo = http
        .get(server.url("/userinfo"))
        .bearer_auth(tokens.access_token().secret())
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), 403);

    let refused = rp
        .exchange_client_credentials()
        .unwrap()
        .add_scope(openidconnect::Scope::new("openid".into()))
        .request_async(&http)
        .await;
    assert!(refused.is_err(), "user scopes mean nothing without a user");
}

#[tokio::test]
async fn discovery_matches_what_the_server_does() {
    let server = TestServer::start().await;
    let doc: serde_json::Value = http()
        .get(server.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["issuer"], server.issuer);
    assert_eq!(
        doc["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    for endpoint in [
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "revocation_endpoint",
        "introspection_endpoint",
        "end_session_endpoint",
    ] {
        let url = doc[endpoint].as_str().unwrap();
        assert!(url.starts_with(&server.issuer), "{endpoint}: {url}");
        let status = http().get(url).send().await.unwrap().status();
        assert_ne!(status, 404, "{endpoint} is served");
    }
    let jwks: serde_json::Value = http()
        .get(doc["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut algs: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["alg"].as_str().unwrap())
        .collect();
    algs.sort();
    assert_eq!(algs, ["ES256", "EdDSA", "RS256"]);
    let mut advertised: Vec<&str> = doc["id_token_signing_alg_values_supported"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    advertised.sort();
    assert_eq!(advertised, algs);
}
