//! What the load generator says over HTTP: a relying party's back-channel calls and a browser's
//! sign-in, each checked for the status and body a correct provider answers.

use std::net::SocketAddr;

use anyhow::{anyhow, bail, ensure};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand::RngCore as _;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde::Deserialize;
use sha2::Digest as _;

use crate::wire::{Request, Wire};

/// One registered client of the server under test.
#[derive(Debug, Clone)]
pub struct ClientCreds {
    pub id: String,
    pub secret: String,
    pub redirect_uri: String,
}

/// Which server is under test: the hosted sign-in pages differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    Gatehouse,
    /// `oidc-provider` with the launcher in `peer/`: a one-field interaction, no password.
    Peer,
}

/// The server under test and the clients it knows.
#[derive(Debug, Clone)]
pub struct Target {
    pub flavour: Flavour,
    pub base: String,
    /// Where `base` points, and its `Host` header.
    pub addr: SocketAddr,
    pub host: String,
    pub http: reqwest::Client,
    /// The client for sign-ins, code exchange, refresh, userinfo and introspection.
    pub client: ClientCreds,
    /// The paths of the endpoints (Gatehouse and the peer name some differently).
    pub paths: Paths,
    /// Scopes asked for at sign-in.
    pub scope: String,
}

#[derive(Debug, Clone)]
pub struct Paths {
    pub discovery: String,
    pub jwks: String,
    pub authorize: String,
    pub token: String,
    pub userinfo: String,
    pub introspect: String,
}

impl Paths {
    pub fn gatehouse() -> Self {
        Self {
            discovery: "/.well-known/openid-configuration".into(),
            jwks: "/jwks".into(),
            authorize: "/authorize".into(),
            token: "/token".into(),
            userinfo: "/userinfo".into(),
            introspect: "/introspect".into(),
        }
    }

    pub fn peer() -> Self {
        Self {
            discovery: "/.well-known/openid-configuration".into(),
            jwks: "/jwks".into(),
            authorize: "/auth".into(),
            token: "/token".into(),
            userinfo: "/me".into(),
            introspect: "/token/introspection".into(),
        }
    }
}

/// A keep-alive HTTP/1.1 client that never follows redirects, so each hop is checked: the browser's
/// side of a sign-in. The back channel uses [`Wire`].
pub fn browser_client(concurrency: usize) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(concurrency * 2)
        .tcp_nodelay(true)
        .http1_only()
        .build()?)
}

#[derive(Debug, Deserialize)]
pub struct Tokens {
    pub access_token: String,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub id_token: Option<String>,
    pub token_type: String,
}

