//! Shared application state, built once by the binary.

use std::collections::BTreeMap;
use std::sync::Arc;
use tokio_util::task::TaskTracker;

use arc_swap::ArcSwap;
use gatehouse_login::LoginError;
use gatehouse_login::csrf::CsrfKey;
use gatehouse_login::i18n::Text;
use gatehouse_login::password::Passwords;
use gatehouse_login::password_policy::PasswordPolicy;
use gatehouse_login::theme::{PageLanguage, Theme, Themes};
use gatehouse_login::throttle::ThrottlePolicy;
use gatehouse_mfa::MethodKind;
use gatehouse_mfa::attempts::AttemptPolicy;
use gatehouse_mfa::passkey::Passkeys;
use gatehouse_mfa::policy::Organisation;
use gatehouse_notify::email::EmailSender;
use gatehouse_notify::sms::SmsSender;
use gatehouse_oidc::Provider;
use gatehouse_store::Database;
use secrecy::SecretString;
use tokio::sync::Notify;

use crate::hashing::{Hashing, HashingBusy};
use crate::outbox::OutboxPolicy;

use crate::forwarded::TrustedProxies;
use crate::metrics::Metrics;

/// How long a request waits for its argon2 hash before it is turned away.
const HASH_MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The demo account shown on the home page when the demo is on.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// Cookies get `Secure` when the issuer is https.
    pub secure_cookies: bool,
    /// How long a browser session lasts, in seconds.
    pub session_lifetime: i64,
    /// How long a person has to finish signing in, in seconds.
    pub sign_in_lifetime: i64,
    pub throttle: ThrottlePolicy,
    /// At most this many password hashes run at once (one thread each) …
    pub max_concurrent_hashes: usize,
    /// … and at most this many wait for a thread; more get 503 at once, as do those still waiting
    /// after 10 s.
    pub max_queued_hashes: usize,
    pub demo: Option<DemoAccount>,
    /// Countries (ISO 3166 codes) whose mobile numbers may receive SMS codes.
    pub sms_countries: Vec<String>,
    /// The second factors people may add (any organisation's; each organisation narrows it).
    pub mfa_methods: Vec<MethodKind>,
    /// Every organisation, by id; `default` always exists. The list at start; a reload replaces it
    /// through [`AppState::replace_organisations`].
    pub organisations: Vec<Organisation>,
    /// Each organisation's rules for new passwords, by organisation id; at start, like `organisations`.
    pub password_policies: BTreeMap<String, PasswordPolicy>,
    /// The name people see for this service; also the issuer label in authenticator apps.
    pub display_name: String,
    pub mfa_attempts: AttemptPolicy,
    pub outbox: OutboxPolicy,
    /// Reverse proxies whose forwarded headers give the client's address (none by default).
    pub trusted_proxies: TrustedProxies,
    /// Bearer token for `/metrics` on the main port; without one it answers 404 there.
    pub metrics_token: Option<SecretString>,
}

/// How codes and notices reach people, and the passkey service.
#[derive(Debug, Clone, Default)]
pub struct Senders {
    pub email: Option<EmailSender>,
    pub sms: Option<Arc<dyn SmsSender>>,
    pub passkeys: Option<Passkeys>,
}

#[derive(Debug, Clone)]
pub struct AppState(pub(crate) Arc<Inner>);

#[derive(Debug)]
pub(crate) struct Inner {
    pub provider: Arc<Provider>,
    pub db: Database,
    /// Compiled once at start; replaced whole when `dev = true` and a theme file changes.
    themes: ArcSwap<Themes>,
    pub passwords: Passwords,
    pub hashing: Hashing,
    pub csrf: CsrfKey,
    /// HMAC key of stored recovery codes.
    pub recovery_key: [u8; 32],
    /// HMAC key of codes sent by e-mail or SMS.
    pub code_key: [u8; 32],
    pub email: Option<EmailSender>,
    pub sms: Option<Arc<dyn SmsSender>>,
    /// Passkeys, when the issuer has a host name (browsers refuse passkeys for IP addresses).
    pub passkeys: Option<Passkeys>,
    pub settings: Settings,
    /// The organisations and their password rules now in force (swapped whole when their files change).
    pub organisations: ArcSwap<LiveOrganisations>,
    pub metrics: Metrics,
    pub discovery_json: String,
    /// Wakes the outbox worker when a page queues an e-mail.
    pub outbox_wake: Notify,
    /// Work a request leaves running after its answer (saving a password reset and queuing its
    /// e-mail); shutdown waits for it.
    pub after_answer: TaskTracker,
}

