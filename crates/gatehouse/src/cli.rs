//! The command line: `gatehouse serve | migrate | check-config | user … | client … | keys rotate`.
//! `user import` lives in [`crate::import`].

use std::io::{BufRead as _, IsTerminal as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use gatehouse_login::audit as audit_kind;
use gatehouse_login::password::Passwords;
use gatehouse_login::password_policy;
use gatehouse_mfa::attempts::AttemptPolicy;
use gatehouse_oidc::{ClientKind, SystemClock};
use gatehouse_store::Database;
use gatehouse_store::audit::AuditEvent;
use secrecy::SecretString;

use crate::app::{DEMO_EMAIL, DEMO_PASSWORD, Gatehouse};
use crate::config::{self, Config};

#[derive(Debug, Parser)]
#[command(
    name = "gatehouse",
    version,
    about = "Gatehouse: an OpenID Connect provider"
)]
pub struct Cli {
    /// The main configuration file.
    #[arg(
        long,
        env = "GATEHOUSE_CONFIG_FILE",
        default_value = "config/gatehouse.toml",
        global = true
    )]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (applies pending migrations first).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Load and validate the configuration and every client file, then exit.
    CheckConfig,
    /// Ask the server at `listen` whether it is ready (`/health/ready`); exit 0 if so, 1 if not. For a
    /// container's health check.
    HealthCheck,
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Inspect clients and prepare their secrets.
    #[command(subcommand)]
    Client(ClientCommand),
    /// Manage signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Inspect organisations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Show the security events of one user, newest first.
    Audit {
        #[arg(long)]
        user: String,
        /// How many events to show.
        #[arg(long, default_value_t = 50)]
        limit: u64,
    },
}

