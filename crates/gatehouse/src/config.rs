//! Configuration: `config/gatehouse.toml` and `config/clients/*.toml`, each value overridable from the
//! environment. Loaded and validated once at start; any problem names the file, the field and what is
//! wrong, and stops start-up.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format as _, Serialized, Toml};
use gatehouse_login::password::HashParams;
use gatehouse_login::password_policy::{PasswordPolicy, PolicyMode};
use gatehouse_login::throttle::ThrottlePolicy;
use gatehouse_mfa::MethodKind;
use gatehouse_mfa::attempts::AttemptPolicy;
use gatehouse_mfa::policy::{MfaPolicy, Organisation};
use gatehouse_notify::email::EmailConfig;
use gatehouse_notify::sms::SmsConfig;
use gatehouse_oidc::client::{Client, ClientKind, ClientRegistry, ClientSecret, GrantType};
use gatehouse_oidc::keys::SigningAlg;
use gatehouse_oidc::scope::Scopes;
use gatehouse_oidc::{Lifetimes, MasterKey};
use gatehouse_server::forwarded::TrustedProxies;
use gatehouse_server::outbox::OutboxPolicy;
use serde::{Deserialize, Serialize};
use url::Url;

/// Prefix of every environment override of `gatehouse.toml`; `__` separates nested keys
/// (`GATEHOUSE_TOKENS__ACCESS_TOKEN=300`).
pub const ENV_PREFIX: &str = "GATEHOUSE_";

/// `gatehouse.toml` as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerFile {
    pub issuer: String,
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub clients_dir: PathBuf,
    /// One TOML file per organisation; without a `default` one, a default is derived from this file.
    pub organisations_dir: PathBuf,
    pub theme_dir: PathBuf,
    pub demo: bool,
    /// The name people see for this service, and the issuer label in authenticator apps.
    pub display_name: String,
    /// Base64 of 32 bytes; meant to come from `GATEHOUSE_MASTER_KEY`, never from a committed file.
    pub master_key: Option<String>,
    pub master_key_file: Option<PathBuf>,
    pub tokens: TokensFile,
    pub password_hashing: HashingFile,
    pub login_throttle: ThrottleFile,
    pub mfa: MfaFile,
    /// How e-mail is sent; default: `.eml` files under `<data_dir>/outbox/email`.
    pub email: Option<EmailConfig>,
    /// How SMS is sent; default: JSON lines in `<data_dir>/outbox/sms.jsonl`.
    pub sms: Option<SmsConfig>,
    /// How the e-mail outbox is worked through.
    pub outbox: OutboxFile,
    /// `text` for people at a terminal, `json` (one object per line) for log collectors.
    pub log_format: LogFormat,
    /// Reverse proxies (CIDR ranges or addresses) whose `Forwarded`/`X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<String>,
    /// A separate address serving only `/metrics`, without a token (for the monitoring network).
    pub metrics_listen: Option<SocketAddr>,
    /// Bearer token for `/metrics` on the main address; without one it answers 404 there.
    pub metrics_token: Option<String>,
    /// How often expired sessions, codes, tokens and counters are deleted, in seconds.
    pub retention_interval_seconds: u64,
    /// Reload client and organisation files when they change (they are also reloaded on SIGHUP).
    pub watch_config: bool,
    /// For theme authors: templates, static files and translations are compiled again when a file
    /// under the themes folder changes (a broken file is refused and the previous theme stays).
    pub dev: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MfaFile {
    /// Wrong codes for one method before it is locked.
    pub max_failures: i64,
    /// How long that lock lasts, in seconds.
    pub lock_seconds: i64,
    /// Consecutive failures on one account before its second factor is locked for good.
    pub max_consecutive_failures: i64,
    /// Countries (ISO 3166 codes) whose mobile numbers may receive SMS codes.
    pub sms_countries: Vec<String>,
    /// The second factors people may add: `passkey`, `totp`, `sms`, `email` (recovery codes come with any).
    pub methods: Vec<String>,
}

