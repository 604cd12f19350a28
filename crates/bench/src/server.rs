//! A server process under test: started, awaited until it answers, measured from `/proc`, stopped.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

/// A running server and the sampler that follows its memory.
pub struct Process {
    child: Child,
    pub pid: u32,
    sampler: Arc<Sampler>,
}

/// Resident memory in KiB, from `/proc/<pid>/status`: (VmRSS, VmHWM).
pub fn memory_kib(pid: u32) -> Option<(u64, u64)> {
    Some((status_kib(pid, "VmRSS:")?, status_kib(pid, "VmHWM:")?))
}

/// One `kB` field of `/proc/<pid>/status`.
fn status_kib(pid: u32, name: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<u64>().ok())
}

/// CPU time (user and system, every thread) a process has used, in seconds. `/proc/<pid>/stat` counts
/// it in clock ticks, which Linux fixes at 100 per second for user space (`USER_HZ`).
pub fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces; count from after it.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Field 3 (state) is fields[0]; utime is field 14, stime field 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / 100.0)
}

/// The one-minute load average of the machine, from `/proc/loadavg`.
pub fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

/// Samples VmRSS every 10 ms and keeps the highest value since the last reset.
#[derive(Default)]
struct Sampler {
    peak_kib: AtomicU64,
    stop: AtomicBool,
}

impl Process {
    /// Spawns `command` (stdout and stderr to `log`) and waits until `ready_url` answers 200.
    /// Returns the process and the time from spawn to the first good answer.
    pub async fn start(
        mut command: Command,
        log: &Path,
        ready_url: &str,
    ) -> anyhow::Result<(Self, Duration)> {
        let out =
            std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let err = out.try_clone()?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()?;
        let started = Instant::now();
        let mut child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .context("starting the server")?;
        let pid = child.id();
        loop {
            if let Some(status) = child.try_wait()? {
                bail!(
                    "the server exited with {status} before it was ready; see {}",
                    log.display()
                );
            }
            if let Ok(response) = http.get(ready_url).send().await
                && response.status() == 200
            {
                break;
            }
            if started.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                bail!(
                    "the server was not ready within 60 s; see {}",
                    log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let ready = started.elapsed();
        let sampler = Arc::new(Sampler::default());
        let watch = sampler.clone();
        std::thread::spawn(move || {
            while !watch.stop.load(Ordering::Relaxed) {
                if let Some((rss, _)) = memory_kib(pid) {
                    watch.peak_kib.fetch_max(rss, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        Ok((
            Self {
                child,
                pid,
                sampler,
            },
            ready,
        ))
    }

    /// Current resident memory, KiB, split into (anonymous, file-backed): the process's own heap and
    /// stacks, and the pages of its program and libraries mapped from the page cache (shared with
    /// other processes, given back by the kernel when memory is short).
    pub fn rss_split_kib(&self) -> (u64, u64) {
        (
            status_kib(self.pid, "RssAnon:").unwrap_or(0),
            status_kib(self.pid, "RssFile:").unwrap_or(0),
        )
    }

    /// Current resident memory, KiB.
    pub fn rss_kib(&self) -> u64 {
        memory_kib(self.pid).map_or(0, |(rss, _)| rss)
    }

    /// The highest resident memory seen since the last call, KiB (and starts a new period).
    pub fn take_peak_kib(&self) -> u64 {
        let now = self.rss_kib();
        self.sampler.peak_kib.swap(now, Ordering::Relaxed).max(now)
    }

    /// CPU seconds the server has used so far.
    pub fn cpu_seconds(&self) -> f64 {
        cpu_seconds(&self.pid.to_string()).unwrap_or(0.0)
    }

    /// The kernel's high-water mark of resident memory over the process's life, KiB.
    pub fn high_water_kib(&self) -> u64 {
        memory_kib(self.pid).map_or(0, |(_, hwm)| hwm)
    }

    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.sampler.stop.store(true, Ordering::Relaxed);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}