impl Target {
    pub fn new(
        flavour: Flavour,
        base: String,
        concurrency: usize,
        client: ClientCreds,
        paths: Paths,
    ) -> anyhow::Result<Self> {
        let url = url::Url::parse(&base)?;
        let addr = url
            .socket_addrs(|| None)?
            .into_iter()
            .next()
            .ok_or_else(|| anyhow!("{base} names no address"))?;
        let host = url[url::Position::BeforeHost..url::Position::AfterPort].to_owned();
        Ok(Self {
            flavour,
            base,
            addr,
            host,
            http: browser_client(concurrency)?,
            client,
            paths,
            scope: "openid profile email offline_access".into(),
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A back-channel connection of its own, for one worker.
    pub async fn wire(&self) -> anyhow::Result<Wire> {
        Wire::connect(self.addr).await
    }

    pub fn get(&self, path: &str) -> Request {
        Request::get(&self.host, path, None)
    }

    /// Sends `request` and expects 200 with a JSON body that has `field`.
    pub async fn get_json_with(
        &self,
        wire: &mut Wire,
        request: &Request,
        field: &str,
    ) -> anyhow::Result<()> {
        let value: serde_json::Value = wire.json(request, "GET").await?;
        ensure!(value.get(field).is_some(), "GET: no {field} in body");
        Ok(())
    }

    /// A form POST to the token endpoint with HTTP Basic client authentication.
    pub fn token_request(&self, client: &ClientCreds, form: &[(&str, &str)]) -> Request {
        Request::post_form(&self.host, &self.paths.token, Some(&basic(client)), form)
    }

    /// Sends a token request and checks the answer is a bearer token response.
    pub async fn tokens(&self, wire: &mut Wire, request: &Request) -> anyhow::Result<Tokens> {
        let tokens: Tokens = wire.json(request, "token endpoint").await?;
        ensure!(
            tokens.token_type.eq_ignore_ascii_case("bearer") && tokens.access_token.len() > 20,
            "token response without a bearer access token"
        );
        Ok(tokens)
    }

    pub fn client_credentials_request(&self, client: &ClientCreds) -> Request {
        self.token_request(
            client,
            &[("grant_type", "client_credentials"), ("scope", "api.read")],
        )
    }

    /// Redeems a code; the response must carry an ID token and a refresh token.
    pub async fn redeem(&self, wire: &mut Wire, code: &Code) -> anyhow::Result<Tokens> {
        let request = self.token_request(
            &self.client,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code.code),
                ("redirect_uri", &self.client.redirect_uri),
                ("code_verifier", &code.verifier),
            ],
        );
        let tokens = self.tokens(wire, &request).await?;
        ensure!(tokens.id_token.is_some(), "no id_token for a code");
        ensure!(
            tokens.refresh_token.is_some(),
            "no refresh_token for offline_access"
        );
        Ok(tokens)
    }

    /// Rotates a refresh token: returns the new one.
    pub async fn refresh(&self, wire: &mut Wire, refresh_token: &str) -> anyhow::Result<String> {
        let request = self.token_request(
            &self.client,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ],
        );
        let tokens = self.tokens(wire, &request).await?;
        let next = tokens
            .refresh_token
            .ok_or_else(|| anyhow!("no rotated refresh_token"))?;
        ensure!(next != refresh_token, "the refresh token was not rotated");
        Ok(next)
    }

    pub fn userinfo_request(&self, access_token: &str) -> Request {
        Request::get(
            &self.host,
            &self.paths.userinfo,
            Some(&format!("Bearer {access_token}")),
        )
    }

    pub async fn userinfo(&self, wire: &mut Wire, request: &Request) -> anyhow::Result<()> {
        #[derive(Deserialize)]
        struct Claims {
            sub: String,
        }
        let claims: Claims = wire.json(request, "userinfo").await?;
        ensure!(!claims.sub.is_empty(), "userinfo with an empty sub");
        Ok(())
    }

    pub fn introspect_request(&self, token: &str) -> Request {
        Request::post_form(
            &self.host,
            &self.paths.introspect,
            Some(&basic(&self.client)),
            &[("token", token)],
        )
    }

    pub async fn introspect(&self, wire: &mut Wire, request: &Request) -> anyhow::Result<()> {
        #[derive(Deserialize)]
        struct Introspection {
            active: bool,
        }
        let answer: Introspection = wire.json(request, "introspection").await?;
        ensure!(answer.active, "introspection: token not active");
        Ok(())
    }
}

/// HTTP Basic client authentication (RFC 6749 §2.3.1) as the load generator sends it.
fn basic(client: &ClientCreds) -> String {
    let pair = format!("{}:{}", client.id, client.secret);
    format!("Basic {}", STANDARD.encode(pair))
}

/// A code with the PKCE verifier that redeems it.
#[derive(Debug, Clone)]
pub struct Code {
    pub code: String,
    pub verifier: String,
}

/// A person's credentials for the hosted sign-in page.
#[derive(Debug, Clone)]
pub struct Person {
    pub email: String,
    pub password: String,
    /// The authenticator-app key, for people with a second factor.
    pub totp: Option<Vec<u8>>,
    /// When to compute the TOTP code for (a step this person has not used yet).
    pub totp_time: u64,
}

/// A browser without JavaScript: a cookie jar over the shared connection pool.
#[derive(Debug, Default, Clone)]
pub struct Browser {
    cookies: Vec<(String, String)>,
    /// Who signed in with this browser (the peer asks again for each code; it must be the same person).
    signed_in_as: Option<String>,
}

