//! SQLite run on the calling thread, behind sea-orm's [`ConnectionTrait`].
//!
//! sqlx gives every SQLite connection a worker thread and sends each statement there and each row
//! back through channels: two thread switches per statement, which profiling showed to be most of the
//! server's CPU on the token endpoint (the kernel's task switching, not SQLite). A primary-key lookup
//! in SQLite itself takes microseconds, so here statements run where they are asked for, on the async
//! worker, through `rusqlite` on the same SQLite library sqlx links.
//!
//! - Reads (`SELECT`) take an idle reader connection (`query_only`), or open one, and put it back. In
//!   WAL mode readers never wait for the writer.
//! - Writes are serialised in the process by a gate (an async mutex) in front of one writer
//!   connection, so writers queue without SQLite's busy-wait sleeps. A transaction holds the gate
//!   until it commits or is dropped (rolled back); a writer yields as soon as it gives the gate back,
//!   so the next writer runs at once.
//! - The writer never checkpoints the log; a thread of its own does (`sqlite_checkpoint`), told
//!   after each commit.
//! - Another process writing the same file (the CLI beside a running server) still meets SQLite's
//!   busy timeout, which then waits on this thread.
//!
//! Rows come back as sea-orm proxy rows, typed by each column's declared type (the schema's
//! `bigint` is `i64`, `INTEGER` `i32`, `boolean` `bool`, text `String`), so entity models read them as
//! they read sqlx's rows.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use sea_orm::sea_query::Value;
use sea_orm::{
    ConnAcquireErr, ConnectionTrait, DbBackend, DbErr, ExecResult, ProxyExecResult, ProxyRow,
    QueryResult, RuntimeErr, Statement,
};

use crate::sqlite_checkpoint::{self, CommitSignal};

mod batch;

pub(crate) use batch::run_to_end;

/// Idle reader connections kept for reuse; more may be open while many statements run at once.
const IDLE_READERS: usize = 8;
/// Prepared statements kept per connection (the store has about a hundred distinct ones).
const STATEMENT_CACHE: usize = 256;
/// How long a statement waits for another process's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A SQLite database file, read and written on the calling thread.
#[derive(Debug)]
pub struct InlineSqlite {
    path: PathBuf,
    readers: Mutex<Vec<Connection>>,
    write_gate: Arc<tokio::sync::Mutex<()>>,
    writer: Arc<Mutex<Connection>>,
    committed: CommitSignal,
    closed: AtomicBool,
    /// Writes queued for the next batch (`batch`).
    batch: Mutex<Vec<Box<dyn batch::BatchedWrite>>>,
}

impl InlineSqlite {
    /// Opens `path`, which must exist with its schema (sqlx made and migrated it).
    pub fn open(path: &Path) -> Result<Self, DbErr> {
        let writer = open(path, false)?;
        let write_gate = Arc::new(tokio::sync::Mutex::new(()));
        let (committed, _detached) =
            sqlite_checkpoint::start(path, Arc::clone(&write_gate), open(path, false)?)
                .map_err(|e| DbErr::Conn(RuntimeErr::Internal(e.to_string())))?;
        Ok(Self {
            path: path.to_owned(),
            readers: Mutex::new(Vec::new()),
            write_gate,
            writer: Arc::new(Mutex::new(writer)),
            committed,
            closed: AtomicBool::new(false),
            batch: Mutex::new(Vec::new()),
        })
    }

