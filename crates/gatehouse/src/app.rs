//! Building a running Gatehouse from a [`Config`]: database, keys, theme, state and router.

use std::sync::Arc;

use anyhow::Context as _;
use axum::Router;
use axum::serve::ListenerExt as _;
use gatehouse_login::password::Passwords;
use gatehouse_login::theme::Themes;
use gatehouse_mfa::passkey::{PasskeyConfig, Passkeys};
use gatehouse_notify::email::EmailSender;
use gatehouse_oidc::client::{Client, ClientKind, ClientRegistry, GrantType};
use gatehouse_oidc::keys::SigningAlg;
use gatehouse_oidc::scope::Scopes;
use gatehouse_oidc::{Clock, Provider};
use gatehouse_server::outbox::OutboxPolicy;
use gatehouse_server::{AppState, DemoAccount, Senders, Settings};
use gatehouse_store::{Database, StoreError};
use secrecy::SecretString;
use tokio::net::TcpListener;

use crate::background::Background;
use crate::config::Config;
use crate::demo;

pub const DEMO_EMAIL: &str = "demo@example.com";
pub const DEMO_PASSWORD: &str = "correct-horse-demo";

/// A built, not yet listening, Gatehouse.
#[derive(Debug)]
pub struct Gatehouse {
    pub state: AppState,
    pub provider: Arc<Provider>,
    pub db: Database,
    pub passwords: Passwords,
    pub config: Config,
}

impl Gatehouse {
    /// Connects to the configured database and builds everything.
    pub async fn build(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let db = Database::connect(&config.database_url)
            .await
            .context("connecting to the database")?;
        Self::build_with_database(config, clock, db).await
    }

    /// Migrates `db`, loads keys (generating them on first start), the theme and the demo when on.
    pub async fn build_with_database(
        config: Config,
        clock: Arc<dyn Clock>,
        db: Database,
    ) -> anyhow::Result<Self> {
        db.migrate().await.context("migrating the database")?;
        let master_key = config.master_key()?;
        let registry = client_registry(&config)?;
        let provider = Arc::new(
            Provider::new(
                config.issuer.clone(),
                registry,
                Arc::new(db.clone()),
                config.lifetimes(),
                clock.clone(),
                master_key,
            )
            .await
            .context("loading signing keys")?,
        );
        let passwords = Passwords::new(config.hash_params())?;
        let theme = load_themes(&config)?;
        let demo = if config.file.demo {
            ensure_user(
                &db,
                &passwords,
                DEMO_EMAIL,
                "Demo User",
                DEMO_PASSWORD,
                clock.now(),
            )
            .await?;
            Some(DemoAccount {
                email: DEMO_EMAIL.into(),
                password: DEMO_PASSWORD.into(),
            })
        } else {
            None
        };
        let settings = Settings {
            secure_cookies: config.issuer.starts_with("https://"),
            session_lifetime: config.file.tokens.session,
            sign_in_lifetime: config.file.tokens.sign_in,
            throttle: config.throttle(),
            max_concurrent_hashes: config.file.password_hashing.max_concurrent,
            max_queued_hashes: config.file.password_hashing.max_queued,
            demo,
            display_name: config.file.display_name.clone(),
            mfa_attempts: config.mfa_attempts(),
            outbox: OutboxPolicy {
                poll_interval: std::time::Duration::from_millis(
                    config.file.outbox.poll_interval_ms.max(10),
                ),
                max_attempts: config.file.outbox.max_attempts.max(1),
            },
            sms_countries: config.file.mfa.sms_countries.clone(),
            organisations: config.organisations.clone(),
            password_policies: config.password_policies.clone(),
            mfa_methods: config
                .file
                .mfa
                .methods
                .iter()
                .filter_map(|m| gatehouse_mfa::MethodKind::parse(m))
                .collect(),
            trusted_proxies: config.trusted_proxies.clone(),
            metrics_token: config.file.metrics_token.clone().map(SecretString::from),
        };
        let senders = Senders {
            email: Some(EmailSender::new(&config.email()).context("setting up e-mail")?),
            sms: Some(gatehouse_notify::sms::sms_sender(&config.sms()).context("setting up SMS")?),
            passkeys: passkeys(&config),
        };
        let state = AppState::new(
            provider.clone(),
            db.clone(),
            theme,
            passwords.clone(),
            settings,
            senders,
        )
        .context("starting the password hashing threads")?;
        Ok(Self {
            state,
            provider,
            db,
            passwords,
            config,
        })
    }

    pub fn router(&self) -> Router {
        let extra = if self.config.file.demo {
            demo::routes(&self.config.issuer)
        } else {
            Router::new()
        };
        gatehouse_server::router(self.state.clone(), extra)
    }

