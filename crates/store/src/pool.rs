//! Connecting, migrating and opening transactions.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};
use std::str::FromStr;
use std::time::Duration;

use crate::group_commit::{GroupCommit, Job, JobFuture, JobOutcome};
use crate::observe::{CommittedEvent, PoolKind};
use crate::StoreError;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::Notify;

/// Which database this store runs on.
#[derive(Debug, Clone)]
pub(crate) enum Backend {
    /// One write connection (SQLite has one writer at a time; queueing in
    /// the pool beats polling on the file lock) and a pool of readers.
    Sqlite {
        writer: SqlitePool,
        readers: SqlitePool,
        group: GroupCommit,
    },
    Postgres(PgPool),
}

/// A handle to the database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) backend: Backend,
    /// Woken after every [`Store::write`] commits (see [`Store::commit_signal`]).
    commits: Arc<Notify>,
}

/// A unit of work for [`Store::write`]: runs inside a transaction it must not commit.
pub type WriteFuture<'t, T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send + 't>>;

/// A point inside a transaction to undo back to ([`Tx::savepoint`]).
#[must_use = "undo to it or release it"]
pub struct Savepoint {
    /// How many events were observed when it was taken.
    observed: usize,
}

/// An open transaction. Dropping it without [`Tx::commit`] rolls it back.
///
/// The second field holds the events written so far, reported to the
/// observer (`observe`) once the transaction commits.
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>, Vec<CommittedEvent>),
    Postgres(Transaction<'static, Postgres>, Vec<CommittedEvent>),
}

impl Store {
    /// Connect to `sqlite://path/to/file.db` or `postgres://…`.
    ///
    /// SQLite is opened with WAL, `synchronous=FULL` (every commit is durable
    /// before it returns), foreign keys on and a busy timeout, and the file is
    /// created if missing — readable by its owner only (SQLite gives its
    /// `-wal` and `-shm` files the database file's permissions).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let backend = if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)
                .map_err(|_| StoreError::UnsupportedUrl(url.to_owned()))?;
            create_private_file(opts.get_filename())?;
            let opts = opts
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(30));
            let writer = SqlitePoolOptions::new()
                .max_connections(1)
                .acquire_timeout(Duration::from_secs(60))
                .connect_with(opts.clone())
                .await?;
            let readers = SqlitePoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(opts)
                .await?;
            let group = GroupCommit::start(writer.clone());
            Backend::Sqlite {
                writer,
                readers,
                group,
            }
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let opts = PgConnectOptions::from_str(url)
                .map_err(|_| StoreError::UnsupportedUrl(url.to_owned()))?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(opts)
                .await?;
            Backend::Postgres(pool)
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        };
        Ok(Self {
            backend,
            commits: Arc::new(Notify::new()),
        })
    }

    /// Notified (one permit, coalesced) after each [`Store::write`] commits,
    /// so a background worker — the webhook dispatcher — can look for new
    /// work at once instead of waiting for its next poll. A hint only:
    /// writes made through [`Store::begin`] do not notify.
    pub fn commit_signal(&self) -> &Arc<Notify> {
        &self.commits
    }

    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite { .. } => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Apply the embedded migrations for this backend.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sqlite { writer, .. } => {
                sqlx::migrate!("./migrations/sqlite").run(writer).await?
            }
            Backend::Postgres(p) => sqlx::migrate!("./migrations/postgres").run(p).await?,
        }
        Ok(())
    }

    /// A transaction that will write. On SQLite it takes the write lock up
    /// front (`BEGIN IMMEDIATE`) so concurrent writers queue on the busy
    /// timeout instead of failing when a read lock is upgraded.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        let started = std::time::Instant::now();
        let tx = match &self.backend {
            Backend::Sqlite { writer, .. } => writer
                .begin_with("BEGIN IMMEDIATE")
                .await
                .map(|t| Tx::Sqlite(t, Vec::new())),
            Backend::Postgres(p) => p.begin().await.map(|t| Tx::Postgres(t, Vec::new())),
        };
        crate::observe::acquired(PoolKind::Write, started.elapsed(), tx.is_ok());
        Ok(tx?)
    }

    /// Run `work` in a write transaction and commit it; the result is
    /// returned only after the commit is durable. An `Err` from `work` rolls
    /// back everything it did.
    ///
    /// On SQLite, concurrent calls are committed together (see
    /// `group_commit`): `work` must only touch the database, and must not
    /// wait on anything else. On PostgreSQL each call is its own transaction.
    pub async fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: for<'t> FnOnce(&'t mut Tx) -> WriteFuture<'t, T, E> + Send + 'static,
    {
        match &self.backend {
            Backend::Postgres(_) => {
                let mut tx = self.begin().await?;
                let value = work(&mut tx).await?;
                tx.commit().await?;
                self.commits.notify_one();
                Ok(value)
            }
            Backend::Sqlite { group, .. } => {
                let (reply, answer) = tokio::sync::oneshot::channel::<Result<T, E>>();
                let job: Job = Box::new(move |tx: &mut Tx| -> JobFuture<'_> {
                    Box::pin(async move {
                        let result = work(tx).await;
                        JobOutcome {
                            keep: result.is_ok(),
                            deliver: Box::new(move |committed: Result<(), String>| {
                                let _ = reply.send(match (result, committed) {
                                    (Ok(v), Ok(())) => Ok(v),
                                    (Ok(_), Err(e)) => Err(E::from(StoreError::CommitFailed(e))),
                                    (Err(e), _) => Err(e),
                                });
                            }),
                        }
                    })
                });
                group.submit(job).map_err(E::from)?;
                let value = answer
                    .await
                    .map_err(|_| E::from(StoreError::WriterStopped))??;
                self.commits.notify_one();
                Ok(value)
            }
        }
    }

    /// Make data that was deleted or overwritten unrecoverable from the
    /// database files, after secrets stored in clear were sealed. SQLite:
    /// checkpoint and truncate the write-ahead log, rebuild the file
    /// (`VACUUM`, which drops free pages and the free space in pages) and
    /// truncate the log again. PostgreSQL keeps old row versions until its
    /// own vacuum reuses the space; run `VACUUM FULL` there (see
    /// docs/architecture.md).
    pub async fn discard_overwritten_data(&self) -> Result<(), StoreError> {
        if let Backend::Sqlite { writer, .. } = &self.backend {
            for sql in [
                "PRAGMA wal_checkpoint(TRUNCATE)",
                "VACUUM",
                "PRAGMA wal_checkpoint(TRUNCATE)",
            ] {
                sqlx::query(sql).execute(writer).await?;
            }
        }
        Ok(())
    }

    /// A transaction that only reads.
    pub async fn read(&self) -> Result<Tx, StoreError> {
        let started = std::time::Instant::now();
        let tx = match &self.backend {
            Backend::Sqlite { readers, .. } => {
                readers.begin().await.map(|t| Tx::Sqlite(t, Vec::new()))
            }
            Backend::Postgres(p) => p.begin().await.map(|t| Tx::Postgres(t, Vec::new())),
        };
        crate::observe::acquired(PoolKind::Read, started.elapsed(), tx.is_ok());
        Ok(tx?)
    }

    /// Connections open and idle in each pool: `(pool, open, idle)`.
    pub fn pool_sizes(&self) -> Vec<(PoolKind, u32, usize)> {
        match &self.backend {
            Backend::Sqlite {
                writer, readers, ..
            } => vec![
                (PoolKind::Write, writer.size(), writer.num_idle()),
                (PoolKind::Read, readers.size(), readers.num_idle()),
            ],
            Backend::Postgres(p) => vec![(PoolKind::Write, p.size(), p.num_idle())],
        }
    }

    /// Is the database answering?
    pub async fn ping(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sqlite { readers, .. } => {
                sqlx::query("SELECT 1").execute(readers).await?;
            }
            Backend::Postgres(p) => {
                sqlx::query("SELECT 1").execute(p).await?;
            }
        };
        Ok(())
    }

    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite {
                writer, readers, ..
            } => {
                writer.close().await;
                readers.close().await;
            }
            Backend::Postgres(p) => p.close().await,
        }
    }
}