    /// Refuses every later statement, as a closed pool does.
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        lock(&self.readers).clear();
    }

    /// Starts a write transaction (`BEGIN IMMEDIATE`), holding the write gate until it ends.
    pub async fn begin(&self) -> Result<InlineTransaction, DbErr> {
        self.check_open()?;
        let gate = Arc::clone(&self.write_gate).lock_owned().await;
        let writer = Arc::clone(&self.writer);
        lock(&writer)
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| exec_err(&e))?;
        Ok(InlineTransaction {
            _gate: gate,
            conn: writer,
            committed: self.committed.clone(),
            open: true,
        })
    }

    fn check_open(&self) -> Result<(), DbErr> {
        if self.closed.load(Ordering::SeqCst) {
            Err(DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed))
        } else {
            Ok(())
        }
    }

    /// Runs `f` on an idle reader connection.
    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T, DbErr>) -> Result<T, DbErr> {
        self.check_open()?;
        let conn = match lock(&self.readers).pop() {
            Some(conn) => conn,
            None => open(&self.path, true)?,
        };
        let result = f(&conn);
        let mut idle = lock(&self.readers);
        if idle.len() < IDLE_READERS && !self.closed.load(Ordering::SeqCst) {
            idle.push(conn);
        }
        result
    }

    /// Runs `f` on the writer connection, after the writers before it.
    async fn write<T>(&self, f: impl FnOnce(&Connection) -> Result<T, DbErr>) -> Result<T, DbErr> {
        self.check_open()?;
        let gate = self.write_gate.lock().await;
        let result = f(&lock(&self.writer));
        drop(gate);
        if result.is_ok() {
            self.committed.committed();
        }
        let_the_next_writer_in().await;
        result
    }
}

/// Called once a writer has given the write gate back. tokio's mutex hands the gate straight to the
/// writer that has waited longest and wakes it into this worker's next-task slot, where it would wait,
/// holding the gate unused, until the current request ends (its signatures and its response: 100 µs
/// or more). Yielding runs the next writer at once; this request goes on afterwards, on this worker or
/// on the other one, which may take it over. Measured on refresh and code exchange: 4,900 → 5,600–5,900
/// requests/s, with less CPU per request (the two cores had been nearly a third idle).
async fn let_the_next_writer_in() {
    tokio::task::yield_now().await;
}

#[async_trait::async_trait]
impl ConnectionTrait for InlineSqlite {
    fn get_database_backend(&self) -> DbBackend {
        DbBackend::Sqlite
    }

    async fn execute(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.write(|conn| execute(conn, &stmt)).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.write(|conn| execute_batch(conn, sql)).await
    }

    async fn query_one(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        let rows = if is_read(&stmt.sql) {
            self.read(|conn| query(conn, &stmt, Some(1)))?
        } else {
            self.write(|conn| query(conn, &stmt, None)).await?
        };
        Ok(rows.into_iter().next())
    }

    async fn query_all(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        if is_read(&stmt.sql) {
            self.read(|conn| query(conn, &stmt, None))
        } else {
            self.write(|conn| query(conn, &stmt, None)).await
        }
    }
}

/// A write transaction on [`InlineSqlite`]: every statement runs on the writer connection. Dropped
/// without [`commit`](Self::commit), it rolls back.
#[derive(Debug)]
pub struct InlineTransaction {
    _gate: tokio::sync::OwnedMutexGuard<()>,
    conn: Arc<Mutex<Connection>>,
    committed: CommitSignal,
    open: bool,
}

impl InlineTransaction {
    /// Commits; when that fails the transaction is rolled back, so the writer connection is never
    /// left inside it.
    pub async fn commit(mut self) -> Result<(), DbErr> {
        self.open = false;
        let committed = commit(&lock(&self.conn));
        if committed.is_ok() {
            self.committed.committed();
        }
        drop(self);
        let_the_next_writer_in().await;
        committed
    }

    pub async fn rollback(mut self) -> Result<(), DbErr> {
        self.open = false;
        let rolled_back = lock(&self.conn)
            .execute_batch("ROLLBACK")
            .map_err(|e| exec_err(&e));
        drop(self);
        let_the_next_writer_in().await;
        rolled_back
    }
}

