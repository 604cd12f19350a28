//! Test support, behind the `statement-log` feature: the SQL text of every statement the SQLite
//! connections run on a database under a chosen folder, and SQLite's plan for each. The integration
//! tests use it to check that every statement of a sign-in and of the token endpoint finds its rows
//! through an index, which no timing on a shared machine can show.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use rusqlite::{Connection, OpenFlags};

/// Whether anything is recorded: one load per statement while nothing is.
static RECORDING: AtomicBool = AtomicBool::new(false);
static LOG: Mutex<Log> = Mutex::new(Log {
    folder: None,
    statements: Vec::new(),
});

struct Log {
    folder: Option<PathBuf>,
    statements: Vec<Recorded>,
}

/// One statement's SQL (placeholders, not values) and the database file it ran on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub database: PathBuf,
    pub sql: String,
}

fn log() -> MutexGuard<'static, Log> {
    LOG.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Starts recording the statements run on databases whose file is under `folder`, forgetting what
/// was recorded before. Other databases (other tests' in the same process) are left out.
pub fn record_under(folder: &Path) {
    let mut log = log();
    log.folder = Some(folder.to_owned());
    log.statements.clear();
    RECORDING.store(true, Ordering::Release);
}

/// Stops recording and hands over each distinct statement, in the order each first ran.
pub fn take() -> Vec<Recorded> {
    RECORDING.store(false, Ordering::Release);
    let mut log = log();
    log.folder = None;
    std::mem::take(&mut log.statements)
}

/// Called by the SQLite connection before it runs `sql`.
pub(crate) fn note(conn: &Connection, sql: &str) {
    if !RECORDING.load(Ordering::Acquire) {
        return;
    }
    let Some(database) = conn.path().map(PathBuf::from) else {
        return;
    };
    let mut log = log();
    let under = log
        .folder
        .as_ref()
        .is_some_and(|folder| database.starts_with(folder));
    let seen = log
        .statements
        .iter()
        .any(|r| r.sql == sql && r.database == database);
    if under && !seen {
        log.statements.push(Recorded {
            database,
            sql: sql.to_owned(),
        });
    }
}

impl Recorded {
    /// SQLite's plan for the statement (`EXPLAIN QUERY PLAN`), one line per step, such as
    /// `SEARCH users USING INDEX idx_users_email (email=?)` or `SCAN users`. Placeholders stay
    /// unbound: without STAT4 (see `.cargo/config.toml`) a plan does not depend on the values.
    pub fn plan(&self) -> Result<Vec<String>, String> {
        let conn = Connection::open_with_flags(&self.database, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| e.to_string())?;
        let mut explain = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {}", self.sql))
            .map_err(|e| e.to_string())?;
        let mut rows = explain.raw_query();
        let mut plan = Vec::new();
        while let Some(row) = rows.next().map_err(|e| e.to_string())? {
            plan.push(row.get::<_, String>("detail").map_err(|e| e.to_string())?);
        }
        Ok(plan)
    }
}
