//! The results: one row per scenario, printed as a Markdown table and written as JSON.

use serde::Serialize;

use crate::load::Outcome;

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub scenario: String,
    pub requests: u64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub errors: u64,
    pub peak_rss_mib: f64,
    /// CPU time the server spent per operation, in microseconds (every thread, user and system).
    pub server_cpu_us: f64,
    /// CPU time the load generator (this process) spent per operation, in microseconds.
    pub load_cpu_us: f64,
    /// The machine's one-minute load average when the scenario ended.
    pub load_average: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
}

/// CPU seconds used by the server and by the load generator during one scenario.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuUsed {
    pub server: f64,
    pub load: f64,
}

pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

impl Row {
    pub fn new(scenario: &str, outcome: &Outcome, peak_rss_kib: u64, cpu: CpuUsed) -> Self {
        let per_op = |seconds: f64| {
            if outcome.requests > 0 {
                seconds * 1e6 / outcome.requests as f64
            } else {
                0.0
            }
        };
        Self {
            scenario: scenario.to_owned(),
            requests: outcome.requests,
            per_second: outcome.per_second(),
            p50_ms: outcome.p50_us as f64 / 1000.0,
            p99_ms: outcome.p99_us as f64 / 1000.0,
            max_ms: outcome.max_us as f64 / 1000.0,
            errors: outcome.errors,
            peak_rss_mib: mib(peak_rss_kib),
            server_cpu_us: per_op(cpu.server),
            load_cpu_us: per_op(cpu.load),
            load_average: crate::server::load_average(),
            first_error: outcome.first_error.clone(),
        }
    }
}

/// Everything one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub database: String,
    pub cpus: usize,
    pub cpu_model: String,
    pub concurrency: usize,
    pub seconds: f64,
    pub gatehouse: Vec<Row>,
    /// First start on an empty, migrated database (generates the signing keys).
    pub first_start_ms: f64,
    /// Start to ready with an existing database.
    pub cold_start_ms: f64,
    pub idle_rss_mib: f64,
    /// Of the idle RSS: the process's own memory (heap, stacks).
    pub idle_rss_anon_mib: f64,
    /// Of the idle RSS: pages of the program and its libraries, mapped from the page cache.
    pub idle_rss_file_mib: f64,
    pub idle_rss_after_cold_start_mib: f64,
    /// RSS 7 s after the last scenario's load.
    pub idle_rss_after_load_mib: f64,
    /// The kernel's high-water mark of the server's resident memory over the whole run.
    pub high_water_rss_mib: f64,
    /// CPU time of one hash on one core, alone (the mean of a measurement before and after the
    /// scenarios).
    pub argon2_ms_per_hash: f64,
    /// CPUs ÷ time per hash: the naive bound, as if every core hashed as fast as one alone.
    pub argon2_bound_per_second: f64,
    /// CPU time of one hash while one hash per CPU runs at once (they share the memory bandwidth and
    /// the L3 cache).
    pub argon2_concurrent_ms_per_hash: f64,
    /// The two measurements averaged there: before the scenarios and after them.
    pub argon2_concurrent_ms_before_and_after: [f64; 2],
    /// CPUs ÷ that: what password sign-ins cannot exceed on this machine.
    pub argon2_concurrent_per_second: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale: Option<Scale>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer: Option<Peer>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Scale {
    pub users: u64,
    pub refresh_tokens: u64,
    pub seed_seconds: f64,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Peer {
    pub name: String,
    pub idle_rss_mib: f64,
    pub rows: Vec<Row>,
    /// Scenarios the peer was not run on, with the reason.
    pub skipped: Vec<(String, String)>,
}

fn find<'a>(rows: &'a [Row], scenario: &str) -> Option<&'a Row> {
    rows.iter().find(|r| r.scenario == scenario)
}