#[derive(Debug, Subcommand)]
enum OrgCommand {
    /// List the configured organisations, their second-factor policy and password policy.
    List,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add a user; the password is read from standard input, or prompted for on a terminal.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// The organisation the user belongs to (see `gatehouse org list`).
        #[arg(long, default_value = "default")]
        organisation: String,
        /// The user's mobile number, with country code; the set-up wizard offers it for text
        /// messages, to be confirmed with a code or corrected.
        #[arg(long)]
        phone: Option<String>,
    },
    /// Import accounts from a CSV (header row) or JSON-lines file: email, name, and optionally
    /// username, organisation and password_hash (bcrypt, PBKDF2-SHA256 or argon2). Re-running a file
    /// changes nothing; every bad row is reported with its line number.
    Import { file: PathBuf },
    /// List users.
    List,
    /// Remove every second factor and recovery code of a user who lost them; they set up new ones at
    /// their next sign-in where policy requires it.
    ResetMfa { email: String },
    /// Disable an account: no sign-in, sessions ended, tokens refused.
    Disable { email: String },
    /// Make a second factor mandatory for this user, whatever their organisation says (staff accounts).
    RequireMfa {
        email: String,
        /// Take the requirement away again.
        #[arg(long)]
        off: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ClientCommand {
    /// List the configured clients.
    List,
    /// Read a client secret from standard input and print its argon2 hash for `client_secret_hash`.
    HashSecret,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Generate new signing keys; the old ones stay published until their tokens expire.
    Rotate,
}

pub async fn run() -> ExitCode {
    let cli = Cli::parse();
    match execute(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn execute(cli: Cli) -> anyhow::Result<()> {
    let config = config::load(&cli.config)?;
    let _log_writer =
        crate::logging::init(config.file.log_format).context("starting the log writer thread")?;
    match cli.command {
        Command::Serve => serve(config).await,
        Command::Migrate => {
            database(&config).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::CheckConfig => check_config(&cli.config, &config),
        Command::HealthCheck => health_check(&config).await,
        Command::User(UserCommand::Add {
            email,
            name,
            organisation,
            phone,
        }) => add_user(config, &email, &name, &organisation, phone.as_deref()).await,
        Command::User(UserCommand::RequireMfa { email, off }) => {
            require_mfa(config, &email, !off).await
        }
        Command::User(UserCommand::ResetMfa { email }) => reset_mfa(config, &email).await,
        Command::User(UserCommand::Disable { email }) => disable(config, &email).await,
        Command::Audit { user, limit } => audit(config, &user, limit).await,
        Command::Org(OrgCommand::List) => {
            list_organisations(&config);
            Ok(())
        }
        Command::User(UserCommand::List) => list_users(config).await,
        Command::User(UserCommand::Import { file }) => import_users(config, &file).await,
        Command::Client(ClientCommand::List) => {
            list_clients(&config);
            Ok(())
        }
        Command::Client(ClientCommand::HashSecret) => {
            let secret = read_secret("Client secret: ")?;
            println!("{}", Passwords::new(config.hash_params())?.hash(&secret)?);
            Ok(())
        }
        Command::Keys(KeysCommand::Rotate) => {
            let gatehouse = Gatehouse::build(config, Arc::new(SystemClock)).await?;
            let kids = gatehouse.provider.rotate_keys().await?;
            println!("new signing keys: {}", kids.join(", "));
            println!(
                "running servers pick them up within a minute; retired keys stay in the JWKS until their tokens expire"
            );
            Ok(())
        }
    }
}

async fn database(config: &Config) -> anyhow::Result<Database> {
    let db = Database::connect(&config.database_url)
        .await
        .context("connecting to the database")?;
    db.migrate().await.context("migrating the database")?;
    Ok(db)
}

fn check_config(path: &Path, config: &Config) -> anyhow::Result<()> {
    config.master_key()?;
    crate::app::load_themes(config)?;
    println!("{}: ok ({} clients)", path.display(), config.clients.len());
    Ok(())
}

async fn health_check(config: &Config) -> anyhow::Result<()> {
    let mut addr = config.file.listen;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let response = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .build()?
        .get(format!("http://{addr}/health/ready"))
        .send()
        .await
        .with_context(|| format!("asking {addr}"))?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    anyhow::ensure!(status.is_success(), "not ready ({status}): {body}");
    println!("ready");
    Ok(())
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let listen = config.file.listen;
    let issuer = config.issuer.clone();
    let demo = config.file.demo;
    let gatehouse = Gatehouse::build(config, Arc::new(SystemClock)).await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    let listen = listener.local_addr().unwrap_or(listen);
    println!("Gatehouse is running at {issuer}/ (listening on {listen})");
    if demo {
        println!("Demo mode: open {issuer}/ and choose \"Try it: sign in to the demo app\"");
        println!("Demo user: {DEMO_EMAIL}  password: {DEMO_PASSWORD}");
    }
    gatehouse.serve(listener, shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests under way");
}

async fn existing_user(db: &Database, email: &str) -> anyhow::Result<gatehouse_store::users::User> {
    db.user_by_email(email)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no user with e-mail address {email}"))
}

fn operator_event(user_id: &str, kind: &str, detail: serde_json::Value) -> AuditEvent {
    AuditEvent {
        user_id: Some(user_id.to_owned()),
        kind: kind.to_owned(),
        detail: serde_json::json!({ "by": "operator", "detail": detail }).to_string(),
        ip: None,
        user_agent: None,
        created_at: gatehouse_oidc::Clock::now(&SystemClock),
    }
}

async fn reset_mfa(config: Config, email: &str) -> anyhow::Result<()> {
    let db = database(&config).await?;
    let user = existing_user(&db, email).await?;
    let removed = db.reset_mfa(&user.id).await?;
    db.clear_failures(&AttemptPolicy::consecutive_key(&user.id))
        .await?;
    db.record_event(&operator_event(
        &user.id,
        audit_kind::MFA_RESET,
        serde_json::json!({ "factors_removed": removed }),
    ))
    .await?;
    println!(
        "removed {removed} second factor(s) and all recovery codes of {}",
        user.email
    );
    Ok(())
}

async fn disable(config: Config, email: &str) -> anyhow::Result<()> {
    let db = database(&config).await?;
    let user = existing_user(&db, email).await?;
    db.disable_user(&user.id, gatehouse_oidc::Clock::now(&SystemClock))
        .await?;
    db.record_event(&operator_event(
        &user.id,
        audit_kind::USER_DISABLED,
        serde_json::json!({}),
    ))
    .await?;
    println!("{} is disabled; their sessions have ended", user.email);
    Ok(())
}

async fn audit(config: Config, email: &str, limit: u64) -> anyhow::Result<()> {
    let db = database(&config).await?;
    let user = existing_user(&db, email).await?;
    println!(
        "{:<20}  {:<24}  {:<15}  detail",
        "time (UTC)", "event", "ip"
    );
    for event in db.events_for_user(&user.id, None, limit).await? {
        let time = chrono::DateTime::from_timestamp(event.created_at, 0)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default();
        println!(
            "{time:<20}  {:<24}  {:<15}  {}",
            event.kind,
            event.ip.unwrap_or_default(),
            event.detail
        );
    }
    Ok(())
}

async fn require_mfa(config: Config, email: &str, required: bool) -> anyhow::Result<()> {
    let db = database(&config).await?;
    let user = db
        .user_by_email(email)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no user with e-mail address {email}"))?;
    db.set_require_mfa(&user.id, required, gatehouse_oidc::Clock::now(&SystemClock))
        .await?;
    let what = if required {
        "must now use"
    } else {
        "follows the organisation's policy for"
    };
    println!("{} {what} a second factor", user.email);
    Ok(())
}

fn list_organisations(config: &Config) {
    println!(
        "{:<16}  {:<28}  {:<9}  {:<28}  {:<9}  passwords",
        "id", "display name", "mfa", "methods", "remember"
    );
    for org in &config.organisations {
        let methods: Vec<&str> = org.methods.iter().map(|m| m.as_str()).collect();
        let mfa = format!("{:?}", org.mfa).to_lowercase();
        let remember = format!("{} days", org.remember_device_days);
        let passwords = config.password_policy(&org.id);
        println!(
            "{:<16}  {:<28}  {mfa:<9}  {:<28}  {remember:<9}  {}, at least {}",
            org.id,
            org.display_name,
            methods.join(","),
            passwords.mode.as_str(),
            passwords.min_length
        );
    }
}

async fn add_user(
    config: Config,
    email: &str,
    name: &str,
    organisation: &str,
    phone: Option<&str>,
) -> anyhow::Result<()> {
    if !config.organisations.iter().any(|o| o.id == organisation) {
        anyhow::bail!("there is no organisation {organisation:?} (see `gatehouse org list`)");
    }
    if !email.contains('@') || email.trim().len() < 3 {
        anyhow::bail!("{email:?} is not an e-mail address");
    }
    let phone = phone
        .map(|typed| {
            gatehouse_mfa::sms::parse_mobile(typed, &config.file.mfa.sms_countries)
                .map(|number| number.e164)
                .map_err(|problem| anyhow::anyhow!("{typed:?} cannot receive codes: {problem}"))
        })
        .transpose()?;
    let password = read_secret("Password: ")?;
    let policy = config.password_policy(organisation);
    if let Err(broken) = password_policy::check(
        &policy,
        secrecy::ExposeSecret::expose_secret(&password),
        email,
    ) {
        // In the operator's words: the theme's English messages.
        let translations =
            gatehouse_login::i18n::Translations::load(&[config.file.theme_dir.as_path()])?;
        let reasons: Vec<String> = broken
            .iter()
            .map(|v| format!("  - {}", translations.text("en", &v.message())))
            .collect();
        anyhow::bail!(
            "the password does not follow the rules of organisation {organisation:?} ({}):\n{}",
            policy.mode.as_str(),
            reasons.join("\n")
        );
    }
    let passwords = Passwords::new(config.hash_params())?;
    let db = database(&config).await?;
    let hash = passwords.hash(&password)?;
    let user = db
        .create_user_in(
            email,
            name,
            &hash,
            organisation,
            gatehouse_oidc::Clock::now(&SystemClock),
        )
        .await?;
    if let Some(phone) = phone {
        db.set_phone_number(&user.id, &phone, false, user.created_at)
            .await?;
    }
    println!("added {} ({})", user.email, user.id);
    Ok(())
}

async fn import_users(config: Config, file: &Path) -> anyhow::Result<()> {
    let db = database(&config).await?;
    let organisations: Vec<&str> = config.organisations.iter().map(|o| o.id.as_str()).collect();
    let report = crate::import::import(
        &db,
        file,
        &organisations,
        gatehouse_oidc::Clock::now(&SystemClock),
    )
    .await?;
    report.print();
    let bad = report.bad();
    anyhow::ensure!(
        bad == 0,
        "{bad} row(s) of {} were not imported",
        file.display()
    );
    Ok(())
}

async fn list_users(config: Config) -> anyhow::Result<()> {
    let db = database(&config).await?;
    println!(
        "{:<36}  {:<32}  {:<24}  {:<16}  status",
        "id", "email", "name", "organisation"
    );
    for user in db.users().await? {
        let status = if user.disabled { "disabled" } else { "active" };
        let status = if user.require_mfa {
            format!("{status}, mfa required")
        } else {
            status.to_owned()
        };
        println!(
            "{:<36}  {:<32}  {:<24}  {:<16}  {status}",
            user.id, user.email, user.name, user.organisation_id
        );
    }
    Ok(())
}

fn list_clients(config: &Config) {
    println!(
        "{:<24}  {:<28}  {:<12}  redirect_uris",
        "client_id", "name", "type"
    );
    for client in &config.clients {
        let kind = match client.kind {
            ClientKind::Public => "public",
            ClientKind::Confidential(_) => "confidential",
        };
        let uris: Vec<&str> = client.redirect_uris.iter().map(url::Url::as_str).collect();
        println!(
            "{:<24}  {:<28}  {kind:<12}  {}",
            client.id,
            client.name,
            uris.join(" ")
        );
    }
}

/// From standard input when it is not a terminal (one line), else prompted twice without echo.
fn read_secret(prompt: &str) -> anyhow::Result<SecretString> {
    if !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        let secret = line.trim_end_matches(['\r', '\n']).to_owned();
        anyhow::ensure!(!secret.is_empty(), "nothing was given on standard input");
        return Ok(secret.into());
    }
    let first = rpassword::prompt_password(prompt)?;
    let again = rpassword::prompt_password("Again: ")?;
    anyhow::ensure!(first == again, "the two entries differ");
    Ok(first.into())
}