impl Drop for InlineTransaction {
    fn drop(&mut self) {
        if self.open {
            let _ = lock(&self.conn).execute_batch("ROLLBACK");
        }
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for InlineTransaction {
    fn get_database_backend(&self) -> DbBackend {
        DbBackend::Sqlite
    }

    async fn execute(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        OnConnection(&self.conn).execute(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        OnConnection(&self.conn).execute_unprepared(sql).await
    }

    async fn query_one(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        OnConnection(&self.conn).query_one(stmt).await
    }

    async fn query_all(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        OnConnection(&self.conn).query_all(stmt).await
    }
}

/// The writer connection, as a sea-orm connection, for a transaction or a batched write that holds
/// the write gate: each call runs its statement at once and completes without waiting (see
/// [`run_to_end`]).
pub(crate) struct OnConnection<'a>(&'a Mutex<Connection>);

#[async_trait::async_trait]
impl ConnectionTrait for OnConnection<'_> {
    fn get_database_backend(&self) -> DbBackend {
        DbBackend::Sqlite
    }

    async fn execute(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        execute(&lock(self.0), &stmt)
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        execute_batch(&lock(self.0), sql)
    }

    async fn query_one(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        Ok(query(&lock(self.0), &stmt, Some(1))?.into_iter().next())
    }

    async fn query_all(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        query(&lock(self.0), &stmt, None)
    }
}

/// Commits the open transaction on `conn`; when that fails it is rolled back, so the connection is
/// never left inside it.
fn commit(conn: &Connection) -> Result<(), DbErr> {
    conn.execute_batch("COMMIT").map_err(|e| {
        if !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        exec_err(&e)
    })
}

/// A poisoned lock only means another statement panicked; the connection itself is still usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn open(path: &Path, reader: bool) -> Result<Connection, DbErr> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| conn_err(&e))?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| conn_err(&e))?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // As sqlx's connections are set up: foreign keys enforced (the schema's cascades rely on it),
    // and commits in WAL mode without a sync each (a sync at each checkpoint). Only the checkpoint
    // thread checkpoints.
    conn.execute_batch(if reader {
        "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA query_only = ON;"
    } else {
        "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0;"
    })
    .map_err(|e| conn_err(&e))?;
    Ok(conn)
}

fn is_read(sql: &str) -> bool {
    sql.trim_start()
        .get(..6)
        .is_some_and(|head| head.eq_ignore_ascii_case("select"))
}

fn execute(conn: &Connection, stmt: &Statement) -> Result<ExecResult, DbErr> {
    #[cfg(feature = "statement-log")]
    crate::statement_log::note(conn, &stmt.sql);
    let mut prepared = conn.prepare_cached(&stmt.sql).map_err(|e| exec_err(&e))?;
    bind(&mut prepared, stmt).map_err(DbErr::Exec)?;
    let rows_affected = prepared.raw_execute().map_err(|e| exec_err(&e))?;
    Ok(exec_result(conn, rows_affected))
}

fn execute_batch(conn: &Connection, sql: &str) -> Result<ExecResult, DbErr> {
    conn.execute_batch(sql).map_err(|e| exec_err(&e))?;
    Ok(exec_result(conn, conn.changes() as usize))
}

fn exec_result(conn: &Connection, rows_affected: usize) -> ExecResult {
    ProxyExecResult {
        last_insert_id: u64::try_from(conn.last_insert_rowid()).unwrap_or(0),
        rows_affected: rows_affected as u64,
    }
    .into()
}

