//! The load driver: a fixed number of workers, each looping on one operation until a deadline, every
//! operation timed into a histogram. An operation that fails (transport error, unexpected status or
//! body) counts as an error, never as a request.

use std::future::Future;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

/// Latencies are kept in microseconds, from 1 µs to 60 s, to three significant digits.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3)
        .unwrap_or_else(|_| unreachable!("the bounds are constant and valid"))
}

/// One worker's tally.
pub struct Recorder {
    deadline: Instant,
    histogram: Histogram<u64>,
    ok: u64,
    errors: u64,
    first_error: Option<String>,
    finished: Option<Instant>,
}

impl Recorder {
    pub fn new(deadline: Instant) -> Self {
        Self {
            deadline,
            histogram: histogram(),
            ok: 0,
            errors: 0,
            first_error: None,
            finished: None,
        }
    }

    pub fn running(&self) -> bool {
        Instant::now() < self.deadline
    }

    /// Times one operation; its value when it succeeded.
    pub async fn measure<T>(
        &mut self,
        operation: impl Future<Output = anyhow::Result<T>>,
    ) -> Option<T> {
        let start = Instant::now();
        let result = operation.await;
        let micros = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.finished = Some(Instant::now());
        match result {
            Ok(value) => {
                self.ok += 1;
                self.histogram.saturating_record(micros.max(1));
                Some(value)
            }
            Err(e) => {
                self.fail(e);
                None
            }
        }
    }

    /// Counts an error found outside a timed operation (e.g. a worker that ran out of input early).
    pub fn fail(&mut self, e: anyhow::Error) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(format!("{e:#}"));
        }
    }
}

/// What a scenario measured.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub requests: u64,
    pub errors: u64,
    pub elapsed: Duration,
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
    pub first_error: Option<String>,
}

impl Outcome {
    pub fn per_second(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds > 0.0 {
            self.requests as f64 / seconds
        } else {
            0.0
        }
    }
}

/// Starts `concurrency` workers at once, made by `worker(index, deadline)`, and merges their tallies.
/// The elapsed time runs from the start to the last operation that finished, so a scenario whose input
/// runs out early (pre-minted codes) is not charged for idle time.
pub async fn run<F, Fut>(concurrency: usize, duration: Duration, worker: F) -> Outcome
where
    F: Fn(usize, Instant) -> Fut,
    Fut: Future<Output = Recorder> + Send + 'static,
{
    let start = Instant::now();
    let deadline = start + duration;
    let handles: Vec<_> = (0..concurrency)
        .map(|i| tokio::spawn(worker(i, deadline)))
        .collect();
    let mut merged = histogram();
    let mut outcome = Outcome {
        requests: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        p50_us: 0,
        p99_us: 0,
        max_us: 0,
        first_error: None,
    };
    let mut last = start;
    for handle in handles {
        match handle.await {
            Ok(recorder) => {
                let _ = merged.add(&recorder.histogram);
                outcome.requests += recorder.ok;
                outcome.errors += recorder.errors;
                if outcome.first_error.is_none() {
                    outcome.first_error = recorder.first_error;
                }
                if let Some(finished) = recorder.finished {
                    last = last.max(finished);
                }
            }
            Err(e) => {
                outcome.errors += 1;
                outcome
                    .first_error
                    .get_or_insert_with(|| format!("worker panicked: {e}"));
            }
        }
    }
    outcome.elapsed = last - start;
    outcome.p50_us = merged.value_at_quantile(0.50);
    outcome.p99_us = merged.value_at_quantile(0.99);
    outcome.max_us = merged.max();
    outcome
}
