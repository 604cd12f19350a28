//! Passkeys end to end: created on the account page, used as the second step, and used alone. The
//! authenticator is 1Password's `passkey` crate (CTAP2 behind a browser-like WebAuthn client), fed the
//! options embedded in the page and answering with browser-style JSON, as `static/passkey.js` would.

use passkey::authenticator::{Authenticator, UiHint, UserCheck, UserValidationMethod};
use passkey::client::{Client, DefaultClientData};
use passkey::types::Passkey as DeviceKey;
use passkey::types::ctap2::{Aaguid, Ctap2Error};
use passkey::types::webauthn::{CredentialCreationOptions, CredentialRequestOptions};
use serde_json::Value;

use crate::harness::*;
use crate::second_factor::{account_page, reach_challenge};

const WEB_CB: &str = "http://localhost/web/callback";

/// The person at the authenticator: present, and passing the PIN or biometric check when asked.
struct Person;

#[async_trait::async_trait]
impl UserValidationMethod for Person {
    type PasskeyItem = DeviceKey;

    async fn check_user<'a>(
        &self,
        _hint: UiHint<'a, DeviceKey>,
        presence: bool,
        verification: bool,
    ) -> Result<UserCheck, Ctap2Error> {
        Ok(UserCheck {
            presence,
            verification,
        })
    }

    fn is_presence_enabled(&self) -> bool {
        true
    }

    fn is_verification_enabled(&self) -> Option<bool> {
        Some(true)
    }
}

/// A phone or laptop holding one passkey, used from pages at the server's origin.
struct Device {
    client: Client<
        Option<DeviceKey>,
        Person,
        passkey::crypto::rust_crypto::RustCryptoBackend,
        public_suffix::PublicSuffixList,
        (),
    >,
    origin: url::Url,
}

impl Device {
    fn new(server: &TestServer) -> Self {
        let authenticator = Authenticator::new(
            Aaguid::new_empty(),
            None,
            Person,
            passkey::crypto::rust_crypto::RustCryptoBackend,
        );
        Self {
            client: Client::new(authenticator).allows_insecure_localhost(true),
            origin: url::Url::parse(&server.issuer).unwrap(),
        }
    }

    async fn create(&mut self, options: Value) -> String {
        let request: CredentialCreationOptions = serde_json::from_value(options).unwrap();
        let credential = self
            .client
            .register(&self.origin, request, DefaultClientData)
            .await
            .unwrap();
        serde_json::to_string(&credential).unwrap()
    }

    async fn get(&mut self, options: Value) -> String {
        let request: CredentialRequestOptions = serde_json::from_value(options).unwrap();
        let credential = self
            .client
            .authenticate(&self.origin, request, DefaultClientData)
            .await
            .unwrap();
        serde_json::to_string(&credential).unwrap()
    }
}

/// The options a page embeds for `static/passkey.js`.
fn options(page: &str) -> Value {
    serde_json::from_str(between(page, "id=\"passkey-options\">", "</script>")).unwrap()
}