impl Default for MfaFile {
    fn default() -> Self {
        let p = AttemptPolicy::default();
        Self {
            max_failures: p.max_failures,
            lock_seconds: p.lock_seconds,
            max_consecutive_failures: p.max_consecutive,
            sms_countries: vec!["NL".into(), "BE".into()],
            methods: ["passkey", "totp", "sms", "email"]
                .map(String::from)
                .to_vec(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokensFile {
    pub authorization_code: i64,
    pub access_token: i64,
    pub id_token: i64,
    pub refresh_token: i64,
    pub session: i64,
    pub sign_in: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HashingFile {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    pub max_concurrent: usize,
    pub max_queued: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboxFile {
    /// How often the worker looks for due e-mail when no page wakes it (retries, other nodes' mail).
    pub poll_interval_ms: u64,
    /// Attempts before an e-mail is given up.
    pub max_attempts: i32,
}

impl Default for OutboxFile {
    fn default() -> Self {
        let p = OutboxPolicy::default();
        Self {
            poll_interval_ms: u64::try_from(p.poll_interval.as_millis()).unwrap_or(5000),
            max_attempts: p.max_attempts,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ThrottleFile {
    pub window_seconds: i64,
    pub per_account: i64,
    pub per_address: i64,
}

impl Default for ServerFile {
    fn default() -> Self {
        Self {
            issuer: "http://localhost:8080".into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: "data".into(),
            database_url: None,
            clients_dir: "config/clients".into(),
            organisations_dir: "config/organisations".into(),
            theme_dir: "themes/default".into(),
            demo: false,
            display_name: "Gatehouse".into(),
            master_key: None,
            master_key_file: None,
            tokens: TokensFile::default(),
            password_hashing: HashingFile::default(),
            login_throttle: ThrottleFile::default(),
            mfa: MfaFile::default(),
            email: None,
            sms: None,
            outbox: OutboxFile::default(),
            log_format: LogFormat::Text,
            trusted_proxies: Vec::new(),
            metrics_listen: None,
            metrics_token: None,
            retention_interval_seconds: 3600,
            watch_config: true,
            dev: false,
        }
    }
}

impl Default for TokensFile {
    fn default() -> Self {
        let l = Lifetimes::default();
        Self {
            authorization_code: l.authorization_code,
            access_token: l.access_token,
            id_token: l.id_token,
            refresh_token: l.refresh_token,
            session: 12 * 3600,
            sign_in: 30 * 60,
        }
    }
}

impl Default for HashingFile {
    fn default() -> Self {
        let p = HashParams::default();
        let cores = std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(2);
        Self {
            memory_kib: p.memory_kib,
            iterations: p.iterations,
            parallelism: p.parallelism,
            max_concurrent: cores,
            max_queued: 512,
        }
    }
}

impl Default for ThrottleFile {
    fn default() -> Self {
        let t = ThrottlePolicy::default();
        Self {
            window_seconds: t.window_seconds,
            per_account: t.per_account,
            per_address: t.per_address,
        }
    }
}

/// One `config/organisations/<name>.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganisationFile {
    pub id: String,
    pub display_name: String,
    pub mfa: MfaPolicy,
    #[serde(default)]
    pub methods: Option<Vec<String>>,
    #[serde(default)]
    pub remember_device_days: u32,
    #[serde(default = "default_theme")]
    pub theme: String,
    /// Allow a one-time sign-in link to the backup address in place of the second factor.
    #[serde(default)]
    pub backup_link: bool,
    /// The rules for new passwords: `composition` (default) or `nist`.
    #[serde(default)]
    pub password_policy: PolicyMode,
    /// The shortest password allowed, 8 (default) to 64 characters.
    #[serde(default)]
    pub password_min_length: Option<usize>,
}

fn default_theme() -> String {
    "default".into()
}

/// One `config/clients/<name>.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientFile {
    pub client_id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ClientType,
    #[serde(default)]
    pub client_secret_hash: Option<String>,
    #[serde(default)]
    pub client_secret_env: Option<String>,
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    #[serde(default = "default_grant_types")]
    pub grant_types: Vec<GrantType>,
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    #[serde(default = "default_alg")]
    pub id_token_signed_response_alg: String,
    #[serde(default)]
    pub consent: bool,
    #[serde(default = "yes")]
    pub require_pkce: bool,
    /// Require a second factor for this application, whatever the organisation's policy.
    #[serde(default)]
    pub require_mfa: bool,
    /// The theme of this application's sign-in pages (a folder beside the default theme).
    #[serde(default)]
    pub theme: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientType {
    Confidential,
    Public,
}

fn default_grant_types() -> Vec<GrantType> {
    vec![GrantType::AuthorizationCode, GrantType::RefreshToken]
}
fn default_scopes() -> Vec<String> {
    ["openid", "profile", "email"].map(String::from).to_vec()
}
fn default_alg() -> String {
    "RS256".into()
}
fn yes() -> bool {
    true
}

/// Everything the server needs, validated.
#[derive(Debug, Clone)]
pub struct Config {
    pub file: ServerFile,
    pub issuer: String,
    pub database_url: String,
    pub clients: Vec<Client>,
    pub organisations: Vec<Organisation>,
    /// Each organisation's password rules, by organisation id (every organisation has one).
    pub password_policies: BTreeMap<String, PasswordPolicy>,
    pub trusted_proxies: TrustedProxies,
    pub source: PathBuf,
}

impl Config {
    /// The password rules of organisation `id` (the default rules for an unknown one).
    pub fn password_policy(&self, id: &str) -> PasswordPolicy {
        self.password_policies.get(id).copied().unwrap_or_default()
    }
}

/// A configuration problem; the message names the file and the field.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.join("\n"))]
pub struct ConfigError(pub Vec<String>);

fn problem(file: &Path, field: &str, message: impl std::fmt::Display) -> String {
    format!("{}: {field}: {message}", file.display())
}

/// Loads `path` and the client files it points to, with environment overrides.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    // The top-level keys, from the struct itself, so environment overrides can never drift from it.
    let top_level: Vec<String> = match serde_json::to_value(ServerFile::default()) {
        Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
        _ => Vec::new(),
    };
    let mut figment = Figment::from(Serialized::defaults(ServerFile::default()));
    if path.exists() {
        figment = figment.merge(Toml::file_exact(path));
    } else {
        return Err(ConfigError(vec![problem(path, "(file)", "not found")]));
    }
    let figment = figment.merge(
        Env::prefixed(ENV_PREFIX)
            .filter(move |key| {
                key.as_str()
                    .to_ascii_lowercase()
                    .split("__")
                    .next()
                    .is_some_and(|first| top_level.iter().any(|k| k == first))
            })
            .split("__"),
    );
    let file: ServerFile = figment
        .extract()
        .map_err(|e| ConfigError(e.into_iter().map(|e| e.to_string()).collect()))?;
    let mut problems = Vec::new();

    let issuer = file.issuer.trim_end_matches('/').to_owned();
    match Url::parse(&issuer) {
        Err(e) => problems.push(problem(
            path,
            "issuer",
            format!("{issuer:?} is not a URL: {e}"),
        )),
        Ok(url) => {
            if url.scheme() != "https" && !(url.scheme() == "http" && is_local(&url)) {
                problems.push(problem(
                    path,
                    "issuer",
                    "must use https (plain http is allowed only for localhost)",
                ));
            }
            if url.query().is_some() || url.fragment().is_some() {
                problems.push(problem(path, "issuer", "must not have a query or fragment"));
            }
        }
    }
    for (field, value) in [
        ("tokens.authorization_code", file.tokens.authorization_code),
        ("tokens.access_token", file.tokens.access_token),
        ("tokens.id_token", file.tokens.id_token),
        ("tokens.refresh_token", file.tokens.refresh_token),
        ("tokens.session", file.tokens.session),
        ("tokens.sign_in", file.tokens.sign_in),
    ] {
        if value <= 0 {
            problems.push(problem(path, field, "must be a positive number of seconds"));
        }
    }
    let database_url = file.database_url.clone().unwrap_or_else(|| {
        format!(
            "sqlite://{}?mode=rwc",
            file.data_dir.join("gatehouse.db").display()
        )
    });

    let trusted_proxies = TrustedProxies::parse(&file.trusted_proxies).unwrap_or_else(|entry| {
        problems.push(problem(
            path,
            "trusted_proxies",
            format!("{entry:?} is not an IP address or CIDR range"),
        ));
        TrustedProxies::default()
    });
    if file.retention_interval_seconds == 0 {
        problems.push(problem(
            path,
            "retention_interval_seconds",
            "must be a positive number of seconds",
        ));
    }
    if file.metrics_token.as_ref().is_some_and(|t| t.len() < 16) {
        problems.push(problem(
            path,
            "metrics_token",
            "must be at least 16 characters",
        ));
    }
    let clients = load_clients(&file.clients_dir, &mut problems);
    let mut password_policies = BTreeMap::new();
    let organisations = load_organisations(&file, &mut password_policies, &mut problems);
    for (i, method) in file.mfa.methods.iter().enumerate() {
        if !matches!(
            MethodKind::parse(method),
            Some(MethodKind::Passkey | MethodKind::Totp | MethodKind::Sms | MethodKind::Email)
        ) {
            problems.push(problem(
                path,
                &format!("mfa.methods[{i}]"),
                format!("{method:?} is not one of passkey, totp, sms, email"),
            ));
        }
    }
    if problems.is_empty()
        && let Err(duplicate) = ClientRegistry::new(clients.clone())
    {
        problems.push(format!(
            "{}: client_id: {duplicate:?} is used by more than one client file",
            file.clients_dir.display()
        ));
    }
    if !problems.is_empty() {
        return Err(ConfigError(problems));
    }
    Ok(Config {
        file,
        issuer,
        database_url,
        clients,
        organisations,
        password_policies,
        trusted_proxies,
        source: path.to_owned(),
    })
}

/// Reads every organisation file; adds the default organisation (`id = "default"`, MFA optional)
/// when no file defines it.
fn load_organisations(
    file: &ServerFile,
    password_policies: &mut BTreeMap<String, PasswordPolicy>,
    problems: &mut Vec<String>,
) -> Vec<Organisation> {
    let mut organisations: Vec<Organisation> = Vec::new();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&file.organisations_dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect()
        })
        .unwrap_or_default();
    paths.sort();
    let methods_of =
        |path: &Path, list: &[String], problems: &mut Vec<String>| -> Vec<MethodKind> {
            list.iter()
                .enumerate()
                .filter_map(|(i, m)| match MethodKind::parse(m) {
                    Some(
                        kind @ (MethodKind::Passkey
                        | MethodKind::Totp
                        | MethodKind::Sms
                        | MethodKind::Email),
                    ) => Some(kind),
                    _ => {
                        problems.push(problem(
                            path,
                            &format!("methods[{i}]"),
                            format!("{m:?} is not one of passkey, totp, sms, email"),
                        ));
                        None
                    }
                })
                .collect()
        };
    for path in paths {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_uppercase()
            .replace(['-', '.'], "_");
        let parsed: Result<OrganisationFile, _> = Figment::from(Toml::file_exact(&path))
            .merge(Env::prefixed(&format!("{ENV_PREFIX}ORGANISATION_{stem}__")))
            .extract();
        match parsed {
            Ok(raw) => {
                if organisations.iter().any(|o| o.id == raw.id) {
                    problems.push(problem(
                        &path,
                        "id",
                        format!("{:?} is used by more than one organisation file", raw.id),
                    ));
                    continue;
                }
                let methods = methods_of(
                    &path,
                    raw.methods.as_deref().unwrap_or(&file.mfa.methods),
                    problems,
                );
                let policy = match raw.password_min_length {
                    None => PasswordPolicy {
                        mode: raw.password_policy,
                        ..PasswordPolicy::default()
                    },
                    Some(min) => PasswordPolicy::with_min_length(raw.password_policy, min)
                        .unwrap_or_else(|message| {
                            problems.push(problem(&path, "password_min_length", message));
                            PasswordPolicy::default()
                        }),
                };
                password_policies.insert(raw.id.clone(), policy);
                organisations.push(Organisation {
                    id: raw.id,
                    display_name: raw.display_name,
                    mfa: raw.mfa,
                    methods,
                    remember_device_days: raw.remember_device_days,
                    theme: raw.theme,
                    backup_link: raw.backup_link,
                });
            }
            Err(e) => problems.extend(e.into_iter().map(|e| e.to_string())),
        }
    }
    if !organisations.iter().any(|o| o.id == "default") {
        // The global list was checked already.
        let methods = file
            .mfa
            .methods
            .iter()
            .filter_map(|m| MethodKind::parse(m))
            .collect();
        password_policies.insert("default".into(), PasswordPolicy::default());
        organisations.push(Organisation {
            id: "default".into(),
            display_name: file.display_name.clone(),
            mfa: MfaPolicy::Optional,
            methods,
            remember_device_days: 0,
            theme: "default".into(),
            backup_link: false,
        });
    }
    organisations
}

fn is_local(url: &Url) -> bool {
    matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"))
}

fn load_clients(dir: &Path, problems: &mut Vec<String>) -> Vec<Client> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            problems.push(format!(
                "{}: cannot read the clients folder: {e}",
                dir.display()
            ));
            return Vec::new();
        }
    };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut clients = Vec::new();
    for file in files {
        let stem = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_uppercase()
            .replace(['-', '.'], "_");
        let parsed: Result<ClientFile, _> = Figment::from(Toml::file_exact(&file))
            .merge(Env::prefixed(&format!("{ENV_PREFIX}CLIENT_{stem}__")))
            .extract();
        match parsed {
            Ok(raw) => {
                if let Some(client) = validate_client(&file, raw, problems) {
                    clients.push(client);
                }
            }
            Err(e) => problems.extend(e.into_iter().map(|e| e.to_string())),
        }
    }
    clients
}

fn validate_client(file: &Path, raw: ClientFile, problems: &mut Vec<String>) -> Option<Client> {
    let before = problems.len();
    if raw.client_id.trim().is_empty() {
        problems.push(problem(file, "client_id", "must not be empty"));
    }
    let mut uris = |field: &str, list: &[String]| -> Vec<Url> {
        list.iter()
            .enumerate()
            .filter_map(|(i, text)| match check_redirect_uri(text) {
                Ok(url) => Some(url),
                Err(message) => {
                    problems.push(problem(
                        file,
                        &format!("{field}[{i}]"),
                        format!("{text:?} {message}"),
                    ));
                    None
                }
            })
            .collect()
    };
    let redirect_uris = uris("redirect_uris", &raw.redirect_uris);
    let post_logout_redirect_uris =
        uris("post_logout_redirect_uris", &raw.post_logout_redirect_uris);
    if raw.grant_types.contains(&GrantType::AuthorizationCode) && raw.redirect_uris.is_empty() {
        problems.push(problem(
            file,
            "redirect_uris",
            "at least one is needed for the authorization_code grant",
        ));
    }
    let kind = match (raw.kind, &raw.client_secret_hash, &raw.client_secret_env) {
        (ClientType::Public, None, None) => ClientKind::Public,
        (ClientType::Public, _, _) => {
            problems.push(problem(
                file,
                "client_secret_hash",
                "a public client has no secret; remove it or make the client confidential",
            ));
            ClientKind::Public
        }
        (ClientType::Confidential, Some(hash), None) => {
            if argon2::PasswordHash::new(hash).is_err() {
                problems.push(problem(
                    file,
                    "client_secret_hash",
                    "is not an argon2 hash (make one with `gatehouse client hash-secret`)",
                ));
            }
            ClientKind::Confidential(ClientSecret::Argon2Hash(hash.clone()))
        }
        (ClientType::Confidential, None, Some(var)) => match std::env::var(var) {
            Ok(secret) if secret.len() >= 16 => {
                ClientKind::Confidential(ClientSecret::FromEnvironment(secret.into()))
            }
            Ok(_) => {
                problems.push(problem(
                    file,
                    "client_secret_env",
                    format!("the secret in {var} is shorter than 16 characters"),
                ));
                ClientKind::Public
            }
            Err(_) => {
                problems.push(problem(
                    file,
                    "client_secret_env",
                    format!("environment variable {var} is not set"),
                ));
                ClientKind::Public
            }
        },
        (ClientType::Confidential, Some(_), Some(_)) => {
            problems.push(problem(
                file,
                "client_secret_hash",
                "give either client_secret_hash or client_secret_env, not both",
            ));
            ClientKind::Public
        }
        (ClientType::Confidential, None, None) => {
            problems.push(problem(
                file,
                "client_secret_hash",
                "a confidential client needs client_secret_hash or client_secret_env",
            ));
            ClientKind::Public
        }
    };
    if raw.kind == ClientType::Public && raw.grant_types.contains(&GrantType::ClientCredentials) {
        problems.push(problem(
            file,
            "grant_types",
            "a public client cannot use client_credentials",
        ));
    }
    let alg = SigningAlg::parse(&raw.id_token_signed_response_alg);
    if alg.is_none() {
        problems.push(problem(
            file,
            "id_token_signed_response_alg",
            "must be RS256, ES256 or EdDSA",
        ));
    }
    if problems.len() > before {
        return None;
    }
    Some(Client {
        id: raw.client_id,
        name: raw.name,
        kind,
        redirect_uris,
        post_logout_redirect_uris,
        grant_types: raw.grant_types,
        scopes: Scopes::from_iter(raw.scopes),
        id_token_signing_alg: alg.unwrap_or(SigningAlg::RS256),
        consent: raw.consent,
        require_pkce: raw.require_pkce,
        require_mfa: raw.require_mfa,
        theme: raw.theme,
    })
}

/// OpenID Connect Core §3.1.2.1 and RFC 6749 §3.1.2: absolute, no fragment, https unless localhost.
fn check_redirect_uri(text: &str) -> Result<Url, &'static str> {
    let url = Url::parse(text).map_err(|_| "is not an absolute URI")?;
    if url.fragment().is_some() {
        return Err("must not contain a fragment");
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_local(&url) => Ok(url),
        "http" => Err("uses http; only https is allowed except for localhost"),
        // Custom schemes for native apps (RFC 8252 §7.1) are fine.
        _ if url.cannot_be_a_base() && !text.contains(':') => Err("is not an absolute URI"),
        _ => Ok(url),
    }
}

impl Config {
    pub fn lifetimes(&self) -> Lifetimes {
        let t = &self.file.tokens;
        Lifetimes {
            authorization_code: t.authorization_code,
            access_token: t.access_token,
            id_token: t.id_token,
            refresh_token: t.refresh_token,
        }
    }