impl Report {
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "Gatehouse on {}, {} CPUs ({}), concurrency {}, {} s per scenario\n\n",
            self.database, self.cpus, self.cpu_model, self.concurrency, self.seconds
        ));
        let peer = self.peer.as_ref();
        out.push_str(
            "| scenario | req/s | p50 ms | p99 ms | max ms | errors | peak RSS MiB | server CPU µs/op | load CPU µs/op | load avg |",
        );
        if peer.is_some() {
            out.push_str(" peer req/s | peer p99 ms | ours/peer |");
        }
        out.push('\n');
        out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        if peer.is_some() {
            out.push_str("---:|---:|---:|");
        }
        out.push('\n');
        for row in &self.gatehouse {
            out.push_str(&format!(
                "| {} | {:.0} | {:.2} | {:.2} | {:.1} | {} | {:.1} | {:.0} | {:.0} | {:.1} |",
                row.scenario,
                row.per_second,
                row.p50_ms,
                row.p99_ms,
                row.max_ms,
                row.errors,
                row.peak_rss_mib,
                row.server_cpu_us,
                row.load_cpu_us,
                row.load_average
            ));
            if let Some(peer) = peer {
                let compared = !peer.skipped.iter().any(|(s, _)| *s == row.scenario);
                match find(&peer.rows, &row.scenario) {
                    Some(theirs) if compared && theirs.errors == 0 && theirs.per_second > 0.0 => {
                        out.push_str(&format!(
                            " {:.0} | {:.2} | {:.1}× |",
                            theirs.per_second,
                            theirs.p99_ms,
                            row.per_second / theirs.per_second
                        ))
                    }
                    _ => out.push_str(" – | – | – |"),
                }
            }
            out.push('\n');
        }
        out.push_str(&format!(
            "\nFirst start (empty database, key generation): {:.0} ms. Cold start to ready (existing database): {:.0} ms.\n",
            self.first_start_ms, self.cold_start_ms
        ));
        out.push_str(&format!(
            "RSS idle: {:.1} MiB ({:.1} MiB the process's own memory, {:.1} MiB program and library pages; 7 s after the load: {:.1} MiB; after the cold start: {:.1} MiB); high-water mark over the run: {:.1} MiB.\n",
            self.idle_rss_mib,
            self.idle_rss_anon_mib,
            self.idle_rss_file_mib,
            self.idle_rss_after_load_mib,
            self.idle_rss_after_cold_start_mib,
            self.high_water_rss_mib
        ));
        out.push_str(&format!(
            "argon2id (m=19 MiB, t=2): {:.1} ms of CPU per hash on one core alone, so naively {:.0} password checks/s on {} CPUs; \
             {:.1} ms per hash with {} hashes at once ({:.1} ms before the scenarios, {:.1} ms after), so at most {:.0}/s",
            self.argon2_ms_per_hash,
            self.argon2_bound_per_second,
            self.cpus,
            self.argon2_concurrent_ms_per_hash,
            self.cpus,
            self.argon2_concurrent_ms_before_and_after[0],
            self.argon2_concurrent_ms_before_and_after[1],
            self.argon2_concurrent_per_second
        ));
        if let Some(row) = find(&self.gatehouse, "sign_in_password") {
            out.push_str(&format!(
                "; password sign-ins reach {:.0} % of the naive bound and {:.0} % of the measured one",
                100.0 * row.per_second / self.argon2_bound_per_second,
                100.0 * row.per_second / self.argon2_concurrent_per_second
            ));
        }
        out.push_str(".\n");
        out.push_str(&format!(
            "Server CPU µs/op and load CPU µs/op: CPU time (all threads) per operation of the server and of \
             the load generator; {} CPUs ÷ their sum is what this machine allows both together.\n",
            self.cpus
        ));
        if let Some(peer) = peer {
            out.push_str(&format!(
                "Peer: {}, RSS idle {:.1} MiB.\n",
                peer.name, peer.idle_rss_mib
            ));
            for (scenario, why) in &peer.skipped {
                out.push_str(&format!("Peer skipped {scenario}: {why}.\n"));
            }
        }
        if let Some(scale) = &self.scale {
            out.push_str(&format!(
                "\nScale: {} more users and {} live refresh tokens (seeded in {:.0} s)\n\n",
                scale.users, scale.refresh_tokens, scale.seed_seconds
            ));
            out.push_str("| scenario | req/s | p99 ms | errors | server CPU µs/op | vs small database (req/s) | vs small database (CPU per op) |\n|---|---:|---:|---:|---:|---:|---:|\n");
            for row in &scale.rows {
                let small = find(&self.gatehouse, &row.scenario);
                // The large database as a share of the small one: rates over rates, CPU under CPU.
                let ratio = |numerator: f64, denominator: f64| {
                    if numerator > 0.0 && denominator > 0.0 {
                        format!("{:.0} %", 100.0 * numerator / denominator)
                    } else {
                        "–".to_owned()
                    }
                };
                let by_rate =
                    small.map_or("–".to_owned(), |r| ratio(row.per_second, r.per_second));
                // CPU per operation moves far less than the rate when the machine's speed drifts
                // between the two runs.
                let by_cpu = small.map_or("–".to_owned(), |r| {
                    ratio(r.server_cpu_us, row.server_cpu_us)
                });
                out.push_str(&format!(
                    "| {} | {:.0} | {:.2} | {} | {:.0} | {} | {} |\n",
                    row.scenario,
                    row.per_second,
                    row.p99_ms,
                    row.errors,
                    row.server_cpu_us,
                    by_rate,
                    by_cpu
                ));
            }
        }
        let failures: Vec<&Row> = self
            .gatehouse
            .iter()
            .chain(self.scale.iter().flat_map(|s| s.rows.iter()))
            .filter(|r| r.errors > 0)
            .collect();
        for row in self
            .peer
            .iter()
            .flat_map(|p| p.rows.iter())
            .filter(|r| r.errors > 0)
        {
            out.push_str(&format!(
                "\nPeer errors in {}: {} (first: {})\n",
                row.scenario,
                row.errors,
                row.first_error.as_deref().unwrap_or("?")
            ));
        }
        for row in failures {
            out.push_str(&format!(
                "\nERRORS in {}: {} (first: {})\n",
                row.scenario,
                row.errors,
                row.first_error.as_deref().unwrap_or("?")
            ));
        }
        out
    }

    pub fn errors(&self) -> u64 {
        self.gatehouse
            .iter()
            .chain(self.scale.iter().flat_map(|s| s.rows.iter()))
            .map(|r| r.errors)
            .sum()
    }
}

/// The CPU model from `/proc/cpuinfo`.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}
