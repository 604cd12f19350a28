//! The scenarios: what each worker does in a loop, and the state it needs prepared beforehand
//! (signed-in browsers, token chains, pre-minted codes, people whose TOTP step is unused).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::anyhow;

use crate::http::{Browser, ClientCreds, Code, Person, TOTP_STEP, Target};
use crate::load::{self, Outcome, Recorder};
use crate::wire::Wire;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    Discovery,
    Jwks,
    ClientCredentialsEs256,
    ClientCredentialsRs256,
    AuthorizeSignedIn,
    CodeExchange,
    Refresh,
    Userinfo,
    Introspection,
    SignInPassword,
    SignInTotp,
}

impl Scenario {
    pub const ALL: [Scenario; 11] = [
        Self::Discovery,
        Self::Jwks,
        Self::ClientCredentialsEs256,
        Self::ClientCredentialsRs256,
        Self::AuthorizeSignedIn,
        Self::CodeExchange,
        Self::Refresh,
        Self::Userinfo,
        Self::Introspection,
        Self::SignInPassword,
        Self::SignInTotp,
    ];

    /// Repeated in scale mode: the ones that look up tokens and accounts.
    pub const SCALE: [Scenario; 7] = [
        Self::ClientCredentialsEs256,
        Self::AuthorizeSignedIn,
        Self::CodeExchange,
        Self::Refresh,
        Self::Introspection,
        Self::SignInPassword,
        Self::SignInTotp,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Discovery => "discovery",
            Self::Jwks => "jwks",
            Self::ClientCredentialsEs256 => "client_credentials_es256",
            Self::ClientCredentialsRs256 => "client_credentials_rs256",
            Self::AuthorizeSignedIn => "authorize_signed_in",
            Self::CodeExchange => "code_exchange",
            Self::Refresh => "refresh_rotation",
            Self::Userinfo => "userinfo",
            Self::Introspection => "introspection",
            Self::SignInPassword => "sign_in_password",
            Self::SignInTotp => "sign_in_password_totp",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// A signed-in browser with the tokens of its sign-in.
#[derive(Debug, Clone)]
struct Session {
    browser: Browser,
    access_token: String,
    refresh_token: String,
}

/// Everything the workers share.
pub struct Bench {
    pub target: Target,
    pub rs256: Option<ClientCreds>,
    pub concurrency: usize,
    pub duration: Duration,
    passwords: Vec<Person>,
    totp: Vec<Person>,
    /// The last TOTP step used per person in `totp`: each step signs in at most once.
    totp_steps: Vec<AtomicU64>,
    cursor: AtomicUsize,
    sessions: Mutex<Vec<Session>>,
    codes: Mutex<Vec<Code>>,
}

fn unix_now() -> u64 {
    u64::try_from(gatehouse_oidc::Clock::now(&gatehouse_oidc::SystemClock)).unwrap_or(0)
}

impl Bench {
    pub fn new(
        target: Target,
        rs256: Option<ClientCreds>,
        concurrency: usize,
        duration: Duration,
        passwords: Vec<Person>,
        totp: Vec<Person>,
    ) -> Arc<Self> {
        let totp_steps = totp.iter().map(|_| AtomicU64::new(0)).collect();
        Arc::new(Self {
            target,
            rs256,
            concurrency,
            duration,
            passwords,
            totp,
            totp_steps,
            cursor: AtomicUsize::new(0),
            sessions: Mutex::new(Vec::new()),
            codes: Mutex::new(Vec::new()),
        })
    }

    fn next_password_person(&self) -> anyhow::Result<Person> {
        if self.passwords.is_empty() {
            return Err(anyhow!("no people with a password were seeded"));
        }
        let i = self.cursor.fetch_add(1, Ordering::Relaxed) % self.passwords.len();
        Ok(self.passwords[i].clone())
    }

    /// A person whose authenticator app has not been used in the current 30-second step.
    fn next_totp_person(&self) -> anyhow::Result<Person> {
        let now = unix_now();
        let step = now / TOTP_STEP;
        for _ in 0..self.totp.len() {
            let i = self.cursor.fetch_add(1, Ordering::Relaxed) % self.totp.len();
            let last = self.totp_steps[i].load(Ordering::Relaxed);
            if last < step
                && self.totp_steps[i]
                    .compare_exchange(last, step, Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
            {
                return Ok(Person {
                    totp_time: now,
                    ..self.totp[i].clone()
                });
            }
        }
        Err(anyhow!(
            "every TOTP person has signed in during this step: seed more (--totp-users)"
        ))
    }

    /// One signed-in browser with fresh tokens per worker, made by real password sign-ins.
    pub async fn prepare_sessions(self: &Arc<Self>) -> anyhow::Result<()> {
        let mut handles = Vec::new();
        for _ in 0..self.concurrency {
            let bench = self.clone();
            handles.push(tokio::spawn(async move {
                let mut browser = Browser::default();
                let person = bench.next_password_person()?;
                let code = browser.sign_in(&bench.target, &person).await?;
                let mut wire = bench.target.wire().await?;
                let tokens = bench.target.redeem(&mut wire, &code).await?;
                anyhow::Ok(Session {
                    browser,
                    access_token: tokens.access_token,
                    refresh_token: tokens.refresh_token.unwrap_or_default(),
                })
            }));
        }
        let mut sessions = Vec::new();
        for handle in handles {
            sessions.push(handle.await??);
        }
        *self.sessions.lock().unwrap_or_else(|p| p.into_inner()) = sessions;
        Ok(())
    }

    fn session(&self, worker: usize) -> Option<Session> {
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(worker)
            .cloned()
    }

    fn pop_code(&self) -> Option<Code> {
        self.codes.lock().unwrap_or_else(|p| p.into_inner()).pop()
    }

    /// Runs one scenario for the configured duration.
    pub async fn run(self: &Arc<Self>, scenario: Scenario) -> Outcome {
        let bench = self.clone();
        load::run(self.concurrency, self.duration, move |worker, deadline| {
            let bench = bench.clone();
            async move {
                let mut rec = Recorder::new(deadline);
                bench.work(scenario, worker, &mut rec).await;
                rec
            }
        })
        .await
    }

    async fn work(&self, scenario: Scenario, worker: usize, rec: &mut Recorder) {
        let target = &self.target;
        let session = self.session(worker);
        let needs_session = matches!(
            scenario,
            Scenario::AuthorizeSignedIn
                | Scenario::Refresh
                | Scenario::Userinfo
                | Scenario::Introspection
        );
        if needs_session && session.is_none() {
            rec.fail(anyhow!("no prepared session for worker {worker}"));
            return;
        }
        // Each worker has its own back-channel connection, opened before the clock matters.
        let mut wire = match target.wire().await {
            Ok(wire) => wire,
            Err(e) => return rec.fail(e),
        };
        match scenario {
            Scenario::Discovery | Scenario::Jwks => {
                let (request, field) = if scenario == Scenario::Discovery {
                    (target.get(&target.paths.discovery), "issuer")
                } else {
                    (target.get(&target.paths.jwks), "keys")
                };
                while rec.running() {
                    rec.measure(target.get_json_with(&mut wire, &request, field))
                        .await;
                }
            }
            Scenario::ClientCredentialsEs256 | Scenario::ClientCredentialsRs256 => {
                let client = if scenario == Scenario::ClientCredentialsEs256 {
                    &target.client
                } else if let Some(client) = &self.rs256 {
                    client
                } else {
                    return rec.fail(anyhow!("no RS256 client"));
                };
                let request = target.client_credentials_request(client);
                while rec.running() {
                    rec.measure(async { target.tokens(&mut wire, &request).await.map(drop) })
                        .await;
                }
            }
            Scenario::AuthorizeSignedIn => {
                let Some(mut session) = session else { return };
                while rec.running() {
                    if let Some(code) = rec
                        .measure(session.browser.authorize_signed_in(target))
                        .await
                    {
                        self.codes
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push(code);
                    }
                }
            }
            Scenario::CodeExchange => {
                if self
                    .codes
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .is_empty()
                {
                    rec.fail(anyhow!(
                        "no codes were minted (run authorize_signed_in first)"
                    ));
                    return;
                }
                while rec.running() {
                    let Some(code) = self.pop_code() else { break };
                    rec.measure(target.redeem(&mut wire, &code)).await;
                }
            }
            Scenario::Refresh => {
                let Some(session) = session else { return };
                let mut token = session.refresh_token;
                while rec.running() {
                    match rec.measure(target.refresh(&mut wire, &token)).await {
                        Some(next) => token = next,
                        // The chain is broken (reuse detection revokes it): stop this worker.
                        None => break,
                    }
                }
                if let Some(s) = self
                    .sessions
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get_mut(worker)
                {
                    s.refresh_token = token;
                }
            }
            Scenario::Userinfo => {
                let Some(session) = session else { return };
                let request = target.userinfo_request(&session.access_token);
                while rec.running() {
                    rec.measure(target.userinfo(&mut wire, &request)).await;
                }
            }
            Scenario::Introspection => {
                let Some(session) = session else { return };
                let request = target.introspect_request(&session.access_token);
                while rec.running() {
                    rec.measure(target.introspect(&mut wire, &request)).await;
                }
            }
            Scenario::SignInPassword | Scenario::SignInTotp => {
                while rec.running() {
                    let person = if scenario == Scenario::SignInPassword {
                        self.next_password_person()
                    } else {
                        self.next_totp_person()
                    };
                    let person = match person {
                        Ok(p) => p,
                        Err(e) => return rec.fail(e),
                    };
                    rec.measure(complete_sign_in(target, &mut wire, &person))
                        .await;
                }
            }
        }
    }
}

/// A whole sign-in as a relying party and a browser see it: authorize, the login form (and the second
/// factor), the redirect with the code, and the code redeemed for tokens.
async fn complete_sign_in(target: &Target, wire: &mut Wire, person: &Person) -> anyhow::Result<()> {
    let mut browser = Browser::default();
    let code = browser.sign_in(target, person).await?;
    target.redeem(wire, &code).await.map(drop)
}
