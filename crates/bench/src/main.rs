//! `gatehouse-bench`: starts a release-built Gatehouse on 127.0.0.1 with a fresh database, seeds it,
//! drives it over real HTTP at a fixed concurrency for a fixed time per scenario, and reports
//! requests/s, latency percentiles, errors and the server's memory. See `docs/performance.md`.

mod fixture;
mod http;
mod load;
mod peer;
mod report;
mod scenarios;
mod seed;
mod server;
mod wire;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;

use crate::fixture::Fixture;
use crate::http::{Flavour, Paths, Target};
use crate::report::{CpuUsed, Peer, Report, Row, Scale, mib};
use crate::scenarios::{Bench, Scenario};
use crate::server::Process;

#[derive(Debug, Parser)]
#[command(
    name = "gatehouse-bench",
    about = "Benchmarks a Gatehouse binary over real HTTP"
)]
struct Options {
    /// The Gatehouse binary to run (`cargo build --release -p gatehouse`).
    #[arg(long, default_value = "target/release/gatehouse")]
    gatehouse: PathBuf,
    /// The theme folder the server renders its pages with.
    #[arg(long, default_value = "themes/default")]
    theme_dir: PathBuf,
    /// Run on PostgreSQL: a fresh database is created next to this one and dropped afterwards.
    /// Without it, a fresh SQLite file.
    #[arg(long)]
    database_url: Option<String>,
    /// Concurrent connections (workers).
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Seconds per scenario.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Only these scenarios (comma-separated names).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// People with a password only.
    #[arg(long, default_value_t = 1000)]
    users: usize,
    /// People with a password and an authenticator app (each signs in at most once per 30 s).
    #[arg(long, default_value_t = 4000)]
    totp_users: usize,
    /// After the small-database run, add this many users and live refresh tokens and repeat the
    /// token, refresh and sign-in scenarios.
    #[arg(long)]
    scale: Option<u64>,
    /// Also run the scenarios against `oidc-provider` 9.x (installed with npm into a cache folder),
    /// each right after Gatehouse's, and print our/their ratio.
    #[arg(long)]
    peer: bool,
    /// Also write the report as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let options = Options::parse();
    match run(options).await {
        Ok(report) if report.errors() == 0 => ExitCode::SUCCESS,
        Ok(_) => {
            eprintln!("error: some requests failed (see ERRORS above)");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn selected(options: &Options) -> anyhow::Result<Vec<Scenario>> {
    if options.only.is_empty() {
        return Ok(Scenario::ALL.to_vec());
    }
    let mut chosen = Vec::new();
    for name in &options.only {
        chosen.push(Scenario::parse(name).with_context(|| format!("unknown scenario {name:?}"))?);
    }
    // Exchanged codes are minted by the signed-in authorize scenario.
    if chosen.contains(&Scenario::CodeExchange) && !chosen.contains(&Scenario::AuthorizeSignedIn) {
        chosen.push(Scenario::AuthorizeSignedIn);
    }
    Ok(Scenario::ALL
        .into_iter()
        .filter(|s| chosen.contains(s))
        .collect())
}

/// The CPU time one argon2id hash (the server's default parameters) takes on one core, alone.
fn argon2_ms_per_hash() -> anyhow::Result<f64> {
    let rounds = 8;
    Ok(fixture::argon2_rounds(rounds)?.as_secs_f64() * 1000.0 / f64::from(rounds))
}

/// The CPU time one argon2id hash takes while `threads` hash at once, each with its own working
/// memory, as the server's checks run: they share the memory bandwidth and the L3 cache, so each can
/// take longer than a hash alone.
fn argon2_concurrent_ms_per_hash(threads: usize) -> anyhow::Result<f64> {
    let rounds = 24;
    let cpu = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| scope.spawn(|| fixture::argon2_rounds(rounds)))
            .collect();
        let mut cpu = Duration::ZERO;
        for worker in workers {
            cpu += worker
                .join()
                .map_err(|_| anyhow::anyhow!("an argon2 thread panicked"))??;
        }
        anyhow::Ok(cpu)
    })?;
    Ok(cpu.as_secs_f64() * 1000.0 / (threads as f64 * f64::from(rounds)))
}

async fn run(options: Options) -> anyhow::Result<Report> {
    let scenarios = selected(&options)?;
    let duration = Duration::from_secs_f64(options.seconds);
    let fixture = Fixture::new(
        &options.gatehouse,
        &options.theme_dir,
        options.database_url.as_deref(),
    )
    .await?;
    let result = run_with(&options, &fixture, &scenarios, duration).await;
    if let Err(e) = fixture.cleanup().await {
        eprintln!("warning: could not drop the benchmark database: {e:#}");
    }
    let report = result?;
    println!("{}", report.markdown());
    if let Some(path) = &options.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(report)
}

