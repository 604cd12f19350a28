//! The benchmark tool works: every scenario runs for a moment against the debug `gatehouse` binary
//! (built by `cargo test --workspace`, which builds it for `crates/gatehouse/tests`) with no errors.
//! Not a measurement: debug builds and a loaded CI machine say nothing about speed.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test by panicking"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// `target/debug/gatehouse`, next to the `deps/` folder this test runs from.
fn gatehouse_binary() -> PathBuf {
    let test = std::env::current_exe().unwrap();
    let profile_dir = test.parent().and_then(Path::parent).unwrap();
    let binary = profile_dir.join(format!("gatehouse{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.exists(),
        "{} is missing: `cargo test --workspace` builds it (or `cargo build -p gatehouse`)",
        binary.display()
    );
    binary
}

#[test]
fn every_scenario_runs_without_errors() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let mut command = Command::new(env!("CARGO_BIN_EXE_gatehouse-bench"));
    command
        .arg("--gatehouse")
        .arg(gatehouse_binary())
        .arg("--theme-dir")
        .arg(root.join("themes/default"))
        .args(["--seconds", "0.7", "--concurrency", "4"])
        .args(["--users", "20", "--totp-users", "200"])
        .arg("--json")
        .arg(&json);
    // The same database as the rest of the suite: SQLite, or PostgreSQL when DATABASE_URL names one.
    if let Ok(url) = std::env::var("DATABASE_URL")
        && !url.is_empty()
    {
        command.arg("--database-url").arg(url);
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "gatehouse-bench failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("| sign_in_password_totp |"), "{stdout}");

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let rows = report["gatehouse"].as_array().unwrap();
    assert_eq!(rows.len(), 11, "every scenario ran");
    for row in rows {
        assert_eq!(row["errors"], 0, "{row}");
        assert!(row["requests"].as_u64().unwrap() > 0, "{row}");
    }
    assert!(report["cold_start_ms"].as_f64().unwrap() > 0.0);
    assert!(report["idle_rss_mib"].as_f64().unwrap() > 1.0);
}

#[test]
fn an_unknown_scenario_is_refused_before_anything_starts() {
    let output = Command::new(env!("CARGO_BIN_EXE_gatehouse-bench"))
        .args(["--only", "no-such-scenario", "--gatehouse", "/nonexistent"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown scenario"));
}