/// Create an SQLite database file that does not exist yet with mode 0600,
/// so that SQLite (which creates files 0644 and gives the `-wal`/`-shm`
/// files the database's mode) never makes a world-readable copy. In-memory
/// and URI names are left to SQLite.
fn create_private_file(path: &std::path::Path) -> Result<(), StoreError> {
    let name = path.to_string_lossy();
    if name.is_empty() || name.starts_with("file:") || name == ":memory:" || path.exists() {
        return Ok(());
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    match opts.open(path) {
        Ok(_) => Ok(()),
        // Another process created it meanwhile; or the folder is missing,
        // which SQLite reports better.
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::AlreadyExists | std::io::ErrorKind::NotFound
            ) =>
        {
            Ok(())
        }
        Err(e) => Err(StoreError::Database(sqlx::Error::Io(e))),
    }
}

impl Tx {
    pub async fn commit(self) -> Result<(), StoreError> {
        let events = match self {
            Tx::Sqlite(t, events) => {
                t.commit().await?;
                events
            }
            Tx::Postgres(t, events) => {
                t.commit().await?;
                events
            }
        };
        crate::observe::committed(&events);
        Ok(())
    }

    /// Events written so far in this transaction (see `observe`).
    pub(crate) fn observed(&mut self) -> &mut Vec<CommittedEvent> {
        match self {
            Tx::Sqlite(_, events) | Tx::Postgres(_, events) => events,
        }
    }

    /// Mark a point in this transaction that [`Tx::rollback_to`] can undo
    /// back to (an SQL savepoint), for work that may have to be redone
    /// differently in the same transaction. Savepoints nest; undo or
    /// release the latest first.
    pub async fn savepoint(&mut self) -> Result<Savepoint, StoreError> {
        self.exec_raw("SAVEPOINT inflow_step").await?;
        Ok(Savepoint {
            observed: self.observed().len(),
        })
    }

    /// Undo everything since `sp` (its events are not reported either);
    /// the transaction goes on.
    pub async fn rollback_to(&mut self, sp: Savepoint) -> Result<(), StoreError> {
        self.exec_raw("ROLLBACK TO SAVEPOINT inflow_step; RELEASE SAVEPOINT inflow_step")
            .await?;
        self.observed().truncate(sp.observed);
        Ok(())
    }

    /// Keep what was done since `sp` (it commits or rolls back with the
    /// transaction).
    pub async fn release(&mut self, sp: Savepoint) -> Result<(), StoreError> {
        let Savepoint { .. } = sp;
        self.exec_raw("RELEASE SAVEPOINT inflow_step").await
    }

    async fn exec_raw(&mut self, sql: &'static str) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(t, ..) => sqlx::raw_sql(sql).execute(&mut **t).await.map(|_| ())?,
            Tx::Postgres(t, ..) => sqlx::raw_sql(sql).execute(&mut **t).await.map(|_| ())?,
        }
        Ok(())
    }

    pub async fn rollback(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(t, ..) => t.rollback().await?,
            Tx::Postgres(t, ..) => t.rollback().await?,
        }
        Ok(())
    }
}
