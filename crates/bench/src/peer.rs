//! `--peer`: the same scenarios against `oidc-provider` 9.x, installed with npm at run time into a
//! cache folder and started with the launcher in `peer/provider.mjs`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, bail};

use crate::http::ClientCreds;
use crate::scenarios::Scenario;
use crate::server::Process;

const LAUNCHER: &str = include_str!("../peer/provider.mjs");
const PACKAGE: &str = "oidc-provider@9";

/// Scenarios not compared with the peer, and why.
pub const SKIPPED: [(Scenario, &str); 3] = [
    (
        Scenario::AuthorizeSignedIn,
        "not equivalent: oidc-provider asks for consent on every request for offline_access, so its codes are minted through its interaction",
    ),
    (
        Scenario::SignInPassword,
        "the peer's sign-in here checks no password (oidc-provider leaves the login page and password hashing to the application)",
    ),
    (
        Scenario::SignInTotp,
        "oidc-provider has no second factor of its own",
    ),
];

/// `$XDG_CACHE_HOME/gatehouse-bench/peer`, or `~/.cache/gatehouse-bench/peer`.
pub fn cache_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("gatehouse-bench").join("peer")
}

/// Installs `oidc-provider` 9.x into `dir` unless it is there already.
pub fn install(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    if dir.join("node_modules/oidc-provider/package.json").exists() {
        return Ok(());
    }
    eprintln!("installing {PACKAGE} into {} ...", dir.display());
    let status = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(dir)
        .arg(PACKAGE)
        .status()
        .context("running npm (is Node.js installed?)")?;
    if !status.success() {
        bail!("npm install {PACKAGE} failed");
    }
    Ok(())
}

/// The installed version, from its package.json.
pub fn version(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("node_modules/oidc-provider/package.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|v| v["version"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "9.x".into())
}

/// Starts the peer on `port` with the same clients (ES256 and RS256) as the Gatehouse under test.
pub async fn start(
    dir: &Path,
    port: u16,
    clients: &[(&ClientCreds, &str)],
    log: &Path,
) -> anyhow::Result<(Process, Duration)> {
    std::fs::write(dir.join("provider.mjs"), LAUNCHER)?;
    let config = serde_json::json!({
        "clients": clients.iter().map(|(c, alg)| serde_json::json!({
            "id": c.id, "secret": c.secret, "redirect_uri": c.redirect_uri, "alg": alg,
        })).collect::<Vec<_>>(),
    });
    let config_path = dir.join(format!("config-{port}.json"));
    std::fs::write(&config_path, config.to_string())?;
    let mut command = Command::new("node");
    command
        .arg("provider.mjs")
        .arg(port.to_string())
        .arg(&config_path)
        .env("NODE_ENV", "production")
        .current_dir(dir);
    let ready = format!("http://127.0.0.1:{port}/.well-known/openid-configuration");
    Process::start(command, log, &ready).await
}
