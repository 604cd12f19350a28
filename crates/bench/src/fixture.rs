//! A Gatehouse set up for one run: a temporary folder with `gatehouse.toml` and client files, a
//! master key, and a fresh database (an SQLite file, or a new PostgreSQL database).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail, ensure};
use argon2::PasswordHasher as _;
use sea_orm::ConnectionTrait as _;

use crate::http::ClientCreds;
use crate::server::free_port;

pub const REDIRECT_URI: &str = "http://localhost/bench/callback";

/// Where the data lives.
#[derive(Debug)]
pub enum Store {
    Sqlite {
        url: String,
    },
    Postgres {
        admin_url: String,
        name: String,
        url: String,
    },
}

impl Store {
    pub fn url(&self) -> &str {
        match self {
            Self::Sqlite { url } | Self::Postgres { url, .. } => url,
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Self::Sqlite { .. } => "SQLite",
            Self::Postgres { .. } => "PostgreSQL",
        }
    }
}

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub binary: PathBuf,
    pub config: PathBuf,
    pub master_key: String,
    pub port: u16,
    pub store: Store,
    /// Signs ES256 tokens; also the client of every sign-in, code, refresh, userinfo and introspection.
    pub es256: ClientCreds,
    pub rs256: ClientCreds,
}

fn client_file(id: &str, alg: &str, secret_hash: &str) -> String {
    format!(
        r#"client_id = "{id}"
name = "Benchmark {alg}"
type = "confidential"
client_secret_hash = "{secret_hash}"
redirect_uris = ["{REDIRECT_URI}"]
grant_types = ["authorization_code", "refresh_token", "client_credentials"]
scopes = ["openid", "profile", "email", "offline_access", "api.read"]
id_token_signed_response_alg = "{alg}"
consent = false
"#
    )
}

/// An argon2id hash with the server's default parameters (m=19 MiB, t=2, p=1).
pub fn argon2_hash(secret: &str) -> anyhow::Result<String> {
    let salt = argon2::password_hash::SaltString::generate(&mut rand::rngs::OsRng);
    Ok(argon2::Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))?
        .to_string())
}

/// Runs `rounds` argon2id hashes with the server's default parameters after one to warm up, reusing
/// one working buffer as the server's password checks do. Returns the CPU time the calling thread
/// spent on the `rounds`: unlike the time on the clock, it does not count the time other processes
/// had the core, but it does count waiting for memory.
pub fn argon2_rounds(rounds: u32) -> anyhow::Result<std::time::Duration> {
    let argon2 = argon2::Argon2::default();
    let mut memory = vec![argon2::Block::default(); argon2.params().block_count()];
    let mut out = [0u8; 32];
    let mut hash = |i: u32| {
        argon2
            .hash_password_into_with_memory(
                format!("a benchmark password {i}").as_bytes(),
                b"a salt of sixteen bytes",
                &mut out,
                &mut memory,
            )
            .map_err(|e| anyhow::anyhow!("argon2: {e}"))
    };
    hash(0)?;
    let start = thread_cpu_time()?;
    for i in 1..=rounds {
        hash(i)?;
    }
    Ok(thread_cpu_time()? - start)
}

/// CPU time of the calling thread, from `/proc/thread-self/schedstat` (nanoseconds on the CPU).
fn thread_cpu_time() -> anyhow::Result<std::time::Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat")
        .context("reading /proc/thread-self/schedstat")?;
    let nanos: u64 = text
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .context("parsing /proc/thread-self/schedstat")?;
    Ok(std::time::Duration::from_nanos(nanos))
}

fn random_secret() -> String {
    gatehouse_oidc::random_token()
}

