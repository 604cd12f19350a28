//! A real Gatehouse on 127.0.0.1 with a fresh database, and a relying party built with `openidconnect`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use gatehouse::app::Gatehouse;
use gatehouse_login::password::{HashParams, Passwords};
use gatehouse_notify::smtp_sink::SmtpSink;
use gatehouse_oidc::clock::OffsetClock;
use gatehouse_store::Database;
use openidconnect::core::{CoreClient, CoreProviderMetadata};
use openidconnect::{
    ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    IntrospectionUrl, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RevocationUrl, Scope,
};
use tokio::sync::oneshot;

pub const PASSWORD: &str = "a long and fine password";
pub const SECRET: &str = "web-client-secret-of-some-length";
pub const OTHER_SECRET: &str = "other-client-secret-of-some-length";

pub type Rp = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointSet,
    EndpointSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

pub struct TestServer {
    pub issuer: String,
    /// Where this server listens: the issuer's origin, except for a second node behind the same issuer.
    pub base: String,
    pub clock: Arc<OffsetClock>,
    pub db: Database,
    pub passwords: Passwords,
    pub provider: Arc<gatehouse_oidc::Provider>,
    /// The server's state: the harness asks it what work is left after the answers.
    state: gatehouse_server::AppState,
    /// Receives every e-mail this server sends, over real SMTP on 127.0.0.1.
    pub smtp: SmtpSink,
    /// The SMS outbox: one JSON line per text message.
    pub sms_outbox: PathBuf,
    shutdown: Option<oneshot::Sender<()>>,
    /// Finishes when the server has shut down (requests done, background tasks stopped).
    stopped: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    schema: Option<(String, String)>,
    /// The folder with gatehouse.toml, clients/ and organisations/.
    pub dir: PathBuf,
    _dir: Option<tempfile::TempDir>,
}

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A cheap argon2 hash of a client secret (the parameters travel inside the hash).
fn secret_hash(secret: &str) -> String {
    let passwords = Passwords::new(HashParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    })
    .unwrap();
    passwords.hash(&secret.into()).unwrap()
}

