//! Accounts imported with `gatehouse user import` and a password hash from the old system: the first
//! sign-in verifies the legacy hash and replaces it by argon2id at once; a wrong password is an
//! ordinary failure and leaves the hash alone; an account imported without a hash cannot sign in.

use argon2::password_hash::{PasswordHasher as _, SaltString};
use gatehouse_store::users::User;

use crate::harness::*;

const WEB_CB: &str = "http://localhost/web/callback";
const OLD_PASSWORD: &str = "Tulip-Harbour-42";
/// PBKDF2-SHA256 of [`OLD_PASSWORD`], made with Python's hashlib, in Django's and passlib's encodings.
const DJANGO: &str = "pbkdf2_sha256$1000$seasalt$uK4wi2OtCy5tJsnbZdphdI2J9yzXsoBrf+Bnk/Gj3q8=";
const PASSLIB: &str =
    "$pbkdf2-sha256$29000$....AQIDBAUGBwgJCgsMDQ$7M9jAavfl.8ufVNZNQ4KllPYiLF/zatlEXRaV8QIWLg";

fn argon2_hash(algorithm: argon2::Algorithm) -> String {
    let params = argon2::Params::new(256, 2, 1, None).unwrap();
    argon2::Argon2::new(algorithm, argon2::Version::V0x13, params)
        .hash_password(
            OLD_PASSWORD.as_bytes(),
            &SaltString::encode_b64(b"sixteen byte slt").unwrap(),
        )
        .unwrap()
        .to_string()
}

/// (e-mail, legacy hash) for each format, imported through the operator's import code.
async fn import_legacy_accounts(server: &TestServer) -> Vec<(String, String)> {
    let accounts = vec![
        (
            "bcrypt@example.com".to_owned(),
            bcrypt::hash(OLD_PASSWORD, 4).unwrap(),
        ),
        (
            "bcrypt2y@example.com".to_owned(),
            bcrypt::hash(OLD_PASSWORD, 4)
                .unwrap()
                .replacen("$2b$", "$2y$", 1),
        ),
        ("django@example.com".to_owned(), DJANGO.to_owned()),
        ("passlib@example.com".to_owned(), PASSLIB.to_owned()),
        (
            "argon2id@example.com".to_owned(),
            argon2_hash(argon2::Algorithm::Argon2id),
        ),
        (
            "argon2i@example.com".to_owned(),
            argon2_hash(argon2::Algorithm::Argon2i),
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("legacy.jsonl");
    let mut lines: Vec<String> = accounts
        .iter()
        .enumerate()
        .map(|(i, (email, hash))| {
            serde_json::json!({ "email": email, "name": "Old Customer", "username": format!("cust{i}"), "password_hash": hash })
                .to_string()
        })
        .collect();
    lines
        .push(r#"{"email": "nohash@example.com", "name": "No Hash", "username": "cust99"}"#.into());
    std::fs::write(&file, lines.join("\n")).unwrap();
    let report = gatehouse::import::import(&server.db, &file, &["default"], server.now())
        .await
        .unwrap();
    assert_eq!(report.bad(), 0, "{:?}", report.rows);
    assert_eq!(report.rows.len(), accounts.len() + 1);
    accounts
}

async fn user(server: &TestServer, email: &str) -> User {
    server.db.user_by_email(email).await.unwrap().unwrap()
}

/// A fresh browser signing in to the `web` client; the response to the login form.
async fn try_sign_in(server: &TestServer, email: &str, password: &str) -> reqwest::Response {
    let rp = server.rp("web", WEB_CB).await;
    let browser = browser();
    let (flow, csrf) = open_login(&browser, authorization_url(&rp, &["openid"]).url.as_str()).await;
    post_login(server, &browser, &flow, &csrf, email, password).await
}

#[tokio::test]
async fn first_sign_in_with_each_legacy_format_upgrades_the_hash_to_argon2id() {
    let server = TestServer::start().await;
    let accounts = import_legacy_accounts(&server).await;
    for (email, legacy) in &accounts {
        assert_eq!(&user(&server, email).await.password_hash, legacy);

        // A wrong password is refused like any other, and the legacy hash stays.
        let wrong = try_sign_in(&server, email, "Tulip-Harbour-43").await;
        assert_eq!(wrong.status(), 200, "{email}: a wrong password is refused");
        assert!(
            wrong.text().await.unwrap().contains("is not right"),
            "{email}"
        );
        assert_eq!(&user(&server, email).await.password_hash, legacy, "{email}");

        let right = try_sign_in(&server, email, OLD_PASSWORD).await;
        assert_eq!(right.status(), 303, "{email}: the old password works");
        assert!(
            location(&right).starts_with(WEB_CB),
            "{email}: {}",
            location(&right)
        );
        let upgraded = user(&server, email).await.password_hash;
        assert!(
            upgraded.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{email}: {upgraded}"
        );
        assert!(
            server
                .passwords
                .verify(Some(&upgraded), &OLD_PASSWORD.into())
        );

        // The password still works against the new hash, which is not replaced again.
        let again = try_sign_in(&server, email, OLD_PASSWORD).await;
        assert_eq!(again.status(), 303, "{email}");
        assert_eq!(
            user(&server, email).await.password_hash,
            upgraded,
            "{email}"
        );
        let wrong = try_sign_in(&server, email, "Tulip-Harbour-43").await;
        assert_eq!(wrong.status(), 200, "{email}");
    }
}

#[tokio::test]
async fn an_account_imported_without_a_hash_cannot_sign_in_and_keeps_its_username() {
    let server = TestServer::start().await;
    import_legacy_accounts(&server).await;
    for password in ["", "!", OLD_PASSWORD] {
        let response = try_sign_in(&server, "nohash@example.com", password).await;
        assert_eq!(response.status(), 200, "{password:?} is refused");
    }
    let by_username = server
        .db
        .user_by_legacy_username("CUST99")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_username.email, "nohash@example.com");
}

#[tokio::test]
async fn a_legacy_hash_counts_wrong_passwords_towards_the_throttle() {
    let server = TestServer::start().await;
    import_legacy_accounts(&server).await;
    let mut last = 0;
    for _ in 0..20 {
        let response = try_sign_in(&server, "django@example.com", "guess-guess").await;
        last = response.status().as_u16();
        if last == 429 {
            break;
        }
    }
    assert_eq!(
        last, 429,
        "wrong passwords against a legacy hash are throttled"
    );
    let response = try_sign_in(&server, "django@example.com", OLD_PASSWORD).await;
    assert_eq!(
        response.status(),
        429,
        "even the right one, while throttled"
    );
    assert_eq!(
        user(&server, "django@example.com").await.password_hash,
        DJANGO
    );
}
