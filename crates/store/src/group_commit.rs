//! Group commit for SQLite.
//!
//! SQLite has one writer at a time and, with `synchronous=FULL`, every commit
//! waits for an fsync. Left to themselves, concurrent writers also wait for
//! the lock by sleeping and polling. Instead, all writes go through one task
//! that owns the write connection: it takes every job that is waiting, runs
//! them one after another inside a single transaction — each in its own
//! savepoint, so a job that fails is undone alone — commits once, and only
//! then tells each job's caller how it went. Every response still follows a
//! durable commit; the fsync is shared by the whole batch.

use futures_util::FutureExt;
use sqlx::SqlitePool;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use tokio::sync::mpsc;

use crate::{StoreError, Tx};

/// Most jobs committed together.
const MAX_BATCH: usize = 128;

/// What a job tells the writer: whether to keep its changes, and how to
/// report to its caller once the commit's fate is known.
pub(crate) struct JobOutcome {
    pub keep: bool,
    pub deliver: Box<dyn FnOnce(Result<(), String>) + Send>,
}

pub(crate) type JobFuture<'t> = Pin<Box<dyn Future<Output = JobOutcome> + Send + 't>>;
pub(crate) type Job = Box<dyn for<'t> FnOnce(&'t mut Tx) -> JobFuture<'t> + Send>;

#[derive(Debug, Clone)]
pub(crate) struct GroupCommit {
    jobs: mpsc::UnboundedSender<Job>,
}

impl GroupCommit {
    pub fn start(pool: SqlitePool) -> Self {
        let (jobs, rx) = mpsc::unbounded_channel();
        tokio::spawn(run_writer(pool, rx));
        Self { jobs }
    }

    pub fn submit(&self, job: Job) -> Result<(), StoreError> {
        self.jobs.send(job).map_err(|_| StoreError::WriterStopped)
    }
}

async fn exec(tx: &mut Tx, sql: &'static str) -> Result<(), sqlx::Error> {
    if let Tx::Sqlite(t, ..) = tx {
        sqlx::query(sql).execute(&mut **t).await?;
    }
    Ok(())
}

async fn next_savepoint(tx: &mut Tx) -> Result<(), sqlx::Error> {
    if let Tx::Sqlite(t, ..) = tx {
        sqlx::raw_sql("RELEASE inflow_job; SAVEPOINT inflow_job")
            .execute(&mut **t)
            .await?;
    }
    Ok(())
}

async fn run_writer(pool: SqlitePool, mut rx: mpsc::UnboundedReceiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let started = std::time::Instant::now();
        let began = pool.begin_with("BEGIN IMMEDIATE").await;
        crate::observe::acquired(
            crate::observe::PoolKind::Write,
            started.elapsed(),
            began.is_ok(),
        );
        let mut tx = match began {
            Ok(t) => Tx::Sqlite(t, Vec::new()),
            Err(e) => {
                tracing::error!(error = %e, "cannot begin a write transaction");
                // Dropping the jobs drops their reply channels: callers get an error.
                continue;
            }
        };
        let mut deliveries = Vec::with_capacity(batch.len());
        // Each job runs in the savepoint `inflow_job`. Moving from one job's
        // savepoint to the next is a single round trip to the connection's
        // thread; COMMIT releases the last one.
        let mut in_savepoint = exec(&mut tx, "SAVEPOINT inflow_job").await.is_ok();
        let jobs = batch.len();
        for (i, job) in batch.into_iter().enumerate() {
            if !in_savepoint {
                tracing::error!("no savepoint for a write job; refusing it");
                continue;
            }
            let observed_before = tx.observed().len();
            match AssertUnwindSafe(job(&mut tx)).catch_unwind().await {
                Ok(outcome) => {
                    if !outcome.keep {
                        tx.observed().truncate(observed_before);
                        if let Err(e) = exec(&mut tx, "ROLLBACK TO inflow_job").await {
                            tracing::error!(error = %e, "could not undo a failed write job");
                        }
                    }
                    deliveries.push(outcome.deliver);
                }
                Err(_) => {
                    tracing::error!("a write job panicked; its changes are rolled back");
                    tx.observed().truncate(observed_before);
                    let _ = exec(&mut tx, "ROLLBACK TO inflow_job").await;
                }
            }
            if i + 1 < jobs {
                in_savepoint = next_savepoint(&mut tx).await.is_ok();
            }
        }
        let committed = tx.commit().await.map_err(|e| e.to_string());
        if let Err(e) = &committed {
            tracing::error!(error = %e, jobs = deliveries.len(), "group commit failed");
        }
        for deliver in deliveries {
            deliver(committed.clone());
        }
    }
}