    pub fn hash_params(&self) -> HashParams {
        let h = &self.file.password_hashing;
        HashParams {
            memory_kib: h.memory_kib,
            iterations: h.iterations,
            parallelism: h.parallelism,
        }
    }

    pub fn email(&self) -> EmailConfig {
        self.file
            .email
            .clone()
            .unwrap_or_else(|| EmailConfig::File {
                dir: self.file.data_dir.join("outbox/email"),
                from: format!("{} <no-reply@localhost>", self.file.display_name),
            })
    }

    pub fn sms(&self) -> SmsConfig {
        self.file.sms.clone().unwrap_or_else(|| SmsConfig::File {
            path: self.file.data_dir.join("outbox/sms.jsonl"),
        })
    }

    pub fn mfa_attempts(&self) -> AttemptPolicy {
        let m = &self.file.mfa;
        AttemptPolicy {
            max_failures: m.max_failures,
            lock_seconds: m.lock_seconds,
            max_consecutive: m.max_consecutive_failures,
        }
    }

    pub fn throttle(&self) -> ThrottlePolicy {
        let t = &self.file.login_throttle;
        ThrottlePolicy {
            window_seconds: t.window_seconds,
            per_account: t.per_account,
            per_address: t.per_address,
        }
    }

    /// The master key: from `master_key` (i.e. `GATEHOUSE_MASTER_KEY`), else from `master_key_file`,
    /// else, in demo mode only, from `<data_dir>/master.key`, generated on first start.
    pub fn master_key(&self) -> Result<MasterKey, ConfigError> {
        let fail = |m: String| ConfigError(vec![problem(&self.source, "master_key", m)]);
        if let Some(text) = &self.file.master_key {
            return MasterKey::from_base64(text).map_err(fail);
        }
        if let Some(path) = &self.file.master_key_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?;
            return MasterKey::from_base64(&text).map_err(fail);
        }
        if !self.file.demo {
            return Err(fail(format!(
                "not set: set {ENV_PREFIX}MASTER_KEY to 32 random bytes in base64 (for example the output of `openssl rand -base64 32`)"
            )));
        }
        let path = self.file.data_dir.join("master.key");
        if let Ok(text) = std::fs::read_to_string(&path) {
            return MasterKey::from_base64(&text).map_err(fail);
        }
        let key = MasterKey::generate();
        std::fs::create_dir_all(&self.file.data_dir).map_err(|e| {
            fail(format!(
                "cannot create {}: {e}",
                self.file.data_dir.display()
            ))
        })?;
        write_private(&path, &key.to_base64())
            .map_err(|e| fail(format!("cannot write {}: {e}", path.display())))?;
        Ok(key)
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    options.open(path)?.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    fn setup(server: &str, client: &str) -> (tempfile::TempDir, Result<Config, ConfigError>) {
        let dir = tempfile::tempdir().unwrap();
        let clients = dir.path().join("clients");
        let config = write(
            dir.path(),
            "gatehouse.toml",
            &format!(
                "clients_dir = {:?}\n{server}",
                clients.display().to_string()
            ),
        );
        write(&clients, "app.toml", client);
        let loaded = load(&config);
        (dir, loaded)
    }

