//! Themes: a client's theme on its sign-in pages, else the person's organisation's after the
//! password, else the default; theme assets under URLs that change with their content.

use crate::harness::*;
use crate::second_factor::account_page;

fn decoded(page: &str) -> String {
    page.replace("&#x2f;", "/")
}

/// The URL of the theme's generated colour sheet on a page, if the page uses one.
fn theme_css(page: &str) -> Option<String> {
    decoded(page)
        .split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .find(|url| url.starts_with("/assets/harbour/") && url.ends_with("/theme.css"))
        .map(str::to_owned)
}

async fn login_page(
    server: &TestServer,
    browser: &reqwest::Client,
    client: &str,
    cb: &str,
) -> String {
    let rp = server.rp(client, cb).await;
    let start = authorization_url(&rp, &["openid"]);
    let login = location(&browser.get(start.url.clone()).send().await.unwrap());
    browser
        .get(server.url(&login))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_clients_theme_colours_its_sign_in_pages_and_other_clients_keep_the_default() {
    let server = TestServer::start().await;
    let themed = login_page(&server, &browser(), "spa", "http://localhost/spa/callback").await;
    let css = theme_css(&themed).expect("the harbour colours on the spa's sign-in page");
    assert!(
        decoded(&themed).contains("alt=\"Harbour Hosting\""),
        "the logo"
    );

    let plain = login_page(&server, &browser(), "web", "http://localhost/web/callback").await;
    assert!(theme_css(&plain).is_none(), "the web shop has no theme");
    assert!(decoded(&plain).contains("/assets/default/"));

    let sheet = http().get(server.url(&css)).send().await.unwrap();
    assert_eq!(sheet.status(), 200);
    assert_eq!(
        sheet.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(sheet.text().await.unwrap().contains("--accent: #0b5d4b;"));
    let stale = css
        .replace("/theme.css", "")
        .rsplit_once('/')
        .unwrap()
        .0
        .to_owned()
        + "/0000000000/theme.css";
    assert_eq!(
        http()
            .get(server.url(&stale))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

#[tokio::test]
async fn after_the_password_the_organisations_theme_is_used() {
    let server = TestServer::start().await;
    server.add_user_in("ann@example.com", "flexible").await;
    server.add_user("bo@example.com").await;
    let account = account_page(&server, &browser(), "ann@example.com").await;
    assert!(theme_css(&account).is_some(), "Ann's organisation's theme");
    let account = account_page(&server, &browser(), "bo@example.com").await;
    assert!(theme_css(&account).is_none(), "Bo's organisation has none");
}
