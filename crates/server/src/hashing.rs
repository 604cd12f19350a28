//! The threads that compute argon2 hashes: password checks, new passwords and client secrets.
//!
//! A hash takes 10–15 ms of a core and 19 MiB of working memory, so only a few run at once, each on
//! a thread of its own that takes the next waiting hash the moment it has finished one. Measured in
//! a storm of sign-ins (`docs/performance.md`): with tokio's blocking pool behind a semaphore, a
//! finished hash only handed its slot on after the waiting request had been woken, polled and had
//! started its own hash on the pool, and 7–8 % of the two cores sat idle while 30 sign-ins waited.
//!
//! Waiting is bounded twice: at most `max_queued` hashes wait (past that a request is turned away at
//! once), and a request waits at most `max_wait` for its result. A hash whose request has gone is
//! skipped, not computed.

use std::time::Duration;

use crossbeam_channel::{Sender, TrySendError};
use tokio::sync::oneshot;

/// A hash the threads could not take: the queue is full, or it waited too long. The request gets
/// 503 with Retry-After.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashingBusy;

type Job = Box<dyn FnOnce() + Send>;

/// The hashing threads and their queue. Dropping it lets the threads end once the queue is empty.
#[derive(Debug)]
pub struct Hashing {
    jobs: Sender<Job>,
    max_wait: Duration,
}

impl Hashing {
    /// Starts `threads` hashing threads (at least one) with room for `max_queued` waiting hashes.
    pub fn start(threads: usize, max_queued: usize, max_wait: Duration) -> std::io::Result<Self> {
        let (jobs, queue) = crossbeam_channel::bounded::<Job>(max_queued);
        for n in 0..threads.max(1) {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("gatehouse-hash-{n}"))
                .spawn(move || {
                    for job in queue {
                        // A job that panics drops its answer (its request sees an error); the
                        // thread takes the next one.
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                    }
                })?;
        }
        Ok(Self { jobs, max_wait })
    }

    /// Runs `work` on a hashing thread and answers with its result.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashingBusy> {
        let (answer, result) = oneshot::channel();
        let job: Job = Box::new(move || {
            // The request gave up waiting: nobody needs this hash.
            if !answer.is_closed() {
                let _ = answer.send(work());
            }
        });
        match self.jobs.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => return Err(HashingBusy),
        }
        match tokio::time::timeout(self.max_wait, result).await {
            Ok(Ok(value)) => Ok(value),
            // Timed out, or the work panicked and dropped its answer.
            Ok(Err(_)) | Err(_) => Err(HashingBusy),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::{Arc, Barrier};

    use super::*;

    #[tokio::test]
    async fn work_runs_on_a_hashing_thread_and_answers() {
        let hashing = Hashing::start(2, 4, Duration::from_secs(5)).unwrap();
        let name = hashing
            .run(|| std::thread::current().name().map(str::to_owned))
            .await
            .unwrap();
        assert!(name.unwrap().starts_with("gatehouse-hash-"));
    }

    #[tokio::test]
    async fn a_full_queue_turns_work_away_at_once_and_takes_it_again_when_there_is_room() {
        let hashing = Arc::new(Hashing::start(1, 1, Duration::from_secs(5)).unwrap());
        let gate = Arc::new(Barrier::new(2));
        // The one thread is held inside its first job …
        let (started, has_started) = std::sync::mpsc::channel();
        let held = {
            let (hashing, gate) = (hashing.clone(), gate.clone());
            tokio::spawn(async move {
                hashing
                    .run(move || {
                        started.send(()).unwrap();
                        gate.wait();
                    })
                    .await
            })
        };
        while has_started.try_recv().is_err() {
            tokio::task::yield_now().await;
        }
        // … one more may wait …
        let queued = {
            let hashing = hashing.clone();
            tokio::spawn(async move { hashing.run(|| 2).await })
        };
        while hashing.jobs.is_empty() {
            tokio::task::yield_now().await;
        }
        // … and the next is refused without waiting.
        assert_eq!(hashing.run(|| 3).await, Err(HashingBusy));
        gate.wait();
        held.await.unwrap().unwrap();
        assert_eq!(queued.await.unwrap(), Ok(2));
        assert_eq!(hashing.run(|| 4).await, Ok(4));
    }

    #[tokio::test]
    async fn work_that_waited_too_long_is_refused_and_then_skipped() {
        let hashing = Hashing::start(1, 4, Duration::from_millis(50)).unwrap();
        let gate = Arc::new(Barrier::new(2));
        let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let holder = {
            let gate = gate.clone();
            hashing.run(move || gate.wait())
        };
        let late = {
            let ran = ran.clone();
            hashing.run(move || ran.store(true, std::sync::atomic::Ordering::SeqCst))
        };
        let (held, late) = tokio::join!(holder, late);
        assert_eq!(held.map(drop), Err(HashingBusy), "the holder waited too");
        assert_eq!(late, Err(HashingBusy));
        gate.wait();
        // The thread is free again; the abandoned job was skipped, not run.
        assert_eq!(hashing.run(|| 5).await, Ok(5));
        assert!(!ran.load(std::sync::atomic::Ordering::SeqCst));
    }

    #[tokio::test]
    async fn work_that_panics_is_an_error_and_the_thread_goes_on() {
        let hashing = Hashing::start(1, 4, Duration::from_secs(5)).unwrap();
        let failed = hashing.run(|| -> u8 { panic!("a broken hash") }).await;
        assert_eq!(failed, Err(HashingBusy));
        assert_eq!(hashing.run(|| 6).await, Ok(6));
    }
}