    const GOOD_CLIENT: &str = r#"
client_id = "app"
name = "App"
type = "public"
redirect_uris = ["https://app.example/cb"]
"#;

    #[test]
    fn shipped_configuration_is_valid() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let config = root.join("config/gatehouse.toml");
        let dir = std::env::current_dir().unwrap();
        std::env::set_current_dir(&root).unwrap();
        let loaded = load(&config);
        std::env::set_current_dir(dir).unwrap();
        let loaded = loaded.unwrap();
        assert!(loaded.file.demo);
        assert!(!loaded.clients.is_empty());
    }

    #[test]
    fn organisations_choose_their_password_policy() {
        let dir = tempfile::tempdir().unwrap();
        let orgs = dir.path().join("orgs");
        write(
            &orgs,
            "nist.toml",
            "id = \"nist\"\ndisplay_name = \"N\"\nmfa = \"off\"\npassword_policy = \"nist\"\npassword_min_length = 12\n",
        );
        write(
            &orgs,
            "plain.toml",
            "id = \"plain\"\ndisplay_name = \"P\"\nmfa = \"off\"\n",
        );
        let (_dir, loaded) = setup(
            &format!("organisations_dir = {:?}\n", orgs.display().to_string()),
            GOOD_CLIENT,
        );
        let config = loaded.unwrap();
        assert_eq!(
            config.password_policy("nist"),
            PasswordPolicy {
                mode: PolicyMode::Nist,
                min_length: 12
            }
        );
        assert_eq!(
            config.password_policy("plain"),
            PasswordPolicy::composition()
        );
        assert_eq!(
            config.password_policy("default"),
            PasswordPolicy::composition()
        );
    }