impl AppState {
    /// The state of a server; `Err` when its hashing threads cannot be started.
    pub fn new(
        provider: Arc<Provider>,
        db: Database,
        themes: Themes,
        passwords: Passwords,
        settings: Settings,
        senders: Senders,
    ) -> std::io::Result<Self> {
        let csrf = CsrfKey::new(provider.master_key.derive("gatehouse csrf v1"));
        let recovery_key = provider.master_key.derive("gatehouse recovery codes v1");
        let code_key = provider.master_key.derive("gatehouse sent codes v1");
        let languages: Vec<&str> = themes
            .default_theme()
            .translations()
            .languages()
            .iter()
            .map(|l| l.code.as_str())
            .collect();
        let discovery_json = provider.discovery_document(&languages).to_string();
        let hashing = Hashing::start(
            settings.max_concurrent_hashes,
            settings.max_queued_hashes,
            HASH_MAX_WAIT,
        )?;
        Ok(Self(Arc::new(Inner {
            hashing,
            provider,
            db,
            themes: ArcSwap::from_pointee(themes),
            passwords,
            csrf,
            recovery_key,
            code_key,
            email: senders.email,
            sms: senders.sms,
            passkeys: senders.passkeys,
            organisations: ArcSwap::from_pointee(LiveOrganisations::new(
                &settings.organisations,
                settings.password_policies.clone(),
            )),
            metrics: Metrics::default(),
            settings,
            discovery_json,
            outbox_wake: Notify::new(),
            after_answer: TaskTracker::new(),
        })))
    }

    /// Runs `work` after the answer to the request that starts it; [`Self::finish_after_answer_work`]
    /// waits for it, so a shutdown does not cut it off.
    pub fn spawn_after_answer<F>(&self, work: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.0.after_answer.spawn(work);
    }

    /// How much work requests left running after their answers is still under way.
    pub fn after_answer_in_flight(&self) -> usize {
        self.0.after_answer.len()
    }

    /// Waits, at most `limit`, for the work requests left running after their answers (once no more
    /// requests come in). Whether it all finished.
    pub async fn finish_after_answer_work(&self, limit: std::time::Duration) -> bool {
        self.0.after_answer.close();
        tokio::time::timeout(limit, self.0.after_answer.wait())
            .await
            .is_ok()
    }

    pub fn provider(&self) -> &Arc<Provider> {
        &self.0.provider
    }

    /// This server's metrics (the outbox worker reports its depth here).
    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    /// Puts a reloaded list of organisations in force at once; requests under way keep what they read.
    pub fn replace_organisations(
        &self,
        organisations: &[Organisation],
        password_policies: BTreeMap<String, PasswordPolicy>,
    ) {
        self.0.organisations.store(Arc::new(LiveOrganisations::new(
            organisations,
            password_policies,
        )));
    }

    /// Whether people of any organisation may add a factor of this kind here (and, for passkeys,
    /// whether they work here).
    pub fn offers(&self, method: MethodKind) -> bool {
        self.0
            .organisations
            .load()
            .list
            .iter()
            .any(|o| o.methods.contains(&method))
            && (method != MethodKind::Passkey || self.0.passkeys.is_some())
    }

    /// Whether people of organisation `organisation_id` may add a factor of this kind.
    pub fn offers_to(&self, organisation_id: &str, method: MethodKind) -> bool {
        self.organisation(organisation_id)
            .is_some_and(|o| o.methods.contains(&method))
            && (method != MethodKind::Passkey || self.0.passkeys.is_some())
    }