fn random(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

impl Browser {
    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&mut self, response: &reqwest::Response) {
        for header in response.headers().get_all(SET_COOKIE) {
            let Ok(text) = header.to_str() else { continue };
            let pair = text.split(';').next().unwrap_or_default();
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            let expired = text.to_ascii_lowercase().contains("max-age=0");
            self.cookies.retain(|(n, _)| n != name);
            if !expired && !value.is_empty() {
                self.cookies
                    .push((name.trim().to_owned(), value.trim().to_owned()));
            }
        }
    }

    async fn get(&mut self, target: &Target, url: &str) -> anyhow::Result<reqwest::Response> {
        let response = target
            .http
            .get(url)
            .header(COOKIE, self.cookie_header())
            .send()
            .await?;
        self.keep_cookies(&response);
        Ok(response)
    }

    async fn post(
        &mut self,
        target: &Target,
        path: &str,
        form: &[(&str, &str)],
    ) -> anyhow::Result<reqwest::Response> {
        let response = target
            .http
            .post(target.url(path))
            .header(COOKIE, self.cookie_header())
            .form(form)
            .send()
            .await?;
        self.keep_cookies(&response);
        Ok(response)
    }

    /// `GET /authorize` with PKCE (S256), state and nonce; the response is not followed.
    async fn authorize(
        &mut self,
        target: &Target,
    ) -> anyhow::Result<(reqwest::Response, String, String)> {
        let verifier = random(32);
        let challenge = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
        let state = random(12);
        let mut url = url::Url::parse(&target.url(&target.paths.authorize))?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &target.client.id)
            .append_pair("redirect_uri", &target.client.redirect_uri)
            .append_pair("scope", &target.scope)
            .append_pair("state", &state)
            .append_pair("nonce", &random(12))
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        if target.flavour == Flavour::Peer {
            // oidc-provider keeps offline_access only with prompt=consent (OpenID Connect Core §11).
            url.query_pairs_mut().append_pair("prompt", "consent");
        }
        let response = self.get(target, url.as_str()).await?;
        Ok((response, verifier, state))
    }

    /// Signs in through the hosted pages: authorize, the login form, the second factor when asked, and
    /// the redirect back to the client with a code.
    pub async fn sign_in(&mut self, target: &Target, person: &Person) -> anyhow::Result<Code> {
        if target.flavour == Flavour::Peer {
            return self.peer_sign_in(target, &person.email).await;
        }
        let (response, verifier, state) = self.authorize(target).await?;
        ensure!(response.status() == 303, "authorize: {}", response.status());
        let login = absolute(target, &location(&response)?);
        ensure!(login.contains("/login?flow="), "authorize went to {login}");
        let page = self.get(target, &login).await?;
        ensure!(page.status() == 200, "login page: {}", page.status());
        let html = page.text().await?;
        let flow = form_value(&html, "flow")?;
        let csrf = form_value(&html, "csrf")?;
        let response = self
            .post(
                target,
                "/login",
                &[
                    ("flow", &flow),
                    ("csrf", &csrf),
                    ("email", &person.email),
                    ("password", &person.password),
                ],
            )
            .await?;
        ensure!(response.status() == 303, "login: {}", response.status());
        let mut next = location(&response)?;
        if let Some(secret) = &person.totp {
            ensure!(
                next.starts_with("/mfa?flow="),
                "no second factor asked: {next}"
            );
            let page = self.get(target, &target.url(&next)).await?;
            ensure!(
                page.status() == 200,
                "second-factor page: {}",
                page.status()
            );
            drop(page.bytes().await?);
            let code = totp_at(secret, person.totp_time)?;
            let response = self
                .post(
                    target,
                    "/mfa",
                    &[
                        ("flow", &flow),
                        ("csrf", &csrf),
                        ("method", "totp"),
                        ("code", &code),
                    ],
                )
                .await?;
            ensure!(
                response.status() == 303,
                "second factor: {}",
                response.status()
            );
            next = location(&response)?;
        }
        code_from(target, &next, &state, verifier)
    }

    /// The peer's sign-in: authorize, its interaction page, the form posted with the login name, and
    /// the redirects back to the client.
    async fn peer_sign_in(&mut self, target: &Target, login: &str) -> anyhow::Result<Code> {
        let (mut response, verifier, state) = self.authorize(target).await?;
        for _ in 0..6 {
            ensure!(
                response.status().is_redirection(),
                "peer: {}",
                response.status()
            );
            let next = location(&response)?;
            if next.starts_with(&target.client.redirect_uri) {
                self.signed_in_as = Some(login.to_owned());
                return code_from(target, &next, &state, verifier);
            }
            let url = absolute(target, &next);
            response = if let Some(path) = url.strip_prefix(&target.base)
                && path.starts_with("/interaction/")
            {
                let page = self.get(target, &url).await?;
                ensure!(page.status() == 200, "peer interaction: {}", page.status());
                drop(page.bytes().await?);
                self.post(target, path, &[("login", login)]).await?
            } else {
                self.get(target, &url).await?
            };
        }
        bail!("the peer's sign-in did not come back to the client")
    }

    /// With a session already in the cookie jar: `GET /authorize` answers with the code at once.
    /// (The peer asks for consent every time offline access is wanted: it goes through its interaction.)
    pub async fn authorize_signed_in(&mut self, target: &Target) -> anyhow::Result<Code> {
        if target.flavour == Flavour::Peer {
            let login = self
                .signed_in_as
                .clone()
                .ok_or_else(|| anyhow!("this browser has not signed in"))?;
            return self.peer_sign_in(target, &login).await;
        }
        let (response, verifier, state) = self.authorize(target).await?;
        ensure!(
            response.status().is_redirection(),
            "authorize: {}",
            response.status()
        );
        code_from(target, &location(&response)?, &state, verifier)
    }
}

