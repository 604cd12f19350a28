//! The operator's command line, run as a real process against a temporary configuration.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test by panicking"
)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

struct Setup {
    dir: tempfile::TempDir,
    master_key: String,
}

impl Setup {
    fn new(client: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let clients = dir.path().join("clients");
        std::fs::create_dir(&clients).unwrap();
        std::fs::write(clients.join("app.toml"), client).unwrap();
        let config = format!(
            "data_dir = {:?}\nclients_dir = {:?}\ntheme_dir = {:?}\n",
            dir.path().join("data").display().to_string(),
            clients.display().to_string(),
            root.join("themes/default").display().to_string(),
        );
        std::fs::write(dir.path().join("gatehouse.toml"), config).unwrap();
        Self {
            dir,
            master_key: "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".into(),
        }
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("gatehouse.toml")
    }

    fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
            .arg("--config")
            .arg(self.config())
            .args(args)
            .env("GATEHOUSE_MASTER_KEY", &self.master_key)
            .env_remove("DATABASE_URL")
            .env_remove("GATEHOUSE_DATABASE_URL")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const CLIENT: &str = r#"
client_id = "app"
name = "App"
type = "public"
redirect_uris = ["https://app.example/cb"]
"#;

#[test]
fn check_config_accepts_a_good_configuration() {
    let setup = Setup::new(CLIENT);
    let out = setup.run(&["check-config"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("ok (1 clients)"));
}

#[test]
fn check_config_names_file_field_and_problem() {
    let setup = Setup::new(&CLIENT.replace("https://app.example/cb", "http://app.example/cb"));
    let out = setup.run(&["check-config"], "");
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("app.toml: redirect_uris[0]") && err.contains("only https is allowed"),
        "{err}"
    );
}

#[test]
fn missing_master_key_outside_demo_stops_start_up() {
    let mut setup = Setup::new(CLIENT);
    setup.master_key = String::new();
    let out = setup.run(&["check-config"], "");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("master_key"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn user_add_reads_the_password_from_stdin_and_user_list_shows_it() {
    let setup = Setup::new(CLIENT);
    let out = setup.run(
        &["user", "add", "--email", "Ann@Example.com", "--name", "Ann"],
        "A long password 42\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let again = setup.run(
        &["user", "add", "--email", "ann@example.com", "--name", "Ann"],
        "Another password 42\n",
    );
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains("already exists"));
    let short = setup.run(
        &["user", "add", "--email", "bo@example.com", "--name", "Bo"],
        "short\n",
    );
    assert!(!short.status.success());

    let list = text(&setup.run(&["user", "list"], "").stdout);
    assert!(
        list.contains("ann@example.com") && list.contains("active"),
        "{list}"
    );
    assert!(!list.contains("bo@example.com"));
    assert!(!list.contains("A long password 42"));
}

#[test]
fn user_add_takes_a_mobile_number_only_when_it_can_receive_codes() {
    let setup = Setup::new(CLIENT);
    let add = |email: &str, phone: &str| {
        setup.run(
            &[
                "user", "add", "--email", email, "--name", "Ann", "--phone", phone,
            ],
            "Kx7#mPq2vL-long\n",
        )
    };
    let landline = add("ann@example.com", "+31 20 123 4567");
    assert!(!landline.status.success());
    assert!(
        text(&landline.stderr).contains("not a mobile number"),
        "{}",
        text(&landline.stderr)
    );
    let mobile = add("ann@example.com", "+31 6 1234 5678");
    assert!(mobile.status.success(), "{}", text(&mobile.stderr));
}

#[test]
fn client_list_and_hash_secret() {
    let setup = Setup::new(CLIENT);
    let list = text(&setup.run(&["client", "list"], "").stdout);
    assert!(
        list.contains("app") && list.contains("public") && list.contains("https://app.example/cb"),
        "{list}"
    );
    let hash = text(
        &setup
            .run(&["client", "hash-secret"], "s3cret-of-a-client\n")
            .stdout,
    );
    assert!(hash.trim().starts_with("$argon2id$"), "{hash}");
}

#[test]
fn keys_rotate_makes_new_keys_and_migrate_is_idempotent() {
    let setup = Setup::new(CLIENT);
    assert!(setup.run(&["migrate"], "").status.success());
    assert!(setup.run(&["migrate"], "").status.success());
    let first = setup.run(&["keys", "rotate"], "");
    assert!(first.status.success(), "{}", text(&first.stderr));
    let second = text(&setup.run(&["keys", "rotate"], "").stdout);
    assert_ne!(text(&first.stdout), second);
    assert_eq!(
        second.matches("rs256-").count()
            + second.matches("es256-").count()
            + second.matches("eddsa-").count(),
        3,
        "{second}"
    );
}

#[test]
fn require_mfa_marks_a_user_and_org_list_shows_the_default_organisation() {
    let setup = Setup::new(CLIENT);
    assert!(
        setup
            .run(
                &[
                    "user",
                    "add",
                    "--email",
                    "staff@example.com",
                    "--name",
                    "Staff"
                ],
                "A long password 42\n"
            )
            .status
            .success()
    );
    let out = setup.run(&["user", "require-mfa", "staff@example.com"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&setup.run(&["user", "list"], "").stdout).contains("mfa required"));
    assert!(
        setup
            .run(&["user", "require-mfa", "staff@example.com", "--off"], "")
            .status
            .success()
    );
    assert!(!text(&setup.run(&["user", "list"], "").stdout).contains("mfa required"));

    let missing = setup.run(&["user", "require-mfa", "nobody@example.com"], "");
    assert!(!missing.status.success());
    assert!(text(&missing.stderr).contains("no user"));

    let orgs = text(&setup.run(&["org", "list"], "").stdout);
    assert!(
        orgs.contains("default")
            && orgs.contains("optional")
            && orgs.contains("composition, at least 8"),
        "{orgs}"
    );
    let unknown = setup.run(
        &[
            "user",
            "add",
            "--email",
            "x@example.com",
            "--name",
            "X",
            "--organisation",
            "nope",
        ],
        "A long password 42\n",
    );
    assert!(!unknown.status.success());
    assert!(text(&unknown.stderr).contains("no organisation"));
}

#[test]
fn reset_mfa_and_disable_write_audit_events() {
    let setup = Setup::new(CLIENT);
    assert!(
        setup
            .run(
                &["user", "add", "--email", "ann@example.com", "--name", "Ann"],
                "A long password 42\n"
            )
            .status
            .success()
    );
    let reset = setup.run(&["user", "reset-mfa", "ann@example.com"], "");
    assert!(reset.status.success(), "{}", text(&reset.stderr));
    assert!(text(&reset.stdout).contains("removed 0 second factor(s)"));
    let disable = setup.run(&["user", "disable", "ann@example.com"], "");
    assert!(disable.status.success(), "{}", text(&disable.stderr));
    assert!(text(&setup.run(&["user", "list"], "").stdout).contains("disabled"));
    let audit = text(
        &setup
            .run(&["audit", "--user", "ann@example.com"], "")
            .stdout,
    );
    assert!(
        audit.contains("mfa.reset")
            && audit.contains("user.disabled")
            && audit.contains("operator"),
        "{audit}"
    );
    assert!(
        !setup
            .run(&["audit", "--user", "nobody@example.com"], "")
            .status
            .success()
    );
}

#[test]
fn user_add_refuses_a_password_against_the_policy_with_every_reason() {
    let setup = Setup::new(CLIENT);
    let out = setup.run(
        &["user", "add", "--email", "ann@example.com", "--name", "Ann"],
        "ann-password\n",
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    for reason in [
        "Add an upper-case letter",
        "Add a digit",
        "Leave your e-mail address",
    ] {
        assert!(err.contains(reason), "{err}");
    }
    assert!(
        !err.contains("ann-password"),
        "the password is never echoed: {err}"
    );
    let common = setup.run(
        &["user", "add", "--email", "ann@example.com", "--name", "Ann"],
        "Password1!\n",
    );
    assert!(!common.status.success());
    assert!(text(&common.stderr).contains("too common"));
    assert!(!text(&setup.run(&["user", "list"], "").stdout).contains("ann@example.com"));
}

/// Vectors made with Python's hashlib (password "Tulip-Harbour-42").
const DJANGO_HASH: &str = "pbkdf2_sha256$1000$seasalt$uK4wi2OtCy5tJsnbZdphdI2J9yzXsoBrf+Bnk/Gj3q8=";
const PASSLIB_HASH: &str =
    "$pbkdf2-sha256$29000$....AQIDBAUGBwgJCgsMDQ$7M9jAavfl.8ufVNZNQ4KllPYiLF/zatlEXRaV8QIWLg";

#[test]
fn user_import_reports_bad_rows_by_line_imports_the_good_ones_and_is_idempotent() {
    let setup = Setup::new(CLIENT);
    let file = setup.dir.path().join("people.csv");
    std::fs::write(
        &file,
        format!(
            "\u{feff}email,name,username,organisation,password_hash\r\n\
             ann@example.com,Ann,Ann01,,{DJANGO_HASH}\n\
             bo@example.com,Bo,,,\n\
             not-an-address,X,x,,\n\
             cy@example.com,Cy,cy,nowhere,\n\
             dee@example.com,Dee,ANN01,,\n\
             eve@example.com,Eve,eve,,5f4dcc3b5aa765d61d8327deb882cf99\n\
             \"fay@example.com\",\"Smith, Fay\",fay,default,{PASSLIB_HASH}\n\
             BO@example.com,Bo again,,,\n\
             gil@example.com,Gil\n"
        ),
    )
    .unwrap();
    let first = setup.run(&["user", "import", file.to_str().unwrap()], "");
    assert!(
        !first.status.success(),
        "bad rows make the exit status non-zero"
    );
    let report = text(&first.stdout);
    for expected in [
        "line 4: error: \"not-an-address\" is not an e-mail address",
        "line 5: error: there is no organisation \"nowhere\"",
        "line 6: error: the username is also on line 2",
        "line 7: error: password_hash: not a recognised password hash",
        "line 9: error: the e-mail address is also on line 3",
        "line 10: error: unreadable row",
        "9 rows: 3 imported, 0 unchanged, 0 skipped, 6 bad",
    ] {
        assert!(report.contains(expected), "{expected:?} in\n{report}");
    }
    assert!(
        !report.contains("uK4wi2"),
        "hashes are never printed: {report}"
    );
    assert!(
        text(&first.stderr).contains("6 row(s)"),
        "{}",
        text(&first.stderr)
    );
    let list = text(&setup.run(&["user", "list"], "").stdout);
    for imported in ["ann@example.com", "bo@example.com", "fay@example.com"] {
        assert!(list.contains(imported), "{list}");
    }
    for refused in [
        "cy@example.com",
        "dee@example.com",
        "eve@example.com",
        "gil@",
    ] {
        assert!(!list.contains(refused), "{list}");
    }

    let again = setup.run(&["user", "import", file.to_str().unwrap()], "");
    let report = text(&again.stdout);
    assert!(
        report.contains("9 rows: 0 imported, 3 unchanged, 0 skipped, 6 bad"),
        "{report}"
    );
    assert_eq!(text(&setup.run(&["user", "list"], "").stdout), list);

    // JSON lines; an existing address with other details is skipped, not changed.
    let jsonl = setup.dir.path().join("more.jsonl");
    std::fs::write(
        &jsonl,
        "{\"email\": \"ann@example.com\", \"name\": \"Someone Else\"}\n\n\
         {\"email\": \"hal@example.com\", \"name\": \"Hal\", \"username\": \"hal\"}\n\
         {\"email\": \"ivy@example.com\", \"name\": \"Ivy\", \"username\": \"ann01\"}\n\
         {\"email\": \"jo@example.com\", \"nmae\": \"Jo\"}\n",
    )
    .unwrap();
    let out = setup.run(&["user", "import", jsonl.to_str().unwrap()], "");
    let report = text(&out.stdout);
    for expected in [
        "line 1: skipped: an account with this e-mail address already exists",
        "line 4: error: the username belongs to another account",
        "line 5: error: not a JSON object",
        "4 rows: 1 imported, 0 unchanged, 1 skipped, 2 bad",
    ] {
        assert!(report.contains(expected), "{expected:?} in\n{report}");
    }
    let list = text(&setup.run(&["user", "list"], "").stdout);
    assert!(
        list.contains("hal@example.com") && !list.contains("Someone Else"),
        "{list}"
    );
}

#[test]
fn user_import_refuses_a_file_with_an_unknown_column() {
    let setup = Setup::new(CLIENT);
    let file = setup.dir.path().join("people.csv");
    std::fs::write(&file, "email,name,pasword_hash\nann@example.com,Ann,x\n").unwrap();
    let out = setup.run(&["user", "import", file.to_str().unwrap()], "");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("unknown column \"pasword_hash\""),
        "{}",
        text(&out.stderr)
    );
    let missing = setup.run(&["user", "import", "/nonexistent/file.csv"], "");
    assert!(!missing.status.success());
}

/// One HTTP/1.1 GET on 127.0.0.1:`port`; returns the whole response as text.
fn http_get(port: u16, path: &str) -> String {
    use std::io::Read as _;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn serve_logs_json_answers_health_checks_and_stops_cleanly_on_sigterm() {
    use std::io::BufRead as _;
    let setup = Setup::new(CLIENT);
    let config = setup.config();
    let mut toml = std::fs::read_to_string(&config).unwrap();
    toml.push_str(
        "listen = \"127.0.0.1:0\"\nlog_format = \"json\"\nretention_interval_seconds = 1\n",
    );
    std::fs::write(&config, toml).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("--config")
        .arg(&config)
        .arg("serve")
        .env("GATEHOUSE_MASTER_KEY", &setup.master_key)
        .env_remove("DATABASE_URL")
        .env_remove("GATEHOUSE_DATABASE_URL")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut banner = String::new();
    stdout.read_line(&mut banner).unwrap();
    let port: u16 = banner
        .rsplit(':')
        .next()
        .and_then(|p| p.trim().trim_end_matches(')').parse().ok())
        .unwrap_or_else(|| panic!("no port in {banner:?}"));

    let ready = http_get(port, "/health/ready");
    assert!(ready.starts_with("HTTP/1.1 200"), "{ready}");
    assert!(
        ready.to_ascii_lowercase().contains("x-request-id: "),
        "{ready}"
    );

    // The health-check command asks the same endpoint, as a container's HEALTHCHECK does.
    let probe = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("--config")
        .arg(&config)
        .arg("health-check")
        .env("GATEHOUSE_MASTER_KEY", &setup.master_key)
        .env("GATEHOUSE_LISTEN", format!("127.0.0.1:{port}"))
        .output()
        .unwrap();
    assert!(probe.status.success(), "{}", text(&probe.stderr));

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "exit after SIGTERM: {:?}", out.status);
    let logs = text(&out.stderr);
    for line in logs.lines() {
        let parsed: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(parsed["level"].is_string(), "{line}");
    }
    assert!(
        logs.contains("\"request_id\""),
        "request lines carry the request id:\n{logs}"
    );
    assert!(logs.contains("\"stopped\""), "{logs}");

    // Asked again once stopped, the health check fails.
    let probe = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("--config")
        .arg(&config)
        .arg("health-check")
        .env("GATEHOUSE_MASTER_KEY", &setup.master_key)
        .env("GATEHOUSE_LISTEN", format!("127.0.0.1:{port}"))
        .output()
        .unwrap();
    assert!(!probe.status.success());
}
