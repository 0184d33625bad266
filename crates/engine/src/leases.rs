//! Job leases for several nodes sharing one PostgreSQL database (harmless
//! on SQLite): a job runs only on the node holding its lease. Leases are
//! judged against the **wall clock**: sandbox time jumps days at a time and
//! would expire every lease at once.
//!
//! A lease is a courtesy that saves duplicate work; correctness does not
//! rest on it. Every step the jobs take is also conditional on the state
//! they read (see `inflow_store::repo::ach_work`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use inflow_store::{Store, StoreError};

/// The cutoff job (selecting entries and creating a file).
pub const CUTOFF_LEASE: &str = "ach.cutoff";
/// The settlement job.
pub const SETTLEMENT_LEASE: &str = "ach.settlement";
/// The scheduler tick (runs release, cutoffs, file writing and settlement).
pub const SCHEDULER_LEASE: &str = "ach.scheduler";

/// A holder name unique to this call on this node: two calls on one node
/// are as distinct as two nodes.
pub fn new_holder() -> String {
    format!(
        "{}:{}:{}",
        hostname(),
        std::process::id(),
        inflow_core::ids::new_id_body(Utc::now())
    )
}

fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".into())
}

/// Take lease `name` for `holder` for `ttl` from `now`, if it is free,
/// expired, or already `holder`'s (then it is extended). `true` if taken.
pub async fn try_acquire_lease(
    store: &Store,
    name: &str,
    holder: &str,
    ttl: Duration,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
    let expires_at = now
        .checked_add_signed(ttl)
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    let (name, holder) = (name.to_owned(), holder.to_owned());
    store
        .write(move |tx| {
            Box::pin(async move { tx.try_acquire_lease(&name, &holder, expires_at, now).await })
        })
        .await
}

/// Give lease `name` back if `holder` still has it.
pub async fn release_lease(store: &Store, name: &str, holder: &str) -> Result<bool, StoreError> {
    let (name, holder) = (name.to_owned(), holder.to_owned());
    store
        .write(move |tx| Box::pin(async move { tx.release_lease(&name, &holder).await }))
        .await
}

/// [`try_acquire_lease`] against the wall clock, retrying every 50 ms for up
/// to `wait`. `true` if taken.
pub async fn acquire_lease_waiting(
    store: &Store,
    name: &str,
    holder: &str,
    ttl: Duration,
    wait: Duration,
) -> Result<bool, StoreError> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        if try_acquire_lease(store, name, holder, ttl, Utc::now()).await? {
            return Ok(true);
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// How long a job's lease lasts; a job finishing sooner releases it.
pub const JOB_LEASE_TTL: Duration = Duration::from_secs(300);
/// How long a job waits for another node's run of the same job.
pub const JOB_LEASE_WAIT: Duration = Duration::from_secs(60);

/// Run `work` while holding lease `name` (waiting up to `wait` for it);
/// [`crate::files::AchError::Busy`] if it stays taken. The lease is given
/// back afterwards, whatever `work` returned.
pub(crate) async fn with_lease<T, F, Fut>(
    store: &Store,
    name: &str,
    wait: Duration,
    work: F,
) -> Result<T, crate::files::AchError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<T, crate::files::AchError>>,
{
    let holder = new_holder();
    if !acquire_lease_waiting(store, name, &holder, JOB_LEASE_TTL, wait).await? {
        return Err(crate::files::AchError::Busy(name.to_owned()));
    }
    let result = work().await;
    if let Err(e) = release_lease(store, name, &holder).await {
        tracing::warn!(lease = name, error = %e, "lease not released; it will expire");
    }
    result
}