    #[test]
    fn a_password_policy_out_of_range_names_file_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let orgs = dir.path().join("orgs");
        write(
            &orgs,
            "short.toml",
            "id = \"short\"\ndisplay_name = \"S\"\nmfa = \"off\"\npassword_min_length = 6\n",
        );
        write(
            &orgs,
            "odd.toml",
            "id = \"odd\"\ndisplay_name = \"O\"\nmfa = \"off\"\npassword_policy = \"strong\"\n",
        );
        let (_dir, loaded) = setup(
            &format!("organisations_dir = {:?}\n", orgs.display().to_string()),
            GOOD_CLIENT,
        );
        let message = loaded.unwrap_err().to_string();
        assert!(
            message.contains("short.toml: password_min_length: must be between 8 and 64"),
            "{message}"
        );
        assert!(message.contains("strong"), "{message}");
    }

    #[test]
    fn good_client_loads() {
        let (_dir, loaded) = setup("", GOOD_CLIENT);
        let config = loaded.unwrap();
        assert_eq!(config.clients[0].id, "app");
        assert!(config.clients[0].pkce_required());
    }

    #[test]
    fn unknown_field_names_file_and_field() {
        let (_dir, loaded) = setup("", &format!("{GOOD_CLIENT}\nredirect_uri = \"x\"\n"));
        let message = loaded.unwrap_err().to_string();
        assert!(
            message.contains("app.toml") && message.contains("redirect_uri"),
            "{message}"
        );
    }

    #[test]
    fn wrong_type_names_the_field() {
        let (_dir, loaded) = setup("demo = \"yes\"", GOOD_CLIENT);
        let message = loaded.unwrap_err().to_string();
        assert!(
            message.contains("demo") && message.contains("gatehouse.toml"),
            "{message}"
        );
    }

    #[test]
    fn http_redirect_for_remote_host_is_refused() {
        let (_dir, loaded) = setup(
            "",
            &GOOD_CLIENT.replace("https://app.example/cb", "http://app.example/cb"),
        );
        let message = loaded.unwrap_err().to_string();
        assert!(
            message.contains("app.toml: redirect_uris[0]") && message.contains("http"),
            "{message}"
        );
    }

    #[test]
    fn relative_redirect_is_refused() {
        let (_dir, loaded) = setup("", &GOOD_CLIENT.replace("https://app.example/cb", "/cb"));
        assert!(
            loaded
                .unwrap_err()
                .to_string()
                .contains("not an absolute URI")
        );
    }

    #[test]
    fn duplicate_client_id_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let clients = dir.path().join("clients");
        let config = write(
            dir.path(),
            "gatehouse.toml",
            &format!("clients_dir = {:?}", clients.display().to_string()),
        );
        write(&clients, "a.toml", GOOD_CLIENT);
        write(&clients, "b.toml", GOOD_CLIENT);
        let message = load(&config).unwrap_err().to_string();
        assert!(
            message.contains("\"app\" is used by more than one"),
            "{message}"
        );
    }

    #[test]
    fn http_issuer_is_refused_for_remote_host() {
        let (_dir, loaded) = setup("issuer = \"http://id.example\"", GOOD_CLIENT);
        assert!(
            loaded
                .unwrap_err()
                .to_string()
                .contains("issuer: must use https")
        );
    }

    #[test]
    fn unknown_second_factor_method_is_refused() {
        let (_dir, loaded) = setup(
            "[mfa]\nmethods = [\"totp\", \"carrier-pigeon\"]",
            GOOD_CLIENT,
        );
        let message = loaded.unwrap_err().to_string();
        assert!(
            message.contains("mfa.methods[1]") && message.contains("carrier-pigeon"),
            "{message}"
        );
    }

    #[test]
    fn a_trusted_proxy_that_is_no_address_is_named() {
        let (_dir, loaded) = setup(
            "trusted_proxies = [\"10.0.0.0/8\", \"lb.internal\"]",
            GOOD_CLIENT,
        );
        let message = loaded.unwrap_err().to_string();
        assert!(
            message.contains("trusted_proxies") && message.contains("lb.internal"),
            "{message}"
        );
    }

    #[test]
    fn forwarded_headers_are_not_trusted_by_default() {
        let (_dir, loaded) = setup("", GOOD_CLIENT);
        assert!(loaded.unwrap().trusted_proxies.is_empty());
    }

    #[test]
    fn confidential_client_needs_a_secret() {
        let (_dir, loaded) = setup("", &GOOD_CLIENT.replace("public", "confidential"));
        assert!(
            loaded
                .unwrap_err()
                .to_string()
                .contains("needs client_secret_hash or client_secret_env")
        );
    }
}