fn query(
    conn: &Connection,
    stmt: &Statement,
    limit: Option<usize>,
) -> Result<Vec<QueryResult>, DbErr> {
    #[cfg(feature = "statement-log")]
    crate::statement_log::note(conn, &stmt.sql);
    let mut prepared = conn.prepare_cached(&stmt.sql).map_err(|e| query_err(&e))?;
    bind(&mut prepared, stmt).map_err(DbErr::Query)?;
    let mut columns: Vec<(String, ColumnKind)> = prepared
        .columns()
        .iter()
        .map(|c| (c.name().to_owned(), ColumnKind::of(c.decl_type())))
        .collect();
    let mut rows = prepared.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(|e| query_err(&e))? {
        // The last row the caller wants takes the column names; the rows before it copy them.
        let last = limit.is_some_and(|limit| out.len() + 1 >= limit);
        let mut values = BTreeMap::new();
        for (index, (name, kind)) in columns.iter_mut().enumerate() {
            let raw = row.get_ref(index).map_err(|e| query_err(&e))?;
            let name = if last {
                std::mem::take(name)
            } else {
                name.clone()
            };
            values.insert(name, kind.value(raw)?);
        }
        out.push(ProxyRow::new(values).into());
        if last {
            break;
        }
    }
    Ok(out)
}

fn bind(prepared: &mut rusqlite::CachedStatement<'_>, stmt: &Statement) -> Result<(), RuntimeErr> {
    let Some(values) = &stmt.values else {
        return Ok(());
    };
    for (index, value) in values.0.iter().enumerate() {
        let position = index + 1;
        let bound = match value {
            Value::Bool(v) => prepared.raw_bind_parameter(position, v),
            Value::TinyInt(v) => prepared.raw_bind_parameter(position, v),
            Value::SmallInt(v) => prepared.raw_bind_parameter(position, v),
            Value::Int(v) => prepared.raw_bind_parameter(position, v),
            Value::BigInt(v) => prepared.raw_bind_parameter(position, v),
            Value::TinyUnsigned(v) => prepared.raw_bind_parameter(position, v),
            Value::SmallUnsigned(v) => prepared.raw_bind_parameter(position, v),
            Value::Unsigned(v) => prepared.raw_bind_parameter(position, v),
            Value::BigUnsigned(v) => prepared.raw_bind_parameter(position, v),
            Value::Float(v) => prepared.raw_bind_parameter(position, v),
            Value::Double(v) => prepared.raw_bind_parameter(position, v),
            Value::String(v) => prepared.raw_bind_parameter(position, v.as_deref()),
            Value::Char(v) => prepared.raw_bind_parameter(position, v.map(String::from)),
            Value::Bytes(v) => prepared.raw_bind_parameter(position, v.as_deref()),
            Value::Json(v) => prepared
                .raw_bind_parameter(position, v.as_deref().map(serde_json::Value::to_string)),
            #[allow(unreachable_patterns)]
            other => {
                return Err(RuntimeErr::Internal(format!(
                    "no SQLite binding for {other:?}"
                )));
            }
        };
        bound.map_err(|e| RuntimeErr::Internal(e.to_string()))?;
    }
    Ok(())
}

/// What sea-orm's models expect for a column, from its declared type in the schema.
#[derive(Debug, Clone, Copy)]
enum ColumnKind {
    /// `bigint`: `i64`.
    BigInt,
    /// `INTEGER`: `i32` (the schema's counters).
    Int,
    Bool,
    Text,
    Blob,
    /// An expression (`COUNT(*)`): no declared type. sea-orm reads SQLite counts as `i32`.
    Expression,
}

impl ColumnKind {
    fn of(declared: Option<&str>) -> Self {
        let Some(declared) = declared else {
            return Self::Expression;
        };
        // The schema's own types, as SQLite reports them, are matched whole without lowering a copy
        // (this runs for every column of every statement); anything else by the words it mentions.
        // Matching every type by its words alone cost userinfo 2.7k more instructions a request.
        let schema_types = [
            ("varchar", Self::Text),
            ("bigint", Self::BigInt),
            ("text", Self::Text),
            ("boolean", Self::Bool),
            ("integer", Self::Int),
        ];
        if let Some((_, kind)) = schema_types
            .iter()
            .find(|(name, _)| declared.eq_ignore_ascii_case(name))
        {
            return *kind;
        }
        let mentions = |word: &str| {
            declared
                .as_bytes()
                .windows(word.len())
                .any(|part| part.eq_ignore_ascii_case(word.as_bytes()))
        };
        if mentions("bool") {
            Self::Bool
        } else if mentions("bigint") || mentions("int8") {
            Self::BigInt
        } else if mentions("int") {
            Self::Int
        } else if mentions("blob") || mentions("binary") {
            Self::Blob
        } else {
            Self::Text
        }
    }