/// Creates a passkey on the account page; returns the page that follows.
async fn create_passkey(
    server: &TestServer,
    browser: &reqwest::Client,
    device: &mut Device,
    email: &str,
) -> String {
    account_page(server, browser, email).await;
    let page = page_at(server, browser, "/account/passkey").await;
    let selection = &options(&page)["publicKey"]["authenticatorSelection"];
    assert_eq!(selection["userVerification"], "required");
    assert_eq!(selection["residentKey"], "required");
    let credential = device.create(options(&page)).await;
    let response = submit_form_to(
        server,
        browser,
        &page,
        "/account/passkey",
        &[("credential", credential), ("label", "Laptop".into())],
    )
    .await;
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

async fn answer_with_passkey(
    server: &TestServer,
    browser: &reqwest::Client,
    flow: &str,
    csrf: &str,
    ceremony: &str,
    credential: &str,
) -> reqwest::Response {
    browser
        .post(server.url("/mfa"))
        .form(&[
            ("flow", flow),
            ("csrf", csrf),
            ("method", "passkey"),
            ("ceremony", ceremony),
            ("credential", credential),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn passkey_from_the_account_page_is_the_second_step_after_the_password() {
    let server = TestServer::start_on_localhost().await;
    server.add_user("ann@example.com").await;
    let mut device = Device::new(&server);
    let page = create_passkey(&server, &browser(), &mut device, "ann@example.com").await;
    assert!(
        page.contains("id=\"recovery-codes\""),
        "the first factor comes with recovery codes"
    );

    let rp = server.rp("web", WEB_CB).await;
    let browser = browser();
    let (flow, csrf, page, start) =
        reach_challenge(&server, &browser, &rp, "ann@example.com").await;
    assert!(
        page.contains("Use my passkey") && page.replace("&#x2f;", "/").contains("/passkey.js\"")
    );
    let credential = device.get(options(&page)).await;
    let response = answer_with_passkey(
        &server,
        &browser,
        &flow,
        &csrf,
        &form_value(&page, "ceremony"),
        &credential,
    )
    .await;
    assert_eq!(response.status(), 303);
    use sea_orm::{ConnectionTrait as _, Statement};
    let conn = server.db.connection();
    let left = conn
        .query_one(Statement::from_string(
            conn.get_database_backend(),
            "SELECT COUNT(*) AS n FROM ceremonies",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(
        left, 0,
        "every ceremony was taken; a successful answer starts no new one"
    );
    let tokens = redeem(&rp, query(&location(&response))["code"].clone(), &start).await;
    // The software authenticator is backup-eligible, like a synced passkey: a software key.
    assert_eq!(
        assurance(&tokens, &rp, &start),
        (
            vec!["pwd".into(), "swk".into(), "mfa".into()],
            "urn:gatehouse:acr:phishing-resistant".into()
        )
    );
}

#[tokio::test]
async fn signing_in_with_a_passkey_alone_counts_as_multi_factor() {
    let server = TestServer::start_on_localhost().await;
    server.add_user("ann@example.com").await;
    let mut device = Device::new(&server);
    create_passkey(&server, &browser(), &mut device, "ann@example.com").await;

    let rp = server.rp("web", WEB_CB).await;
    let browser = browser();
    let start = authorization_url(&rp, &["openid"]);
    let (flow, _) = open_login(&browser, start.url.as_str()).await;
    let login = page_at(&server, &browser, &format!("/login?flow={flow}")).await;
    assert!(login.contains("Sign in with a passkey"));
    let page = page_at(&server, &browser, &format!("/login/passkey?flow={flow}")).await;
    assert_eq!(
        options(&page)["publicKey"]["allowCredentials"],
        serde_json::json!([]),
        "no user is named before the passkey answers"
    );
    let credential = device.get(options(&page)).await;
    let response = submit_form_to(
        &server,
        &browser,
        &page,
        "/login/passkey",
        &[("flow", flow.clone()), ("credential", credential)],
    )
    .await;
    assert_eq!(response.status(), 303);
    let tokens = redeem(&rp, query(&location(&response))["code"].clone(), &start).await;
    assert_eq!(
        assurance(&tokens, &rp, &start),
        (
            vec!["swk".into(), "mfa".into()],
            "urn:gatehouse:acr:phishing-resistant".into()
        )
    );
}

#[tokio::test]
async fn a_passkey_answer_counts_once_and_only_for_its_own_ceremony() {
    let server = TestServer::start_on_localhost().await;
    server.add_user("ann@example.com").await;
    let mut device = Device::new(&server);
    create_passkey(&server, &browser(), &mut device, "ann@example.com").await;
    let rp = server.rp("web", WEB_CB).await;
    let browser = browser();
    let (flow, csrf, first, _) = reach_challenge(&server, &browser, &rp, "ann@example.com").await;
    let answer_to_first = device.get(options(&first)).await;
    // Opening the page again starts a second ceremony; the first answer does not fit it.
    let second = page_at(
        &server,
        &browser,
        &format!("/mfa?flow={flow}&method=passkey"),
    )
    .await;
    let wrong = answer_with_passkey(
        &server,
        &browser,
        &flow,
        &csrf,
        &form_value(&second, "ceremony"),
        &answer_to_first,
    )
    .await;
    assert_eq!(wrong.status(), 200);
    assert!(wrong.text().await.unwrap().contains("not right"));
    // The first ceremony is still unused and accepts its own answer once…
    let right = answer_with_passkey(
        &server,
        &browser,
        &flow,
        &csrf,
        &form_value(&first, "ceremony"),
        &answer_to_first,
    )
    .await;
    assert_eq!(right.status(), 303);
    // …and never again, even in a new sign-in.
    let other = crate::harness::browser();
    let (flow, csrf, _, _) = reach_challenge(&server, &other, &rp, "ann@example.com").await;
    let replay = answer_with_passkey(
        &server,
        &other,
        &flow,
        &csrf,
        &form_value(&first, "ceremony"),
        &answer_to_first,
    )
    .await;
    assert_eq!(replay.status(), 200);
}

#[tokio::test]
async fn another_users_passkey_cannot_be_the_second_step() {
    let server = TestServer::start_on_localhost().await;
    server.add_user("ann@example.com").await;
    server.add_user("bo@example.com").await;
    let mut anns_device = Device::new(&server);
    create_passkey(&server, &browser(), &mut anns_device, "ann@example.com").await;
    create_passkey(
        &server,
        &browser(),
        &mut Device::new(&server),
        "bo@example.com",
    )
    .await;

    let rp = server.rp("web", WEB_CB).await;
    let browser = browser();
    let (flow, csrf, page, _) = reach_challenge(&server, &browser, &rp, "bo@example.com").await;
    // Ann's client ignores the list that names only Bo's passkey and answers with hers.
    let mut bos_options = options(&page);
    bos_options["publicKey"]["allowCredentials"] = serde_json::json!([]);
    let anns_answer = anns_device.get(bos_options).await;
    let response = answer_with_passkey(
        &server,
        &browser,
        &flow,
        &csrf,
        &form_value(&page, "ceremony"),
        &anns_answer,
    )
    .await;
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("not right"));
}

#[tokio::test]
async fn passkeys_are_off_when_the_issuer_is_an_ip_address() {
    let server = TestServer::start().await;
    server.add_user("ann@example.com").await;
    let browser = browser();
    let account = account_page(&server, &browser, "ann@example.com").await;
    assert!(!account.contains("Create a passkey"));
    let response = browser
        .get(server.url("/account/passkey"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Passkeys are not available here")
    );
}