    /// Serves on `listener` until `shutdown` completes, with the background tasks (key reload,
    /// retention, configuration reload) and, when configured, the metrics listener. On shutdown the
    /// listener stops accepting, in-flight requests finish, then the background tasks stop.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop_outbox, outbox_stopped) = tokio::sync::oneshot::channel::<()>();
        let outbox = tokio::spawn(gatehouse_server::outbox::run(self.state.clone(), async {
            let _ = outbox_stopped.await;
        }));
        let metrics = match self.config.file.metrics_listen {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("listening for metrics on {addr}"))?,
            ),
            None => None,
        };
        let background = Background::start(&self);
        // Start-up's temporary memory (the dummy password hash's 19 MiB) goes back before serving.
        crate::allocator::release_free_memory();
        crate::allocator::return_freed_memory_at_once(false);
        if let Some(metrics) = metrics {
            let router = gatehouse_server::metrics_router(self.state.clone());
            let stopped = background.stopped();
            tokio::spawn(async move {
                if let Err(e) = axum::serve(metrics, router)
                    .with_graceful_shutdown(stopped)
                    .await
                {
                    tracing::error!(error = %e, "the metrics listener failed");
                }
            });
        }
        let app = self
            .router()
            .into_make_service_with_connect_info::<std::net::SocketAddr>();
        // Each response goes out as soon as it is written: without TCP_NODELAY a response written in
        // two parts waits for the client's acknowledgement of the first (Nagle's algorithm).
        let listener = listener.tap_io(|stream| {
            if let Err(e) = stream.set_nodelay(true) {
                tracing::debug!(error = %e, "cannot set TCP_NODELAY on a connection");
            }
        });
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await;
        tracing::info!("requests finished; stopping background tasks");
        // A password reset asked for just before is saved, and its e-mail queued, before the outbox stops.
        if !self
            .state
            .finish_after_answer_work(std::time::Duration::from_secs(10))
            .await
        {
            tracing::warn!("work left by the last requests did not finish within 10 s");
        }
        // The worker finishes the message it is sending; the rest wait in the outbox.
        let _ = stop_outbox.send(());
        let _ = outbox.await;
        background.stop().await;
        tracing::info!("stopped");
        Ok(served?)
    }
}

/// The registered clients: the client files, plus the demo app when the demo is on.
pub(crate) fn client_registry(config: &Config) -> anyhow::Result<ClientRegistry> {
    let mut clients = config.clients.clone();
    if config.file.demo {
        clients.push(demo_client(&config.issuer)?);
    }
    ClientRegistry::new(clients).map_err(|id| anyhow::anyhow!("client_id {id:?} is used twice"))
}

/// The default theme and every theme a client or an organisation names, each checked now.
pub fn load_themes(config: &Config) -> anyhow::Result<Themes> {
    let names = config
        .clients
        .iter()
        .filter_map(|c| c.theme.as_deref())
        .chain(config.organisations.iter().map(|o| o.theme.as_str()));
    Themes::load(&config.file.theme_dir, names).context("loading themes")
}

/// Passkeys are bound to the issuer's host name; browsers refuse them for IP addresses.
fn passkeys(config: &Config) -> Option<Passkeys> {
    let issuer = url::Url::parse(&config.issuer).ok()?;
    match PasskeyConfig::for_issuer(&issuer, &config.file.display_name)
        .and_then(|c| Passkeys::new(&c))
    {
        Ok(passkeys) => Some(passkeys),
        Err(e) => {
            tracing::warn!(error = %e, "passkeys are off");
            None
        }
    }
}

async fn ensure_user(
    db: &Database,
    passwords: &Passwords,
    email: &str,
    name: &str,
    password: &str,
    now: i64,
) -> anyhow::Result<()> {
    if db.user_by_email(email).await?.is_some() {
        return Ok(());
    }
    let hash = passwords.hash(&SecretString::from(password))?;
    match db.create_user(email, name, &hash, now).await {
        Ok(_) | Err(StoreError::DuplicateEmail) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The built-in demo app: a public client with PKCE, only when `demo = true`.
fn demo_client(issuer: &str) -> anyhow::Result<Client> {
    Ok(Client {
        id: demo::CLIENT_ID.into(),
        name: "Gatehouse demo app".into(),
        kind: ClientKind::Public,
        redirect_uris: vec![url::Url::parse(&format!("{issuer}{}", demo::CALLBACK))?],
        post_logout_redirect_uris: vec![url::Url::parse(&format!("{issuer}/"))?],
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        scopes: Scopes::parse("openid profile email offline_access"),
        id_token_signing_alg: SigningAlg::RS256,
        consent: false,
        require_pkce: true,
        require_mfa: false,
        theme: None,
    })
}