async fn run_with(
    options: &Options,
    fixture: &Fixture,
    scenarios: &[Scenario],
    duration: Duration,
) -> anyhow::Result<Report> {
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    eprintln!("measuring argon2id on this machine...");
    let argon2_before = (argon2_ms_per_hash()?, argon2_concurrent_ms_per_hash(cpus)?);

    eprintln!("migrating and seeding {} ...", fixture.store.label());
    fixture.migrate()?;
    let master = gatehouse_oidc::MasterKey::from_base64(&fixture.master_key)
        .map_err(|e| anyhow::anyhow!(e))?;
    let password_hash = fixture::argon2_hash(seed::PASSWORD)?;
    let db = seed::connect(fixture.store.url()).await?;
    let (passwords, totp) = seed::people(
        &db,
        &master,
        &password_hash,
        options.users,
        options.totp_users,
    )
    .await?;
    db.close().await?;

    let ready_url = format!("{}/.well-known/openid-configuration", fixture.base_url());
    let (server, first_start) = Process::start(
        fixture.command(&["serve"]),
        &fixture.log("serve"),
        &ready_url,
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = server.rss_kib();
    let (idle_anon, idle_file) = server.rss_split_kib();

    let target = Target::new(
        Flavour::Gatehouse,
        fixture.base_url(),
        options.concurrency,
        fixture.es256.clone(),
        Paths::gatehouse(),
    )?;
    let bench = Bench::new(
        target,
        Some(fixture.rs256.clone()),
        options.concurrency,
        duration,
        passwords.clone(),
        totp,
    );
    // The peer runs beside Gatehouse, each scenario on one right after the other: the host's speed
    // drifts by a quarter within minutes, and a ratio is only fair when both sides met the same host.
    let peer = if options.peer {
        Some(start_peer(options, fixture, duration, passwords.clone()).await?)
    } else {
        None
    };
    let (rows, peer_rows) = run_scenarios(
        (&bench, &server),
        peer.as_ref().map(|p| (&p.bench, &p.process)),
        scenarios,
    )
    .await?;
    let peer = peer.map(|p| p.finish(scenarios, peer_rows));
    let mut high_water = server.high_water_kib();
    // The host's speed drifts over a run: the bound is measured again after the scenarios (the sign-ins
    // ran last) and the two are averaged.
    eprintln!("measuring argon2id again...");
    let argon2_after = (argon2_ms_per_hash()?, argon2_concurrent_ms_per_hash(cpus)?);
    let argon2_ms = f64::midpoint(argon2_before.0, argon2_after.0);
    let argon2_concurrent_ms = f64::midpoint(argon2_before.1, argon2_after.1);
    // What the server keeps once the load is over (it gives free memory back every 3 s).
    tokio::time::sleep(Duration::from_secs(7)).await;
    let idle_after_load = server.rss_kib();
    server.stop();

    eprintln!("cold start with the existing database...");
    let (server, cold_start) = Process::start(
        fixture.command(&["serve"]),
        &fixture.log("cold"),
        &ready_url,
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_after_cold = server.rss_kib();

    let scale = match options.scale {
        None => {
            server.stop();
            None
        }
        Some(count) => {
            server.stop();
            eprintln!("scale: adding {count} users and refresh tokens...");
            let db = seed::connect(fixture.store.url()).await?;
            let postgres = matches!(fixture.store, fixture::Store::Postgres { .. });
            let seconds =
                seed::scale(&db, postgres, count, &password_hash, &fixture.es256.id).await?;
            db.close().await?;
            let (server, _) = Process::start(
                fixture.command(&["serve"]),
                &fixture.log("scale"),
                &ready_url,
            )
            .await?;
            let repeat: Vec<Scenario> = Scenario::SCALE
                .into_iter()
                .filter(|s| scenarios.contains(s))
                .collect();
            let (rows, _) = run_scenarios((&bench, &server), None, &repeat).await?;
            high_water = high_water.max(server.high_water_kib());
            server.stop();
            Some(Scale {
                users: count,
                refresh_tokens: count,
                seed_seconds: seconds,
                rows,
            })
        }
    };

    Ok(Report {
        database: fixture.store.label().into(),
        cpus,
        cpu_model: report::cpu_model(),
        concurrency: options.concurrency,
        seconds: options.seconds,
        gatehouse: rows,
        first_start_ms: first_start.as_secs_f64() * 1000.0,
        cold_start_ms: cold_start.as_secs_f64() * 1000.0,
        idle_rss_mib: mib(idle),
        idle_rss_anon_mib: mib(idle_anon),
        idle_rss_file_mib: mib(idle_file),
        idle_rss_after_cold_start_mib: mib(idle_after_cold),
        idle_rss_after_load_mib: mib(idle_after_load),
        high_water_rss_mib: mib(high_water),
        argon2_ms_per_hash: argon2_ms,
        argon2_bound_per_second: cpus as f64 * 1000.0 / argon2_ms,
        argon2_concurrent_ms_per_hash: argon2_concurrent_ms,
        argon2_concurrent_ms_before_and_after: [argon2_before.1, argon2_after.1],
        argon2_concurrent_per_second: cpus as f64 * 1000.0 / argon2_concurrent_ms,
        scale,
        peer,
    })
}

/// oidc-provider, started and idle, with the load generator aimed at it.
struct StartedPeer {
    process: Process,
    bench: Arc<Bench>,
    name: String,
    idle_kib: u64,
}

async fn start_peer(
    options: &Options,
    fixture: &Fixture,
    duration: Duration,
    people: Vec<http::Person>,
) -> anyhow::Result<StartedPeer> {
    let dir = peer::cache_dir();
    peer::install(&dir)?;
    let port = server::free_port()?;
    let (process, _) = peer::start(
        &dir,
        port,
        &[(&fixture.es256, "ES256"), (&fixture.rs256, "RS256")],
        &fixture.log("peer"),
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_kib = process.rss_kib();
    let target = Target::new(
        Flavour::Peer,
        format!("http://127.0.0.1:{port}"),
        options.concurrency,
        fixture.es256.clone(),
        Paths::peer(),
    )?;
    let bench = Bench::new(
        target,
        Some(fixture.rs256.clone()),
        options.concurrency,
        duration,
        people,
        Vec::new(),
    );
    let name = format!("oidc-provider {}", peer::version(&dir));
    eprintln!("peer: {name}, each scenario run right after Gatehouse's");
    Ok(StartedPeer {
        process,
        bench,
        name,
        idle_kib,
    })
}

impl StartedPeer {
    /// Stops the peer and reports its `rows`.
    fn finish(self, scenarios: &[Scenario], rows: Vec<Row>) -> Peer {
        self.process.stop();
        Peer {
            name: self.name,
            idle_rss_mib: mib(self.idle_kib),
            rows,
            skipped: peer::SKIPPED
                .iter()
                .filter(|(s, _)| scenarios.contains(s))
                .map(|(s, why)| (s.name().to_owned(), (*why).to_owned()))
                .collect(),
        }
    }
}

/// CPU seconds this process (the load generator) has used.
fn own_cpu_seconds() -> f64 {
    server::cpu_seconds("self").unwrap_or(0.0)
}

/// A started server and the load generator aimed at it.
type Side<'a> = (&'a Arc<Bench>, &'a Process);

/// Runs `scenarios` in order against a started server (`ours`) and, when there is one, each right
/// after it against the peer (`theirs`), but for those it is not compared on (the signed-in
/// authorize still runs there, to mint the codes its code exchange redeems); after each run a pause,
/// so one scenario's background work (WAL checkpoints, connection churn) does not land in the next.
async fn run_scenarios(
    ours: Side<'_>,
    theirs: Option<Side<'_>>,
    scenarios: &[Scenario],
) -> anyhow::Result<(Vec<Row>, Vec<Row>)> {
    let needs_sessions = scenarios.iter().any(|s| {
        matches!(
            s,
            Scenario::AuthorizeSignedIn
                | Scenario::Refresh
                | Scenario::Userinfo
                | Scenario::Introspection
        )
    });
    if needs_sessions {
        for (bench, _) in std::iter::once(ours).chain(theirs) {
            bench
                .prepare_sessions()
                .await
                .context("signing in one browser per worker")?;
        }
    }
    let on_peer = |s: Scenario| {
        !peer::SKIPPED.iter().any(|(k, _)| *k == s) || s == Scenario::AuthorizeSignedIn
    };
    let (mut rows, mut peer_rows) = (Vec::new(), Vec::new());
    for &scenario in scenarios {
        rows.push(run_one(ours, scenario, "").await);
        if let Some(theirs) = theirs.filter(|_| on_peer(scenario)) {
            peer_rows.push(run_one(theirs, scenario, "peer: ").await);
        }
    }
    Ok((rows, peer_rows))
}

/// One scenario against one server: its row, and the pause after it.
async fn run_one((bench, server): Side<'_>, scenario: Scenario, label: &str) -> Row {
    eprintln!("{label}running {} ...", scenario.name());
    server.take_peak_kib();
    let (server_cpu, load_cpu) = (server.cpu_seconds(), own_cpu_seconds());
    let outcome = bench.run(scenario).await;
    let cpu = CpuUsed {
        server: server.cpu_seconds() - server_cpu,
        load: own_cpu_seconds() - load_cpu,
    };
    let row = Row::new(scenario.name(), &outcome, server.take_peak_kib(), cpu);
    eprintln!(
        "  {:.0}/s p99 {:.2} ms errors {}",
        row.per_second, row.p99_ms, row.errors
    );
    tokio::time::sleep(bench.duration.min(Duration::from_secs(10)) / 20).await;
    row
}