    fn value(self, raw: ValueRef<'_>) -> Result<Value, DbErr> {
        let mismatch = || {
            DbErr::Query(RuntimeErr::Internal(format!(
                "a {self:?} column holds {:?}",
                raw.data_type()
            )))
        };
        Ok(match (self, raw) {
            (Self::BigInt, ValueRef::Null) => Value::BigInt(None),
            (Self::BigInt, ValueRef::Integer(i)) => Value::BigInt(Some(i)),
            (Self::Int, ValueRef::Null) => Value::Int(None),
            (Self::Int, ValueRef::Integer(i)) => {
                Value::Int(Some(i32::try_from(i).map_err(|_| mismatch())?))
            }
            (Self::Bool, ValueRef::Null) => Value::Bool(None),
            (Self::Bool, ValueRef::Integer(i)) => Value::Bool(Some(i != 0)),
            (Self::Text | Self::Expression, ValueRef::Null) => Value::String(None),
            (Self::Text | Self::Expression, ValueRef::Text(text)) => Value::String(Some(Box::new(
                std::str::from_utf8(text)
                    .map_err(|_| mismatch())?
                    .to_owned(),
            ))),
            (Self::Blob, ValueRef::Null) => Value::Bytes(None),
            (Self::Blob, ValueRef::Blob(bytes)) => Value::Bytes(Some(Box::new(bytes.to_vec()))),
            (Self::Expression, ValueRef::Integer(i)) => match i32::try_from(i) {
                Ok(small) => Value::Int(Some(small)),
                Err(_) => Value::BigInt(Some(i)),
            },
            (Self::Expression, ValueRef::Real(r)) => Value::Double(Some(r)),
            (Self::Expression, ValueRef::Blob(bytes)) => {
                Value::Bytes(Some(Box::new(bytes.to_vec())))
            }
            _ => return Err(mismatch()),
        })
    }
}

/// Busy, locked, unopenable or failing files are the database being unavailable (a 503), as a
/// pool's connection errors are; anything else is the statement's own failure.
fn unavailable(e: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode::{CannotOpen, DatabaseBusy, DatabaseLocked, SystemIoFailure};
    matches!(
        e.sqlite_error_code(),
        Some(DatabaseBusy | DatabaseLocked | CannotOpen | SystemIoFailure)
    )
}

fn conn_err(e: &rusqlite::Error) -> DbErr {
    DbErr::Conn(RuntimeErr::Internal(e.to_string()))
}

fn exec_err(e: &rusqlite::Error) -> DbErr {
    if unavailable(e) {
        conn_err(e)
    } else {
        DbErr::Exec(RuntimeErr::Internal(e.to_string()))
    }
}