fn code_from(
    target: &Target,
    location: &str,
    state: &str,
    verifier: String,
) -> anyhow::Result<Code> {
    ensure!(
        location.starts_with(&target.client.redirect_uri),
        "not sent back to the client: {location}"
    );
    let url = url::Url::parse(location)?;
    let mut code = None;
    let mut returned_state = None;
    for (name, value) in url.query_pairs() {
        match &*name {
            "code" => code = Some(value.into_owned()),
            "state" => returned_state = Some(value.into_owned()),
            "error" => bail!("authorization error: {value}"),
            _ => {}
        }
    }
    ensure!(returned_state.as_deref() == Some(state), "state mismatch");
    Ok(Code {
        code: code.ok_or_else(|| anyhow!("no code in the redirect"))?,
        verifier,
    })
}

fn location(response: &reqwest::Response) -> anyhow::Result<String> {
    Ok(response
        .headers()
        .get(LOCATION)
        .ok_or_else(|| anyhow!("no Location header"))?
        .to_str()?
        .to_owned())
}

fn absolute(target: &Target, location: &str) -> String {
    if location.starts_with('/') {
        target.url(location)
    } else {
        location.to_owned()
    }
}

/// The value of `<input name="{name}" value="...">`.
fn form_value(html: &str, name: &str) -> anyhow::Result<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .ok_or_else(|| anyhow!("no {name} field on the page"))?
        + marker.len();
    let end = html[start..]
        .find('"')
        .ok_or_else(|| anyhow!("unterminated {name} value"))?
        + start;
    Ok(html[start..end].to_owned())
}

/// The code an authenticator app shows at `unix_time` (RFC 6238: SHA-1, 6 digits, 30-second steps).
pub fn totp_at(secret: &[u8], unix_time: u64) -> anyhow::Result<String> {
    let totp = totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(TOTP_STEP)
        .with_secret(totp_rs::Secret::new(secret.to_vec().into_boxed_slice()))
        .with_account_name("bench")
        .build()
        .map_err(|e| anyhow!("TOTP secret: {e}"))?;
    Ok(totp.generate(unix_time).to_string())
}

pub const TOTP_STEP: u64 = 30;
