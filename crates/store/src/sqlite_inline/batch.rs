//! Writes that share a transaction: group commit.
//!
//! Every write holds the write gate for its transaction. When the thread holding it is preempted
//! (two cores, each shared by a server worker and whatever else runs: the kernel takes a core from a
//! thread as it returns from a system call, and a commit makes several), every other writer waits for
//! the thread to be scheduled again, and the cores stand idle. Measured on refresh with the read inside
//! the write: the gate's holder was preempted 670 times a second, and the cores were 16 % idle.
//!
//! A batched write is queued, then its task waits for the gate or for its result, whichever comes
//! first. Whoever takes the gate runs every write queued by then in one transaction, each inside a
//! savepoint of its own (one that fails is rolled back alone, and answers its error), commits, and
//! answers each. The longer a holder is held up, the more writes its successor finds, so a stall
//! costs one transaction, not one per write; and a commit's fixed costs (its locks, the log's pages
//! that several writes touched) are shared.
//!
//! The write runs on whichever task takes the gate, so it owns what it needs (`'static`). A request
//! dropped while its write waits in the queue has it skipped; one dropped once the write has run
//! keeps it, as if the request had ended after its commit.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use sea_orm::{DbErr, RuntimeErr};
use tokio::sync::oneshot;

use super::{InlineSqlite, OnConnection, commit, exec_err, let_the_next_writer_in, lock};

/// A write waiting in the queue.
pub(super) trait BatchedWrite: Send {
    /// Runs it on the writer connection, inside the batch's transaction, in a savepoint of its own.
    fn run(&mut self, conn: &OnConnection<'_>);
    /// Answers it once the batch is committed (`Ok`), or with the commit's failure.
    fn answer(self: Box<Self>, committed: Result<(), &DbErr>);
}

struct Pending<T, F> {
    write: Option<F>,
    result: Option<Result<T, DbErr>>,
    answer: oneshot::Sender<Result<T, DbErr>>,
}

impl std::fmt::Debug for dyn BatchedWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BatchedWrite")
    }
}

impl<T, F> BatchedWrite for Pending<T, F>
where
    T: Send,
    F: FnOnce(&OnConnection<'_>) -> Result<T, DbErr> + Send,
{
    fn run(&mut self, conn: &OnConnection<'_>) {
        // A request that went away before its write ran (its client gave up) leaves nothing
        // behind: run later, on its own, the write could take what a retry of it needs.
        if self.answer.is_closed() {
            return;
        }
        if let Some(write) = self.write.take() {
            self.result = Some(in_savepoint(conn, write));
        }
    }

    fn answer(self: Box<Self>, committed: Result<(), &DbErr>) {
        let result = match (committed, self.result) {
            (Ok(()), Some(result)) => result,
            (Ok(()), None) => Err(DbErr::Custom("a batched write did not run".into())),
            (Err(failed), _) => Err(DbErr::Exec(RuntimeErr::Internal(format!(
                "the batch's commit failed: {failed}"
            )))),
        };
        // The request may have gone since its write ran; the write stands.
        let _ = self.answer.send(result);
    }
}

/// Runs `write` in a savepoint: kept if it succeeds, undone if it fails.
fn in_savepoint<T>(
    conn: &OnConnection<'_>,
    write: impl FnOnce(&OnConnection<'_>) -> Result<T, DbErr>,
) -> Result<T, DbErr> {
    let run = |sql: &str| {
        lock(conn.0)
            .prepare_cached(sql)
            .and_then(|mut s| s.raw_execute())
            .map_err(|e| exec_err(&e))
    };
    run("SAVEPOINT batched_write")?;
    let result = write(conn);
    if result.is_err() {
        run("ROLLBACK TO batched_write")?;
    }
    run("RELEASE batched_write")?;
    result
}

impl InlineSqlite {
    /// Runs `write` on the writer connection in the next batch of writes (see the module's notes).
    pub async fn write_batched<T, F>(&self, write: F) -> Result<T, DbErr>
    where
        T: Send + 'static,
        F: FnOnce(&OnConnection<'_>) -> Result<T, DbErr> + Send + 'static,
    {
        self.check_open()?;
        let (answer, mut answered) = oneshot::channel();
        lock(&self.batch).push(Box::new(Pending {
            write: Some(write),
            result: None,
            answer,
        }));
        let gate = tokio::select! {
            biased;
            result = &mut answered => return result.unwrap_or_else(|_| Err(gone())),
            gate = self.write_gate.lock() => gate,
        };
        let batch = std::mem::take(&mut *lock(&self.batch));
        if !batch.is_empty() {
            self.run_batch(batch);
        }
        drop(gate);
        let_the_next_writer_in().await;
        // Ours was in that batch or an earlier one.
        answered.await.unwrap_or_else(|_| Err(gone()))
    }

    /// Runs `batch` in one transaction and answers each write. The caller holds the write gate, so
    /// nothing else uses the writer connection meanwhile.
    fn run_batch(&self, mut batch: Vec<Box<dyn BatchedWrite>>) {
        let writer = OnConnection(&self.writer);
        let begun = lock(&self.writer).execute_batch("BEGIN IMMEDIATE");
        let committed = begun.map_err(|e| exec_err(&e)).and_then(|()| {
            for write in &mut batch {
                write.run(&writer);
            }
            commit(&lock(&self.writer))
        });
        if committed.is_ok() {
            self.committed.committed();
        }
        for write in batch {
            write.answer(committed.as_ref().map(|_| ()));
        }
    }
}

/// The answer of a write whose batch was dropped unrun (the database closed under it).
fn gone() -> DbErr {
    DbErr::Custom("the database closed before the write ran".into())
}

/// Runs `work`, whose awaits are all on an [`OnConnection`] and so never wait, to its end.
pub(crate) fn run_to_end<T>(work: impl Future<Output = Result<T, DbErr>>) -> Result<T, DbErr> {
    match pin!(work).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(result) => result,
        Poll::Pending => Err(DbErr::Custom(
            "a batched write waited for something besides its connection".into(),
        )),
    }
}