impl Fixture {
    pub async fn new(
        binary: &Path,
        theme_dir: &Path,
        database_url: Option<&str>,
    ) -> anyhow::Result<Self> {
        ensure!(
            binary.exists(),
            "{} does not exist: build it with `cargo build --release -p gatehouse`",
            binary.display()
        );
        let theme_dir = &std::fs::canonicalize(theme_dir)
            .with_context(|| format!("the theme folder {}", theme_dir.display()))?;
        let dir = tempfile::Builder::new()
            .prefix("gatehouse-bench")
            .tempdir()?;
        let port = free_port()?;
        let clients = dir.path().join("clients");
        let organisations = dir.path().join("organisations");
        std::fs::create_dir(&clients)?;
        std::fs::create_dir(&organisations)?;
        let es256 = ClientCreds {
            id: "bench-es256".into(),
            secret: random_secret(),
            redirect_uri: REDIRECT_URI.into(),
        };
        let rs256 = ClientCreds {
            id: "bench-rs256".into(),
            secret: random_secret(),
            redirect_uri: REDIRECT_URI.into(),
        };
        std::fs::write(
            clients.join("bench-es256.toml"),
            client_file(&es256.id, "ES256", &argon2_hash(&es256.secret)?),
        )?;
        std::fs::write(
            clients.join("bench-rs256.toml"),
            client_file(&rs256.id, "RS256", &argon2_hash(&rs256.secret)?),
        )?;
        let store = match database_url {
            None => Store::Sqlite {
                url: format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("data/gatehouse.db").display()
                ),
            },
            Some(url) => fresh_postgres(url).await?,
        };
        let config = dir.path().join("gatehouse.toml");
        let text = format!(
            r#"issuer = "http://127.0.0.1:{port}"
listen = "127.0.0.1:{port}"
data_dir = {data:?}
database_url = {database:?}
clients_dir = {clients:?}
organisations_dir = {organisations:?}
theme_dir = {theme:?}
demo = false

[tokens]
# Codes are minted before the exchange scenario starts and must outlive it.
authorization_code = 600
"#,
            data = dir.path().join("data").display().to_string(),
            database = store.url(),
            clients = clients.display().to_string(),
            organisations = organisations.display().to_string(),
            theme = theme_dir.display().to_string(),
        );
        std::fs::write(&config, text)?;
        Ok(Self {
            binary: std::fs::canonicalize(binary)?,
            config,
            master_key: gatehouse_oidc::MasterKey::generate().to_base64(),
            port,
            store,
            es256,
            rs256,
            dir,
        })
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.binary);
        command
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .env("GATEHOUSE_MASTER_KEY", &self.master_key)
            .env_remove("GATEHOUSE_DATABASE_URL")
            .current_dir(self.dir.path());
        command
    }

    /// `gatehouse migrate`: the schema, made by the binary itself.
    pub fn migrate(&self) -> anyhow::Result<()> {
        let output = self.command(&["migrate"]).output()?;
        if !output.status.success() {
            bail!(
                "gatehouse migrate failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    }

    pub fn log(&self, name: &str) -> PathBuf {
        self.dir.path().join(format!("{name}.log"))
    }

    /// Drops the PostgreSQL database made for this run.
    pub async fn cleanup(&self) -> anyhow::Result<()> {
        if let Store::Postgres {
            admin_url, name, ..
        } = &self.store
        {
            let admin = sea_orm::Database::connect(admin_url.as_str()).await?;
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await?;
            admin.close().await?;
        }
        Ok(())
    }
}

/// A new database next to the one `admin_url` names, so every run starts empty.
async fn fresh_postgres(admin_url: &str) -> anyhow::Result<Store> {
    let name = format!(
        "gatehouse_bench_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let admin = sea_orm::Database::connect(admin_url)
        .await
        .context("connecting to PostgreSQL")?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .context("creating the benchmark database")?;
    admin.close().await?;
    let mut url = url::Url::parse(admin_url)?;
    url.set_path(&format!("/{name}"));
    Ok(Store::Postgres {
        admin_url: admin_url.to_owned(),
        name,
        url: url.to_string(),
    })
}
