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
    page_at(server, browser, &login).await
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

/// Copies the folder `from` into `to`, everything under it.
fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The home page, once it contains `wanted` (waiting at most ten seconds for a reload).
async fn home_once_it_shows(server: &TestServer, wanted: &str) -> String {
    let mut page = String::new();
    for _ in 0..100 {
        let response = browser().get(server.url("/")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        page = response.text().await.unwrap();
        if page.contains(wanted) {
            return page;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the home page never showed {wanted:?}:\n{page}");
}

#[tokio::test]
async fn with_dev_on_a_changed_template_or_message_shows_at_once_and_a_broken_one_changes_nothing()
{
    let folder = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("themes"), folder.path());
    let default = folder.path().join("default");
    let server = TestServer::start_with(&format!(
        "dev = true\ntheme_dir = {:?}\n",
        default.display().to_string()
    ))
    .await;
    home_once_it_shows(&server, "The sign-in service at").await;

    let messages = default.join("locales/en.ftl");
    let english = std::fs::read_to_string(&messages).unwrap();
    std::fs::write(
        &messages,
        english.replace(
            "home-lead = The sign-in service at",
            "home-lead = One sign-in for every app, at",
        ),
    )
    .unwrap();
    home_once_it_shows(&server, "One sign-in for every app, at").await;

    let template = default.join("home.html");
    let home = std::fs::read_to_string(&template).unwrap();
    std::fs::write(&template, home.replace("<h1>", "<h1 class=\"edited\">")).unwrap();
    home_once_it_shows(&server, "<h1 class=\"edited\">").await;

    // A broken template is refused; the page keeps working as it was.
    std::fs::write(
        &template,
        "{% extends \"base.html\" %}{% block content %}{% if %}",
    )
    .unwrap();
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let page = home_once_it_shows(&server, "<h1 class=\"edited\">").await;
    assert!(page.contains("One sign-in for every app, at"));
    std::fs::write(&template, home.replace("<h1>", "<h1 class=\"fixed\">")).unwrap();
    home_once_it_shows(&server, "<h1 class=\"fixed\">").await;
}

#[tokio::test]
async fn without_dev_themes_stay_as_compiled_at_start() {
    let folder = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("themes"), folder.path());
    let default = folder.path().join("default");
    let server = TestServer::start_with(&format!(
        "theme_dir = {:?}\n",
        default.display().to_string()
    ))
    .await;
    home_once_it_shows(&server, "The sign-in service at").await;
    let template = default.join("home.html");
    let home = std::fs::read_to_string(&template).unwrap();
    std::fs::write(&template, home.replace("<h1>", "<h1 class=\"edited\">")).unwrap();
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let page = page_at(&server, &browser(), "/").await;
    assert!(!page.contains("edited"), "compiled once at start");
}