fn query_err(e: &rusqlite::Error) -> DbErr {
    if unavailable(e) {
        conn_err(e)
    } else {
        DbErr::Query(RuntimeErr::Internal(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait as _, DbBackend, Statement};

    use super::*;

    async fn database() -> (InlineSqlite, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let first = Connection::open(&path).unwrap();
        first
            .execute_batch(
                "PRAGMA journal_mode = WAL;
                 CREATE TABLE t (id bigint PRIMARY KEY, n INTEGER, ok boolean, name varchar, raw blob);",
            )
            .unwrap();
        (InlineSqlite::open(&path).unwrap(), dir)
    }

    fn sql(sql: &str, values: Vec<Value>) -> Statement {
        Statement::from_sql_and_values(DbBackend::Sqlite, sql, values)
    }

    /// The rows of `table`, read as sea-orm reads an SQLite `COUNT(*)`: an `i32`.
    async fn count(db: &InlineSqlite, table: &str) -> i32 {
        db.query_one(sql(&format!("SELECT COUNT(*) AS c FROM {table}"), vec![]))
            .await
            .unwrap()
            .unwrap()
            .try_get("", "c")
            .unwrap()
    }

    fn insert(id: i64) -> Statement {
        sql(
            "INSERT INTO t (id, n, ok, name) VALUES (?, ?, ?, ?)",
            vec![id.into(), 7i32.into(), true.into(), "x".into()],
        )
    }

    /// SQLite is built without STAT4 (`.cargo/config.toml`): with it, once `ANALYZE` had run, a cached
    /// statement filtering on an indexed column was planned afresh whenever its values changed, which
    /// made the joined token reads two to three times dearer on a large database.
    #[test]
    fn a_cached_statement_is_not_planned_again_when_its_values_change() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE parent (id varchar PRIMARY KEY, v varchar);
             CREATE TABLE child (id varchar PRIMARY KEY, parent_id varchar, k varchar);
             CREATE INDEX child_k ON child (k);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
             INSERT INTO parent SELECT 'p' || i, 'v' FROM n;
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
             INSERT INTO child SELECT 'c' || i, 'p' || i,
                 CASE WHEN i % 10 = 0 THEN 'rare' || i ELSE 'common' END FROM n;
             ANALYZE;",
        )
        .unwrap();
        let sql = "SELECT child.id, parent.v FROM child JOIN parent ON parent.id = child.parent_id \
                   WHERE child.k = ?";
        for key in ["common", "rare10", "rare20", "common"] {
            let mut statement = conn.prepare_cached(sql).unwrap();
            let rows = statement
                .query_map([key], |row| row.get::<_, String>(0))
                .unwrap()
                .count();
            assert!(rows > 0);
            assert_eq!(
                statement.get_status(rusqlite::StatementStatus::RePrepare),
                0,
                "planned again for {key}"
            );
        }
    }

    #[tokio::test]
    async fn rows_come_back_typed_by_their_declared_column_types() {
        let (db, _dir) = database().await;
        db.execute(insert(1)).await.unwrap();
        db.execute(sql("INSERT INTO t (id) VALUES (?)", vec![2i64.into()]))
            .await
            .unwrap();
        let rows = db
            .query_all(sql("SELECT * FROM t ORDER BY id", vec![]))
            .await
            .unwrap();
        assert_eq!(rows[0].try_get::<i64>("", "id").unwrap(), 1);
        assert_eq!(rows[0].try_get::<i32>("", "n").unwrap(), 7);
        assert!(rows[0].try_get::<bool>("", "ok").unwrap());
        assert_eq!(rows[0].try_get::<String>("", "name").unwrap(), "x");
        assert_eq!(rows[1].try_get::<Option<i32>>("", "n").unwrap(), None);
        assert_eq!(rows[1].try_get::<Option<String>>("", "name").unwrap(), None);
        assert_eq!(count(&db, "t").await, 2);
    }

    #[test]
    fn a_declared_type_reads_the_same_in_any_case_and_with_a_length() {
        let expected = [
            ("varchar", "Text"),
            ("VARCHAR(255)", "Text"),
            ("text", "Text"),
            ("TEXT", "Text"),
            ("bigint", "BigInt"),
            ("BIGINT", "BigInt"),
            ("int8", "BigInt"),
            ("boolean", "Bool"),
            ("Boolean", "Bool"),
            ("INTEGER", "Int"),
            ("tinyint", "Int"),
            ("blob", "Blob"),
            ("BINARY(16)", "Blob"),
        ];
        for (declared, kind) in expected {
            let read = format!("{:?}", ColumnKind::of(Some(declared)));
            assert_eq!(read, kind, "declared as {declared}");
        }
        assert!(matches!(ColumnKind::of(None), ColumnKind::Expression));
    }

    #[tokio::test]
    async fn a_transaction_dropped_without_commit_leaves_nothing_behind() {
        let (db, _dir) = database().await;
        {
            let txn = db.begin().await.unwrap();
            txn.execute(insert(1)).await.unwrap();
            // Dropped here, as when a `?` returns early.
        }
        let txn = db.begin().await.unwrap();
        txn.execute(insert(2)).await.unwrap();
        txn.commit().await.unwrap();
        let ids: Vec<i64> = db
            .query_all(sql("SELECT id FROM t", vec![]))
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get("", "id").unwrap())
            .collect();
        assert_eq!(ids, vec![2]);
    }

    #[tokio::test]
    async fn a_commit_that_fails_rolls_back_and_the_writer_goes_on() {
        let (db, _dir) = database().await;
        db.execute_unprepared(
            "CREATE TABLE child (id bigint PRIMARY KEY, parent bigint \
             REFERENCES t (id) DEFERRABLE INITIALLY DEFERRED)",
        )
        .await
        .unwrap();
        let txn = db.begin().await.unwrap();
        txn.execute(sql("INSERT INTO child (id, parent) VALUES (1, 99)", vec![]))
            .await
            .unwrap();
        // The deferred foreign key is checked at COMMIT, which fails.
        assert!(txn.commit().await.is_err());
        let txn = db.begin().await.unwrap();
        txn.execute(insert(1)).await.unwrap();
        txn.commit().await.unwrap();
        assert_eq!(count(&db, "child").await, 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_conditional_updates_let_exactly_one_win() {
        let (db, _dir) = database().await;
        let db = Arc::new(db);
        db.execute(insert(1)).await.unwrap();
        let tasks: Vec<_> = (0..32)
            .map(|i| {
                let db = Arc::clone(&db);
                tokio::spawn(async move {
                    let txn = db.begin().await.unwrap();
                    let claimed = txn
                        .execute(sql(
                            "UPDATE t SET n = ? WHERE id = 1 AND n = 7",
                            vec![(100 + i).into()],
                        ))
                        .await
                        .unwrap();
                    if claimed.rows_affected() == 1 {
                        txn.execute(insert(1000 + i64::from(i))).await.unwrap();
                        txn.commit().await.unwrap();
                        true
                    } else {
                        txn.rollback().await.unwrap();
                        false
                    }
                })
            })
            .collect();
        let mut winners = 0;
        for task in tasks {
            winners += usize::from(task.await.unwrap());
        }
        assert_eq!(winners, 1);
        assert_eq!(count(&db, "t").await, 2);
    }

    #[tokio::test]
    async fn a_write_sent_as_a_query_goes_to_the_writer_and_readers_refuse_writes() {
        let (db, _dir) = database().await;
        let returned = db
            .query_one(sql(
                "INSERT INTO t (id, n) VALUES (?, ?) RETURNING n",
                vec![5i64.into(), 3i32.into()],
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(returned.try_get::<i32>("", "n").unwrap(), 3);
        let refused = db.read(|conn| conn.execute("DELETE FROM t", []).map_err(|e| exec_err(&e)));
        assert!(refused.is_err(), "reader connections are query_only");
    }

    #[tokio::test]
    async fn a_closed_database_is_unavailable_not_broken() {
        let (db, _dir) = database().await;
        db.close();
        let err = db.query_one(sql("SELECT 1", vec![])).await.unwrap_err();
        assert!(matches!(err, DbErr::ConnectionAcquire(_)));
        assert!(db.begin().await.is_err());
    }

    #[tokio::test]
    async fn a_constraint_failure_keeps_sqlite_s_message() {
        let (db, _dir) = database().await;
        db.execute(insert(1)).await.unwrap();
        let err = db.execute(insert(1)).await.unwrap_err();
        assert!(matches!(err, DbErr::Exec(_)), "{err:?}");
        assert!(err.to_string().contains("UNIQUE"), "{err}");
    }

    /// Batched writes that queue while another write holds the gate, each writing `ids` and
    /// answering how many rows it wrote.
    fn queue_batched_writes(
        db: &Arc<InlineSqlite>,
        writes: Vec<Vec<i64>>,
    ) -> Vec<tokio::task::JoinHandle<Result<u64, DbErr>>> {
        writes
            .into_iter()
            .map(|ids| {
                let db = Arc::clone(db);
                tokio::spawn(async move {
                    db.write_batched(move |writer| {
                        let mut written = 0;
                        for id in ids {
                            written += run_to_end(writer.execute(insert(id)))?.rows_affected();
                        }
                        Ok(written)
                    })
                    .await
                })
            })
            .collect()
    }

    /// Waits until `writes` batched writes are queued.
    async fn until_queued(db: &InlineSqlite, writes: usize) {
        while lock(&db.batch).len() < writes {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// The ids in `t`, in order.
    async fn ids(db: &InlineSqlite) -> Vec<i64> {
        db.query_all(sql("SELECT id FROM t ORDER BY id", vec![]))
            .await
            .unwrap()
            .iter()
            .map(|row| row.try_get::<i64>("", "id").unwrap())
            .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writes_queued_behind_the_gate_commit_together_and_a_failed_one_is_undone_alone() {
        let (db, _dir) = database().await;
        let db = Arc::new(db);
        db.execute(insert(100)).await.unwrap();
        let holding_the_gate = db.begin().await.unwrap();
        // The third write's second row clashes with row 100: its first row must go too.
        let writes = queue_batched_writes(&db, vec![vec![1], vec![2, 3], vec![4, 100], vec![5]]);
        until_queued(&db, 4).await;
        holding_the_gate.commit().await.unwrap();
        let mut answers = Vec::new();
        for write in writes {
            answers.push(write.await.unwrap().map_err(|e| e.to_string()));
        }
        assert_eq!(answers[0], Ok(1));
        assert_eq!(answers[1], Ok(2));
        assert!(
            answers[2].as_ref().unwrap_err().contains("UNIQUE"),
            "{answers:?}"
        );
        assert_eq!(answers[3], Ok(1));
        let ids = ids(&db).await;
        assert_eq!(ids, vec![1, 2, 3, 5, 100]);
        assert!(lock(&db.writer).is_autocommit(), "no transaction left open");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_concurrent_batched_writes_each_get_their_own_answer() {
        let (db, _dir) = database().await;
        let db = Arc::new(db);
        let writes = queue_batched_writes(
            &db,
            (0..64).map(|id| vec![id; (id % 3 + 1) as usize]).collect(),
        );
        for (id, write) in writes.into_iter().enumerate() {
            let answer = write.await.unwrap();
            if id % 3 == 0 {
                assert_eq!(answer.unwrap(), 1);
            } else {
                assert!(answer.is_err(), "write {id} inserted its row twice");
            }
        }
        assert_eq!(count(&db, "t").await, 22);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_whose_request_went_away_before_it_ran_is_skipped() {
        let (db, _dir) = database().await;
        let db = Arc::new(db);
        let holding_the_gate = db.begin().await.unwrap();
        let mut writes = queue_batched_writes(&db, vec![vec![1], vec![2]]);
        until_queued(&db, 2).await;
        let gone = writes.remove(0);
        gone.abort();
        assert!(gone.await.unwrap_err().is_cancelled());
        holding_the_gate.commit().await.unwrap();
        assert_eq!(writes.remove(0).await.unwrap().unwrap(), 1);
        let ids = ids(&db).await;
        assert_eq!(
            ids,
            vec![2],
            "the first write's request was gone before it ran"
        );
    }

    #[tokio::test]
    async fn a_batched_write_on_a_closed_database_is_refused() {
        let (db, _dir) = database().await;
        db.close();
        let refused = db.write_batched(|_| Ok(())).await;
        assert!(matches!(refused, Err(DbErr::ConnectionAcquire(_))));
    }
}
