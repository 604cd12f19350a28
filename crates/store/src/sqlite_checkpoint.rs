//! Checkpoints of the SQLite write-ahead log, on a thread of their own.
//!
//! In WAL mode a commit only appends pages to the log; a *checkpoint* copies them back into the
//! database file and syncs both files. Left to SQLite, the checkpoint runs inside the commit that takes
//! the log past 1,000 pages: that commit then writes megabytes and waits for two `fsync`s (4–5 ms on
//! the benchmark machine, every 45 ms under a stream of refreshes), holding the write gate, so every
//! writer waits, and holding the async worker it runs on, so every request queued there waits too.
//!
//! Here the writer connection never checkpoints (`wal_autocheckpoint = 0`); this thread does:
//!
//! - after a commit it waits [`GATHER`] for more commits, then runs a *passive* checkpoint, which
//!   copies and syncs what no reader still needs while writers go on appending. A commit reaches the
//!   disk within about [`GATHER`] (SQLite's own schedule left it until the 1,000th page).
//! - a passive checkpoint cannot let the log start again from its beginning while commits keep
//!   coming, so under a long stream of writes the log only grows. Once it holds [`RESTART_AT`] pages,
//!   the thread takes the write gate (writers queue, as they would behind a transaction) and finishes
//!   with a *restart* checkpoint, after which the next commit writes the log from its start again. The
//!   passive checkpoint before it has copied nearly everything, so the writers wait only for the rest.

use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

/// How long the thread lets commits gather before it checkpoints them.
pub(crate) const GATHER: Duration = Duration::from_millis(100);
/// Pages in the log (4 KiB each: 32 MiB) past which the log is restarted.
pub(crate) const RESTART_AT: i64 = 8192;

/// Tells the checkpoint thread that something was committed. Cheap enough for every commit: while
/// the thread is gathering commits it is already told, and telling it again costs one atomic check.
#[derive(Debug, Clone)]
pub(crate) struct CommitSignal(SyncSender<()>);

impl CommitSignal {
    pub(crate) fn committed(&self) {
        let _ = self.0.try_send(());
    }
}

/// Starts the checkpoint thread for the database at `path`, on its own connection `conn`. It ends
/// once every [`CommitSignal`] is dropped, after checkpointing what was committed last.
pub(crate) fn start(
    path: &Path,
    write_gate: Arc<tokio::sync::Mutex<()>>,
    conn: Connection,
) -> std::io::Result<(CommitSignal, JoinHandle<()>)> {
    let (signal, commits) = std::sync::mpsc::sync_channel(1);
    let path = path.display().to_string();
    let thread = std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || run(&path, &conn, &write_gate, &commits))?;
    Ok((CommitSignal(signal), thread))
}

fn run(path: &str, conn: &Connection, write_gate: &tokio::sync::Mutex<()>, commits: &Receiver<()>) {
    while commits.recv().is_ok() {
        std::thread::sleep(GATHER);
        // Commits signalled while this thread slept are in this checkpoint; later ones signal again.
        while commits.try_recv().is_ok() {}
        if let Err(e) = checkpoint(conn, write_gate) {
            tracing::warn!(database = path, error = %e, "checkpoint of the SQLite log failed; the next commit retries it");
        }
    }
}

/// One passive checkpoint, and a restart of the log when it has grown past [`RESTART_AT`].
fn checkpoint(conn: &Connection, write_gate: &tokio::sync::Mutex<()>) -> rusqlite::Result<()> {
    let log_pages = wal_checkpoint(conn, "PASSIVE")?;
    if log_pages >= RESTART_AT {
        let _writers_wait = write_gate.blocking_lock();
        wal_checkpoint(conn, "RESTART")?;
    }
    Ok(())
}

/// Runs `PRAGMA wal_checkpoint(mode)`; returns the pages in the log before it.
fn wal_checkpoint(conn: &Connection, mode: &str) -> rusqlite::Result<i64> {
    conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |row| {
        row.get(1)
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A database file in a folder of its own, and a writer that never checkpoints, as the server's.
    fn database() -> (tempfile::TempDir, std::path::PathBuf, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;
             CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v BLOB);",
        )
        .unwrap();
        wal_checkpoint(&conn, "TRUNCATE").unwrap();
        (dir, path, conn)
    }

    /// Rows of `t` in the database file itself, read without the log.
    fn rows_in_database_file(path: &Path) -> i64 {
        let copy = path.with_extension("copy");
        std::fs::copy(path, &copy).unwrap();
        Connection::open(&copy)
            .unwrap()
            .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn a_commit_reaches_the_database_file_soon_after_it_is_signalled() {
        let (_dir, path, conn) = database();
        let (signal, _thread) =
            start(&path, Arc::default(), Connection::open(&path).unwrap()).unwrap();
        conn.execute("INSERT INTO t (v) VALUES (x'00')", [])
            .unwrap();
        assert_eq!(rows_in_database_file(&path), 0, "only in the log so far");
        signal.committed();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while rows_in_database_file(&path) == 0 {
            assert!(std::time::Instant::now() < deadline, "never checkpointed");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn a_log_past_its_bound_is_restarted_once_the_writers_have_stepped_aside() {
        let (_dir, path, conn) = database();
        let blob = vec![7u8; 4000];
        for _ in 0..(RESTART_AT + 100) {
            conn.execute("INSERT INTO t (v) VALUES (?)", [&blob])
                .unwrap();
        }
        let gate = Arc::new(tokio::sync::Mutex::new(()));
        let a_writer = gate.try_lock().unwrap();
        let checkpointing = std::thread::spawn({
            let gate = Arc::clone(&gate);
            let path = path.clone();
            move || checkpoint(&Connection::open(&path).unwrap(), &gate).unwrap()
        });
        std::thread::sleep(Duration::from_millis(300));
        assert!(
            !checkpointing.is_finished(),
            "the restart did not wait for the writer"
        );
        drop(a_writer);
        checkpointing.join().unwrap();
        // The next commit writes the log from its start.
        conn.execute("INSERT INTO t (v) VALUES (x'01')", [])
            .unwrap();
        let log = wal_checkpoint(&conn, "PASSIVE").unwrap();
        assert!(log < 10, "the log was not restarted: {log} pages in it");
        assert_eq!(rows_in_database_file(&path), RESTART_AT + 101);
    }

    #[test]
    fn a_short_log_is_checkpointed_without_stopping_the_writers() {
        let (_dir, path, conn) = database();
        conn.execute("INSERT INTO t (v) VALUES (x'01')", [])
            .unwrap();
        let gate = Arc::new(tokio::sync::Mutex::new(()));
        let _a_writer = gate.try_lock().unwrap();
        checkpoint(&Connection::open(&path).unwrap(), &gate).unwrap();
        assert_eq!(rows_in_database_file(&path), 1);
    }

    #[test]
    fn the_thread_checkpoints_what_was_committed_last_and_ends_when_the_database_is_dropped() {
        let (_dir, path, conn) = database();
        let (signal, thread) =
            start(&path, Arc::default(), Connection::open(&path).unwrap()).unwrap();
        conn.execute("INSERT INTO t (v) VALUES (x'01')", [])
            .unwrap();
        signal.committed();
        drop(signal);
        thread.join().unwrap();
        assert_eq!(rows_in_database_file(&path), 1);
    }
}