fn client_files() -> &'static [(String, String)] {
    static FILES: OnceLock<Vec<(String, String)>> = OnceLock::new();
    FILES.get_or_init(|| {
        vec![
            (
                "web.toml".into(),
                format!(
                    r#"client_id = "web"
name = "Web Shop"
type = "confidential"
client_secret_hash = "{}"
redirect_uris = ["http://localhost/web/callback", "https://web.example/cb?tenant=7"]
post_logout_redirect_uris = ["http://localhost/web/bye"]
grant_types = ["authorization_code", "refresh_token", "client_credentials"]
scopes = ["openid", "profile", "email", "offline_access", "api.read"]
"#,
                    secret_hash(SECRET)
                ),
            ),
            (
                "other.toml".into(),
                format!(
                    r#"client_id = "other"
name = "Other App"
type = "confidential"
client_secret_hash = "{}"
redirect_uris = ["http://localhost/web/callback"]
grant_types = ["authorization_code", "refresh_token", "client_credentials"]
scopes = ["openid", "email", "offline_access", "api.read"]
id_token_signed_response_alg = "EdDSA"
"#,
                    secret_hash(OTHER_SECRET)
                ),
            ),
            (
                "spa.toml".into(),
                r#"client_id = "spa"
name = "Single Page"
type = "public"
redirect_uris = ["http://localhost/spa/callback"]
post_logout_redirect_uris = ["http://localhost/spa/bye"]
scopes = ["openid", "profile", "email", "offline_access"]
id_token_signed_response_alg = "ES256"
theme = "harbour"
"#
                .into(),
            ),
            (
                "strict-app.toml".into(),
                r#"client_id = "strict-app"
name = "Strict App"
type = "public"
redirect_uris = ["http://localhost/strict/callback"]
scopes = ["openid", "email"]
require_mfa = true
"#
                .into(),
            ),
            (
                "consenting.toml".into(),
                r#"client_id = "consenting"
name = "Consent Needed"
type = "public"
redirect_uris = ["http://localhost/consenting/callback"]
scopes = ["openid", "profile", "email"]
consent = true
"#
                .into(),
            ),
        ]
    })
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with("").await
    }

    /// Starts a server; `extra` is appended to its gatehouse.toml.
    pub async fn start_with(extra: &str) -> Self {
        Self::start_at("127.0.0.1", extra, None).await
    }

    /// Starts a server on PostgreSQL (`DATABASE_URL`) that reaches it through `via` (`host:port`, e.g.
    /// a [`TcpProxy`]) instead of the address in the URL.
    pub async fn start_via(via: std::net::SocketAddr) -> Self {
        Self::start_at("127.0.0.1", "", Some(via)).await
    }

    /// Starts a server whose issuer is `http://localhost:PORT`: passkeys need a host name.
    pub async fn start_on_localhost() -> Self {
        Self::start_at("localhost", "", None).await
    }

    async fn start_at(host: &str, extra: &str, via: Option<std::net::SocketAddr>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{host}:{}", listener.local_addr().unwrap().port());
        let clients = dir.path().join("clients");
        std::fs::create_dir(&clients).unwrap();
        for (name, text) in client_files() {
            std::fs::write(clients.join(name), text).unwrap();
        }
        let smtp = SmtpSink::start().await;
        let mail = format!(
            "[email]\ntransport = \"smtp\"\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"plain\"\nfrom = \"Gatehouse <no-reply@gatehouse.test>\"\n",
            smtp.addr.port()
        );
        let sms_outbox = dir.path().join("sms.jsonl");
        let mail = format!(
            "{mail}\n[sms]\nsender = \"file\"\npath = {:?}\n[outbox]\npoll_interval_ms = 50\n",
            sms_outbox.display().to_string()
        );
        let organisations = dir.path().join("organisations");
        std::fs::create_dir(&organisations).unwrap();
        std::fs::write(
            organisations.join("strict.toml"),
            "id = \"strict\"\ndisplay_name = \"Strict Hosting\"\nmfa = \"required\"\nmethods = [\"totp\", \"email\", \"sms\"]\nremember_device_days = 30\nbackup_link = true\n",
        )
        .unwrap();
        std::fs::write(
            organisations.join("flexible.toml"),
            "id = \"flexible\"\ndisplay_name = \"Flexible Books\"\nmfa = \"off\"\nremember_device_days = 30\ntheme = \"harbour\"\n",
        )
        .unwrap();
        std::fs::write(
            organisations.join("relaxed.toml"),
            "id = \"relaxed\"\ndisplay_name = \"Relaxed Shop\"\nmfa = \"off\"\n",
        )
        .unwrap();
        std::fs::write(
            organisations.join("nist.toml"),
            "id = \"nist\"\ndisplay_name = \"Length Only\"\nmfa = \"off\"\npassword_policy = \"nist\"\n",
        )
        .unwrap();
        let config_path = dir.path().join("gatehouse.toml");
        let config = format!(
            "issuer = {issuer:?}\ndata_dir = {:?}\nclients_dir = {:?}\norganisations_dir = {:?}\n{}master_key = {:?}\n{extra}\n{mail}\n",
            dir.path().join("data").display().to_string(),
            clients.display().to_string(),
            organisations.display().to_string(),
            // The repository's themes, unless the test brings its own.
            if extra.contains("theme_dir") {
                String::new()
            } else {
                format!("theme_dir = {:?}\n", repo().join("themes/default"))
            },
            gatehouse_oidc::MasterKey::generate().to_base64(),
        );
        std::fs::write(&config_path, config).unwrap();
        let config = gatehouse::config::load(&config_path).unwrap();

        let (db, schema) = match std::env::var("DATABASE_URL") {
            Ok(url) if !url.is_empty() => {
                let schema = format!("e2e_{}", uuid_like());
                (
                    Database::connect_with_schema(&through(&url, via), Some(&schema))
                        .await
                        .unwrap(),
                    Some((url, schema)),
                )
            }
            _ => (Database::connect(&config.database_url).await.unwrap(), None),
        };
        let clock = Arc::new(OffsetClock::default());
        let running = Running::launch(config, listener, clock.clone(), db.clone()).await;
        Self {
            base: issuer.clone(),
            issuer,
            clock,
            db,
            state: running.state,
            passwords: running.passwords,
            provider: running.provider,
            smtp,
            sms_outbox,
            shutdown: Some(running.shutdown),
            stopped: Some(running.stopped),
            schema,
            dir: dir.path().to_owned(),
            _dir: Some(dir),
        }
    }

    /// A second Gatehouse on the same database, configuration, master key and issuer, listening on a
    /// port of its own: another node behind the same load balancer. It shares nothing in memory with
    /// `self`; drop it before `self`.
    pub async fn second_node(&self) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let (config, db) = connect_again(&self.dir, &self.schema).await;
        let clock = Arc::new(OffsetClock::default());
        let running = Running::launch(config, listener, clock.clone(), db.clone()).await;
        Self {
            issuer: self.issuer.clone(),
            base,
            clock,
            db,
            state: running.state,
            passwords: running.passwords,
            provider: running.provider,
            smtp: SmtpSink::start().await,
            sms_outbox: self.sms_outbox.clone(),
            shutdown: Some(running.shutdown),
            stopped: Some(running.stopped),
            schema: None,
            dir: self.dir.clone(),
            _dir: None,
        }
    }

    /// Shuts the server down as SIGTERM would, and waits until it has stopped.
    pub async fn shut_down(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.stopped.take() {
            Some(stopped) => stopped.await?,
            None => Ok(()),
        }
    }

    /// Shuts the server down as SIGTERM would and keeps what outlives it: its database, its
    /// configuration, its SMTP sink, its port and the clock. [`StoppedServer::start`] starts it again.
    pub async fn stop(mut self) -> StoppedServer {
        let port = url::Url::parse(&self.base).unwrap().port().unwrap();
        let kept = StoppedServer {
            issuer: self.issuer.clone(),
            port,
            clock: self.clock.clone(),
            db: self.db.clone(),
            // Swapped for one nobody uses: the server being stopped no longer sends mail.
            smtp: std::mem::replace(&mut self.smtp, SmtpSink::start().await),
            sms_outbox: self.sms_outbox.clone(),
            schema: self.schema.take(),
            dir: self.dir.clone(),
            _dir: self._dir.take(),
        };
        self.shut_down().await.unwrap();
        kept
    }

    /// Stops the server and starts a new one in its place: a restart (as after a deployment), with
    /// nothing kept in memory.
    pub async fn restart(self) -> Self {
        self.stop().await.start().await
    }

    /// Waits until the work requests left after their answers is done (a password reset queues its
    /// e-mail there) and the outbox has sent everything queued (e-mail is sent by a worker).
    pub async fn mail_settled(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while self.state.after_answer_in_flight() > 0 || self.db.outbox_depth().await.unwrap() > 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "the outbox did not empty"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Every message sent so far to `to` alone, once the mail has settled.
    pub async fn messages_to(&self, to: &str) -> Vec<gatehouse_notify::smtp_sink::ReceivedEmail> {
        self.mail_settled().await;
        self.smtp
            .messages()
            .await
            .into_iter()
            .filter(|m| m.to == [to.to_owned()])
            .collect()
    }

    /// The text of every e-mail sent so far to `to` alone, once the mail has settled.
    pub async fn mail_to(&self, to: &str) -> Vec<String> {
        self.messages_to(to)
            .await
            .iter()
            .map(|m| m.body_text())
            .collect()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Adds a user with [`PASSWORD`]; returns its id (the `sub`).
    pub async fn add_user(&self, email: &str) -> String {
        self.add_user_in(email, "default").await
    }

    /// Adds a user with [`PASSWORD`] to an organisation (`strict`: MFA required; `relaxed`: MFA off;
    /// `nist`: MFA off, NIST password policy).
    pub async fn add_user_in(&self, email: &str, organisation: &str) -> String {
        let hash = self.passwords.hash(&PASSWORD.into()).unwrap();
        self.db
            .create_user_in(email, "Test Person", &hash, organisation, 1)
            .await
            .unwrap()
            .id
    }

    /// A relying party for `client_id` (secret for the confidential test clients), from discovery.
    pub async fn rp(&self, client_id: &str, redirect: &str) -> Rp {
        let http = http();
        let metadata = CoreProviderMetadata::discover_async(
            IssuerUrl::new(self.issuer.clone()).unwrap(),
            &http,
        )
        .await
        .unwrap();
        let secret = match client_id {
            "web" => Some(ClientSecret::new(SECRET.into())),
            "other" => Some(ClientSecret::new(OTHER_SECRET.into())),
            _ => None,
        };
        CoreClient::from_provider_metadata(metadata, ClientId::new(client_id.into()), secret)
            .set_redirect_uri(RedirectUrl::new(redirect.into()).unwrap())
            .set_revocation_url(RevocationUrl::new(self.url("/revoke")).unwrap())
            .set_introspection_url(IntrospectionUrl::new(self.url("/introspect")).unwrap())
    }
}

/// A server serving in the background.
struct Running {
    state: gatehouse_server::AppState,
    passwords: Passwords,
    provider: Arc<gatehouse_oidc::Provider>,
    shutdown: oneshot::Sender<()>,
    stopped: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Running {
    async fn launch(
        config: gatehouse::config::Config,
        listener: tokio::net::TcpListener,
        clock: Arc<OffsetClock>,
        db: Database,
    ) -> Self {
        let gatehouse = Gatehouse::build_with_database(config, clock, db)
            .await
            .unwrap();
        let (state, passwords, provider) = (
            gatehouse.state.clone(),
            gatehouse.passwords.clone(),
            gatehouse.provider.clone(),
        );
        let (shutdown, rx) = oneshot::channel::<()>();
        let stopped = tokio::spawn(gatehouse.serve(listener, async {
            let _ = rx.await;
        }));
        Self {
            state,
            passwords,
            provider,
            shutdown,
            stopped,
        }
    }
}

/// The configuration in `dir` and a new connection to the same database (the same PostgreSQL schema),
/// as another process would make.
async fn connect_again(
    dir: &Path,
    schema: &Option<(String, String)>,
) -> (gatehouse::config::Config, Database) {
    let config = gatehouse::config::load(&dir.join("gatehouse.toml")).unwrap();
    let db = match schema {
        Some((url, schema)) => Database::connect_with_schema(url, Some(schema))
            .await
            .unwrap(),
        None => Database::connect(&config.database_url).await.unwrap(),
    };
    (config, db)
}

/// What is left of a [`TestServer`] after [`TestServer::stop`]: its database (reachable through
/// `db` meanwhile), configuration, SMTP sink, port and clock.
pub struct StoppedServer {
    issuer: String,
    port: u16,
    pub clock: Arc<OffsetClock>,
    pub db: Database,
    pub smtp: SmtpSink,
    sms_outbox: PathBuf,
    schema: Option<(String, String)>,
    dir: PathBuf,
    _dir: Option<tempfile::TempDir>,
}

impl StoppedServer {
    /// Starts a new server, as a new process would: the same configuration and issuer, on the same
    /// port, with a connection of its own to the same database, and nothing else from before.
    pub async fn start(mut self) -> TestServer {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .unwrap();
        let (config, db) = connect_again(&self.dir, &self.schema).await;
        let running = Running::launch(config, listener, self.clock.clone(), db.clone()).await;
        TestServer {
            base: self.issuer.clone(),
            issuer: self.issuer.clone(),
            clock: self.clock.clone(),
            db,
            state: running.state,
            passwords: running.passwords,
            provider: running.provider,
            smtp: std::mem::replace(&mut self.smtp, SmtpSink::start().await),
            sms_outbox: self.sms_outbox.clone(),
            shutdown: Some(running.shutdown),
            stopped: Some(running.stopped),
            schema: self.schema.take(),
            dir: self.dir.clone(),
            _dir: self._dir.take(),
        }
    }
}

impl Drop for StoppedServer {
    fn drop(&mut self) {
        if let Some((url, schema)) = self.schema.take() {
            Database::drop_schema_blocking(url, schema);
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some((url, schema)) = self.schema.take() {
            Database::drop_schema_blocking(url, schema);
        }
    }
}

fn uuid_like() -> String {
    gatehouse_oidc::random_token()
        .to_lowercase()
        .replace(['-', '_'], "")[..16]
        .to_owned()
}

/// An HTTP client for back-channel calls: never follows redirects (as openidconnect requires).
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A browser: keeps cookies, does not follow redirects so each hop can be checked.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// What the relying party remembers between the redirect and the callback.
pub struct AuthStart {
    pub url: url::Url,
    pub state: CsrfToken,
    pub nonce: Nonce,
    pub verifier: PkceCodeVerifier,
}

/// The authorization URL with PKCE (S256) and nonce, as the library builds it.
pub fn authorization_url(rp: &Rp, scopes: &[&str]) -> AuthStart {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = rp.authorize_url(
        openidconnect::core::CoreAuthenticationFlow::AuthorizationCode,
        CsrfToken::new_random,
        Nonce::new_random,
    );
    for scope in scopes {
        request = request.add_scope(Scope::new((*scope).into()));
    }
    let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
    AuthStart {
        url,
        state,
        nonce,
        verifier,
    }
}

pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .expect("a Location header")
        .to_str()
        .unwrap()
        .to_owned()
}

/// The value of `<input name="{name}" value="...">` on a page.
pub fn form_value(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} field in page:\n{html}"))
        + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_owned()
}

/// Query parameters of a redirect.
pub fn query(location: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

/// The sign-in page reached from an authorization URL: returns (flow, csrf).
pub async fn open_login(browser: &reqwest::Client, auth_url: &str) -> (String, String) {
    let response = browser.get(auth_url).send().await.unwrap();
    assert_eq!(
        response.status(),
        303,
        "authorize should send the browser to the sign-in page"
    );
    let login = location(&response);
    assert!(login.contains("/login?flow="), "{login}");
    let base = url::Url::parse(auth_url).unwrap();
    let page = browser
        .get(base.join(&login).unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    (form_value(&page, "flow"), form_value(&page, "csrf"))
}

/// Posts the login form; returns the response (not followed).
pub async fn post_login(
    server: &TestServer,
    browser: &reqwest::Client,
    flow: &str,
    csrf: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    browser
        .post(server.url("/login"))
        .form(&[
            ("flow", flow),
            ("csrf", csrf),
            ("email", email),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
}

/// Signs in through the hosted page and returns the redirect to the client (with the code).
pub async fn sign_in(
    server: &TestServer,
    browser: &reqwest::Client,
    auth_url: &str,
    email: &str,
) -> String {
    let (flow, csrf) = open_login(browser, auth_url).await;
    let response = post_login(server, browser, &flow, &csrf, email, PASSWORD).await;
    assert_eq!(
        response.status(),
        303,
        "a good sign-in answers 303 See Other"
    );
    location(&response)
}

/// Signs `email` in for `rp` and returns the code with what is needed to redeem it.
pub async fn code_for(
    server: &TestServer,
    rp: &Rp,
    browser: &reqwest::Client,
    email: &str,
    scopes: &[&str],
) -> (String, AuthStart) {
    let start = authorization_url(rp, scopes);
    let location = sign_in(server, browser, start.url.as_str(), email).await;
    let params = query(&location);
    let code = params
        .get("code")
        .unwrap_or_else(|| panic!("no code in {location}"))
        .clone();
    (code, start)
}

/// POSTs a form to the token endpoint with HTTP Basic client authentication.
pub async fn token_request(
    server: &TestServer,
    client: (&str, &str),
    form: &[(&str, &str)],
) -> reqwest::Response {
    http()
        .post(server.url("/token"))
        .basic_auth(client.0, Some(client.1))
        .form(form)
        .send()
        .await
        .unwrap()
}

/// Redeems a code with its PKCE verifier through the library.
pub async fn redeem(
    rp: &Rp,
    code: String,
    start: &AuthStart,
) -> openidconnect::core::CoreTokenResponse {
    rp.exchange_code(openidconnect::AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(PkceCodeVerifier::new(start.verifier.secret().clone()))
        .request_async(&http())
        .await
        .unwrap()
}

/// The text between `start` and the next `end` after it.
pub fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html
        .find(start)
        .unwrap_or_else(|| panic!("{start:?} not in page:\n{html}"))
        + start.len();
    let to = html[from..].find(end).unwrap() + from;
    &html[from..to]
}

impl TestServer {
    /// Every text message sent so far, as (number, text).
    pub fn text_messages(&self) -> Vec<(String, String)> {
        let Ok(outbox) = std::fs::read_to_string(&self.sms_outbox) else {
            return Vec::new();
        };
        outbox
            .lines()
            .map(|line| {
                let message: serde_json::Value = serde_json::from_str(line).unwrap();
                (
                    message["to"].as_str().unwrap().to_owned(),
                    message["text"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    /// Now, on the server's clock.
    pub fn now(&self) -> i64 {
        gatehouse_oidc::Clock::now(&*self.clock)
    }
}

/// The first run of six digits in a text (a code in an e-mail or SMS).
pub fn six_digits(text: &str) -> String {
    let bytes = text.as_bytes();
    (0..bytes.len().saturating_sub(5))
        .find(|&i| {
            bytes[i..i + 6].iter().all(u8::is_ascii_digit)
                && (i == 0 || !bytes[i - 1].is_ascii_digit())
                && bytes.get(i + 6).is_none_or(|b| !b.is_ascii_digit())
        })
        .map(|i| text[i..i + 6].to_owned())
        .unwrap_or_else(|| panic!("no six-digit code in:\n{text}"))
}

/// What an ID token says about the sign-in: its `amr` and `acr`, after the library verified the token
/// (signature, issuer, audience, nonce).
pub fn assurance(
    tokens: &openidconnect::core::CoreTokenResponse,
    rp: &Rp,
    start: &AuthStart,
) -> (Vec<String>, String) {
    use openidconnect::TokenResponse as _;
    let claims = tokens
        .id_token()
        .unwrap()
        .claims(&rp.id_token_verifier(), &start.nonce)
        .unwrap();
    let amr = claims
        .auth_method_refs()
        .unwrap()
        .iter()
        .map(|a| a.to_string())
        .collect();
    (
        amr,
        claims
            .auth_context_ref()
            .map(|a| a.to_string())
            .unwrap_or_default(),
    )
}

/// Where a page's button link goes (the recovery codes' "continue", a notice's next step), decoded.
pub fn button_link(page: &str) -> String {
    decode_entities(between(page, "class=\"button\" href=\"", "\""))
}

/// The link in an e-mail's text that starts with `prefix`.
pub fn link_in(body: &str, prefix: &str) -> String {
    let start = body
        .find(prefix)
        .unwrap_or_else(|| panic!("no link {prefix}… in:\n{body}"));
    body[start..].split_whitespace().next().unwrap().to_owned()
}

/// The authenticator-app key an enrolment page shows, as the app would store it.
pub fn totp_secret_on(page: &str) -> gatehouse_mfa::totp::TotpSecret {
    totp_secret_from_key(between(page, "id=\"secret\">", "<"))
}

/// An authenticator-app key as a person types it (base32, spaces allowed), as the app would store it.
pub fn totp_secret_from_key(key: &str) -> gatehouse_mfa::totp::TotpSecret {
    let key: String = key.split_whitespace().collect();
    gatehouse_mfa::totp::TotpSecret::from_bytes(
        totp_rs::Secret::try_from_base32(&key)
            .unwrap()
            .as_bytes()
            .to_vec(),
    )
}

/// Log output captured in memory, one JSON object per line, as `log_format = "json"` writes it.
#[derive(Clone, Default)]
pub struct Logs(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Captures every log line written on this thread (a `#[tokio::test]` runs the servers it starts on
/// its own thread) at Gatehouse's most detailed level, in the production JSON format, until the guard
/// is dropped.
pub fn capture_logs() -> (Logs, tracing::subscriber::DefaultGuard) {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = gatehouse::logging::subscriber(
        gatehouse::config::LogFormat::Json,
        "info,gatehouse=trace,gatehouse_server=trace,gatehouse_oidc=trace,gatehouse_login=trace,gatehouse_mfa=trace,gatehouse_store=trace,gatehouse_notify=trace,tower_http=trace",
        move || writer.clone(),
    );
    (logs, tracing::subscriber::set_default(subscriber))
}

/// `url` with its host and port replaced by `via`, when given.
fn through(url: &str, via: Option<std::net::SocketAddr>) -> String {
    let Some(via) = via else {
        return url.to_owned();
    };
    let mut parsed = url::Url::parse(url).unwrap();
    parsed.set_ip_host(via.ip()).unwrap();
    parsed.set_port(Some(via.port())).unwrap();
    parsed.to_string()
}

/// A TCP proxy on 127.0.0.1 that can be cut (every connection through it closed, new ones closed at
/// once) and restored: a database outage without stopping the database other tests use.
pub struct TcpProxy {
    pub addr: std::net::SocketAddr,
    cut: Arc<tokio::sync::watch::Sender<bool>>,
    accept: tokio::task::JoinHandle<()>,
}

impl TcpProxy {
    pub async fn start(upstream: std::net::SocketAddr) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let cut = Arc::new(tokio::sync::watch::channel(false).0);
        let accept_cut = cut.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if *accept_cut.borrow() {
                    continue; // dropped: closed at once
                }
                let mut cut = accept_cut.subscribe();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut.wait_for(|cut| *cut) => {}
                    }
                });
            }
        });
        Self { addr, cut, accept }
    }

    pub fn cut(&self) {
        self.cut.send_replace(true);
    }

    pub fn restore(&self) {
        self.cut.send_replace(false);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.cut.send_replace(true);
        self.accept.abort();
    }
}

/// A `<form method="post">` read from a page: where it posts, and its hidden fields, as a browser
/// would submit them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageForm {
    /// The `action` attribute, entities decoded: a path, perhaps with a query.
    pub action: String,
    /// `(name, value)` of every `<input type="hidden">` in the form, in page order.
    pub hidden: Vec<(String, String)>,
}

impl PageForm {
    /// Every POST form on `html`, in page order.
    pub fn all(html: &str) -> Vec<Self> {
        let mut forms = Vec::new();
        let mut rest = html;
        while let Some(start) = rest.find("<form") {
            let tag_end = rest[start..].find('>').unwrap() + start;
            let tag = &rest[start..=tag_end];
            let body_end = rest[tag_end..]
                .find("</form>")
                .map_or(rest.len(), |end| end + tag_end);
            let body = &rest[tag_end..body_end];
            rest = &rest[body_end..];
            if !attribute(tag, "method").is_some_and(|m| m.eq_ignore_ascii_case("post")) {
                continue;
            }
            let hidden = body
                .split("<input")
                .skip(1)
                .map(|input| &input[..input.find('>').unwrap_or(input.len())])
                .filter(|input| attribute(input, "type").as_deref() == Some("hidden"))
                .filter_map(|input| {
                    Some((
                        attribute(input, "name")?,
                        attribute(input, "value").unwrap_or_default(),
                    ))
                })
                .collect();
            forms.push(Self {
                action: attribute(tag, "action").unwrap_or_default(),
                hidden,
            });
        }
        forms
    }

    /// The one POST form on `html`.
    pub fn only(html: &str) -> Self {
        let mut forms = Self::all(html);
        assert_eq!(
            forms.len(),
            1,
            "expected one form on the page, found {:?}:\n{html}",
            forms.iter().map(|f| &f.action).collect::<Vec<_>>()
        );
        forms.remove(0)
    }

    /// The first POST form on `html` whose action's path is `path` (its query aside).
    pub fn posting_to(html: &str, path: &str) -> Self {
        let forms = Self::all(html);
        forms
            .iter()
            .find(|f| f.action.split('?').next() == Some(path))
            .cloned()
            .unwrap_or_else(|| {
                panic!(
                    "no form posting to {path}, only {:?}:\n{html}",
                    forms.iter().map(|f| &f.action).collect::<Vec<_>>()
                )
            })
    }

    /// POSTs the form from `browser` to `server`: its hidden fields, then `fields`; a field in
    /// `fields` replaces a hidden field of the same name. The response is not followed.
    pub async fn submit<V: AsRef<str>>(
        &self,
        server: &TestServer,
        browser: &reqwest::Client,
        fields: &[(&str, V)],
    ) -> reqwest::Response {
        let mut body: Vec<(&str, &str)> = self
            .hidden
            .iter()
            .filter(|(name, _)| !fields.iter().any(|(n, _)| n == name))
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        body.extend(fields.iter().map(|(n, v)| (*n, v.as_ref())));
        let url = url::Url::parse(&server.url("/"))
            .unwrap()
            .join(&self.action)
            .unwrap();
        browser.post(url).form(&body).send().await.unwrap()
    }
}

/// For a form submitted with its hidden fields alone.
pub const NO_FIELDS: &[(&str, &str)] = &[];

/// Submits the one form on `page` (HTML) with its hidden fields (`csrf`, `flow`, …) and `fields`.
pub async fn submit_form<V: AsRef<str>>(
    server: &TestServer,
    browser: &reqwest::Client,
    page: &str,
    fields: &[(&str, V)],
) -> reqwest::Response {
    PageForm::only(page).submit(server, browser, fields).await
}

/// Submits the form on `page` that posts to `path`, with its hidden fields and `fields`.
pub async fn submit_form_to<V: AsRef<str>>(
    server: &TestServer,
    browser: &reqwest::Client,
    page: &str,
    path: &str,
    fields: &[(&str, V)],
) -> reqwest::Response {
    PageForm::posting_to(page, path)
        .submit(server, browser, fields)
        .await
}

/// The body of `GET path` on `server`, whatever its status.
pub async fn page_at(server: &TestServer, browser: &reqwest::Client, path: &str) -> String {
    browser
        .get(server.url(path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The value of attribute `name` in an HTML tag's text, entities decoded.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let marker = format!(" {name}=\"");
    let start = tag.find(&marker)? + marker.len();
    let end = tag[start..].find('"')? + start;
    Some(decode_entities(&tag[start..end]))
}

/// Undoes the escaping the templates apply to attribute values.
fn decode_entities(text: &str) -> String {
    [
        ("&#x2f;", "/"),
        ("&#47;", "/"),
        ("&#x27;", "'"),
        ("&#39;", "'"),
        ("&quot;", "\""),
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&amp;", "&"),
    ]
    .iter()
    .fold(text.to_owned(), |text, (entity, plain)| {
        text.replace(entity, plain)
    })
}
