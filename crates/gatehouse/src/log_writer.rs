//! The thread that writes the log to standard error, in batches.
//!
//! A line is formatted on the thread that logs it and appended to a shared buffer; the writer thread
//! wakes when the first line arrives in an empty buffer, lets lines gather for [`GATHER`], then
//! writes them all at once. So a request never waits for a write (a pipe to a busy log collector can
//! block), and a busy server wakes the writer about a hundred times a second, not once per line:
//! with tracing-appender's channel the writer was woken for nearly every access-log line, and those
//! wake-ups (a futex call on the request's thread, a thread switch) cost more than the writes
//! (`docs/performance.md`).
//!
//! Nothing is dropped while the guard lives: when `max_pending` bytes are waiting, logging waits.
//! Dropping the guard writes out what is waiting; lines logged after that are discarded.

use std::io::{self, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// How long the writer lets lines gather after the first one before it writes them.
const GATHER: Duration = Duration::from_millis(10);

/// Bytes of buffer the writer keeps between batches; a larger one (after a burst) is given back.
const KEPT_CAPACITY: usize = 64 * 1024;

/// Where log lines go: hand it to the subscriber as its writer.
#[derive(Debug, Clone)]
pub struct LogWriter(Arc<Shared>);

/// Keeps the writer thread running; dropping it writes out the waiting lines and stops the thread.
#[derive(Debug)]
pub struct LogGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Debug)]
struct Shared {
    pending: Mutex<Pending>,
    /// The writer waits here for a first line.
    lines_arrived: Condvar,
    /// Loggers wait here while the buffer is full.
    room: Condvar,
    max_pending: usize,
}

#[derive(Debug, Default)]
struct Pending {
    lines: Vec<u8>,
    writer_asleep: bool,
    closed: bool,
}

/// Starts the writer thread, writing to `out`, with at most `max_pending` bytes waiting.
pub fn start(
    out: impl Write + Send + 'static,
    max_pending: usize,
) -> io::Result<(LogWriter, LogGuard)> {
    let shared = Arc::new(Shared {
        pending: Mutex::new(Pending::default()),
        lines_arrived: Condvar::new(),
        room: Condvar::new(),
        max_pending,
    });
    let thread = {
        let shared = shared.clone();
        std::thread::Builder::new()
            .name("gatehouse-log".into())
            .spawn(move || write_batches(&shared, out))?
    };
    Ok((
        LogWriter(shared.clone()),
        LogGuard {
            shared,
            thread: Some(thread),
        },
    ))
}

fn lock(shared: &Shared) -> MutexGuard<'_, Pending> {
    // A panic while holding the lock leaves only bytes behind: still fine to write.
    shared
        .pending
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write_batches(shared: &Shared, mut out: impl Write) {
    let mut batch = Vec::new();
    loop {
        let mut pending = lock(shared);
        while pending.lines.is_empty() && !pending.closed {
            pending.writer_asleep = true;
            pending = shared
                .lines_arrived
                .wait(pending)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            pending.writer_asleep = false;
        }
        if pending.lines.is_empty() {
            return; // closed, and everything written
        }
        if !pending.closed {
            drop(pending);
            std::thread::sleep(GATHER);
            pending = lock(shared);
        }
        std::mem::swap(&mut pending.lines, &mut batch);
        drop(pending);
        shared.room.notify_all();
        // Standard error that cannot be written has nowhere to report to.
        let _ = out.write_all(&batch).and_then(|()| out.flush());
        batch.clear();
        batch.shrink_to(KEPT_CAPACITY);
    }
}

/// One line's way into the buffer (the subscriber writes each line once).
#[derive(Debug)]
pub struct LogLine<'a>(&'a Shared);

impl Write for LogLine<'_> {
    fn write(&mut self, line: &[u8]) -> io::Result<usize> {
        let shared = self.0;
        let mut pending = lock(shared);
        while pending.lines.len() >= shared.max_pending && !pending.closed {
            pending = shared
                .room
                .wait(pending)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        if pending.closed {
            return Ok(line.len());
        }
        pending.lines.extend_from_slice(line);
        let wake = pending.writer_asleep;
        drop(pending);
        if wake {
            shared.lines_arrived.notify_one();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogWriter {
    type Writer = LogLine<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LogLine(&self.0)
    }
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        lock(&self.shared).closed = true;
        self.shared.lines_arrived.notify_one();
        self.shared.room.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::mpsc;

    use super::*;

    /// Everything written, shared with the test.
    #[derive(Clone, Default)]
    struct Collected(Arc<Mutex<Vec<u8>>>);

    impl Write for Collected {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_from_every_thread_is_written_whole_and_in_order() {
        let out = Collected::default();
        let (writer, guard) = start(out.clone(), 1 << 20).unwrap();
        std::thread::scope(|scope| {
            for t in 0..4 {
                let writer = writer.clone();
                scope.spawn(move || {
                    for i in 0..2_000 {
                        let line = format!("thread {t} line {i}\n");
                        writer.make_writer().write_all(line.as_bytes()).unwrap();
                    }
                });
            }
        });
        drop(guard);
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 8_000);
        for t in 0..4 {
            let numbers: Vec<usize> = text
                .lines()
                .filter_map(|l| l.strip_prefix(&format!("thread {t} line ")))
                .map(|n| n.parse().unwrap())
                .collect();
            assert_eq!(numbers, (0..2_000).collect::<Vec<_>>());
        }
    }

    /// An output that blocks until the test lets it go on.
    struct Stuck(mpsc::Receiver<()>, Collected);

    impl Write for Stuck {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.recv().unwrap();
            self.1.write(bytes)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_blocked_output_makes_logging_wait_once_the_buffer_is_full_and_loses_nothing() {
        let (go_on, stuck) = mpsc::channel();
        let out = Collected::default();
        let (writer, guard) = start(Stuck(stuck, out.clone()), 100).unwrap();
        let (logged, lines_logged) = mpsc::channel();
        let logger = std::thread::spawn(move || {
            for i in 0..40 {
                writer
                    .make_writer()
                    .write_all(format!("line {i:04}\n").as_bytes())
                    .unwrap();
                logged.send(i).unwrap();
            }
        });
        // The writer takes a first batch and blocks on it; then 100 bytes (10 lines) fill the
        // buffer, and the logger waits.
        std::thread::sleep(Duration::from_millis(200));
        let so_far = lines_logged.try_iter().count();
        assert!(so_far < 40, "the logger went on past a full buffer");
        for _ in 0..40 {
            let _ = go_on.send(());
        }
        logger.join().unwrap();
        drop(guard);
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 40, "{text}");
    }

    #[test]
    fn lines_after_the_guard_is_dropped_are_discarded_without_waiting() {
        let out = Collected::default();
        let (writer, guard) = start(out.clone(), 10).unwrap();
        writer.make_writer().write_all(b"kept\n").unwrap();
        drop(guard);
        for _ in 0..10 {
            writer.make_writer().write_all(b"too late\n").unwrap();
        }
        assert_eq!(out.0.lock().unwrap().as_slice(), b"kept\n");
    }
}