    /// The organisation `id`, or the default one when it is not (or no longer) configured.
    pub fn organisation(&self, id: &str) -> Option<Arc<Organisation>> {
        let live = self.0.organisations.load();
        let all = &live.list;
        all.iter()
            .find(|o| o.id == id)
            .or_else(|| all.iter().find(|o| o.id == "default"))
            .cloned()
    }

    /// The rules a new password of someone in organisation `organisation_id` must follow (those of
    /// the default organisation when it is not, or no longer, configured). Check with
    /// [`gatehouse_login::password_policy::check`].
    pub fn password_policy(&self, organisation_id: &str) -> PasswordPolicy {
        let live = self.0.organisations.load();
        let policies = &live.password_policies;
        policies
            .get(organisation_id)
            .or_else(|| policies.get("default"))
            .copied()
            .unwrap_or_default()
    }

    /// The theme of this request (see `theme_choice`), rendering in its language (see `language`).
    pub fn theme(&self) -> PageTheme {
        PageTheme {
            themes: self.themes(),
            requested: crate::theme_choice::requested(),
            language: crate::language::current(),
        }
    }

    /// Runs `work` (an argon2 hash: a password or a client secret) on a hashing thread.
    pub async fn hash<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Self) -> T + Send + 'static,
    ) -> Result<T, HashingBusy> {
        let state = self.clone();
        self.0.hashing.run(move || work(&state)).await
    }

    /// Every theme in force.
    pub fn themes(&self) -> Arc<Themes> {
        self.0.themes.load_full()
    }

    /// Puts a newly compiled set of themes in force (`dev = true`: a theme file changed).
    pub fn replace_themes(&self, themes: Themes) {
        self.0.themes.store(Arc::new(themes));
    }

    /// `text` in the language of this request.
    pub fn text(&self, text: &Text) -> String {
        self.theme().text(text)
    }

    /// Whether the theme `name` was loaded at start (themes are compiled once; a new one needs a restart).
    pub fn has_theme(&self, name: &str) -> bool {
        self.themes().get(Some(name)).name() == name
    }

    /// The theme a sign-in for `client_id` by a person of `organisation_id` (when known) is shown in:
    /// the client's, else the organisation's; `None` for the default.
    pub fn theme_for(
        &self,
        client_id: Option<&str>,
        organisation_id: Option<&str>,
    ) -> Option<String> {
        let client = client_id
            .and_then(|id| self.0.provider.clients.get(id))
            .and_then(|c| c.theme.clone());
        let chosen = client.or_else(|| {
            organisation_id
                .and_then(|id| self.organisation(id))
                .map(|o| o.theme.clone())
        })?;
        let themes = self.themes();
        (themes.get(Some(&chosen)).name() == chosen && chosen != themes.default_theme().name())
            .then_some(chosen)
    }
}

/// A theme and the language to render it in: what a request's pages and messages are made with.
pub struct PageTheme {
    themes: Arc<Themes>,
    requested: Option<String>,
    language: PageLanguage,
}

impl PageTheme {
    fn theme(&self) -> &Theme {
        self.themes.get(self.requested.as_deref())
    }

    pub fn render(&self, page: &str, context: impl serde::Serialize) -> Result<String, LoginError> {
        self.theme().render_in(page, &self.language, context)
    }

    /// `text` in this language.
    pub fn text(&self, text: &Text) -> String {
        self.theme().translations().text(&self.language.code, text)
    }
}

/// The organisations in force, with their password rules: replaced together on reload.
#[derive(Debug)]
pub(crate) struct LiveOrganisations {
    pub list: Vec<Arc<Organisation>>,
    pub password_policies: BTreeMap<String, PasswordPolicy>,
}

impl LiveOrganisations {
    fn new(
        organisations: &[Organisation],
        password_policies: BTreeMap<String, PasswordPolicy>,
    ) -> Self {
        Self {
            list: organisations.iter().cloned().map(Arc::new).collect(),
            password_policies,
        }
    }
}
