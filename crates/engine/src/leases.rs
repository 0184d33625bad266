//! Job leases for several nodes sharing one PostgreSQL database (harmless
//! on SQLite): a job runs only on the node holding its lease. Leases are
//! judged against the **wall clock**: sandbox time jumps days at a time and
//! would expire every lease at once.
//!
//! A lease is a courtesy that saves duplicate work; correctness does not
//! rest on it. Every step the jobs take is also conditional on the state
//! they read (see `inflow_store::repo::ach_work`).
//!
//! A process killed while holding a lease cannot give it back. When the
//! holder was a process of this host that no longer runs (see
//! [`held_by_a_dead_process`]), a node waiting for the lease takes it over
//! at once instead of waiting for it to expire: a node restarted after a
//! crash can run its cutoff straight away.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use inflow_store::{Store, StoreError};

/// The cutoff job (selecting entries and creating a file).
pub const CUTOFF_LEASE: &str = "ach.cutoff";
/// The settlement job.
pub const SETTLEMENT_LEASE: &str = "ach.settlement";
/// The scheduler tick (runs release, cutoffs, file writing and settlement).
pub const SCHEDULER_LEASE: &str = "ach.scheduler";
/// The lease of the delivery job (uploads to the ODFI).
pub const DELIVERY_LEASE: &str = "ach.delivery";
/// The lease of the inbound pickup job (downloads from the ODFI).
pub const PICKUP_LEASE: &str = "ach.pickup";

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

/// The holders (from [`new_holder`]) this process is acquiring or holds.
static HELD: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

fn held() -> std::sync::MutexGuard<'static, BTreeSet<String>> {
    HELD.lock().unwrap_or_else(|e| e.into_inner())
}

/// Note that this process holds (`true`) or no longer holds `holder`, a
/// name from [`new_holder`] it uses for something other than a lease (an
/// inbound file claim), so [`held_by_a_dead_process`] knows it is alive.
pub(crate) fn mark_held(holder: &str, holds: bool) {
    if holds {
        held().insert(holder.to_owned());
    } else {
        held().remove(holder);
    }
}

/// Is `holder` (made by [`new_holder`]) a process of this host that is
/// gone? No when in doubt: another host's holder, a name of another form,
/// a process that may still run. A holder with this process's own pid that
/// this process does not hold was a previous process with the same pid (a
/// restarted container's PID 1).
pub fn held_by_a_dead_process(holder: &str) -> bool {
    let mut parts = holder.rsplitn(3, ':');
    let (Some(_call), Some(pid), Some(host)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    if host != hostname() {
        return false;
    }
    if pid == std::process::id() {
        return !held().contains(holder);
    }
    !process_running(pid)
}

/// Whether process `pid` runs (a zombie does not); `true` when unknown.
#[cfg(target_os = "linux")]
pub(crate) fn process_running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // `pid (comm) S …`: the state follows the last parenthesis.
        Ok(stat) => !matches!(
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.trim_start().chars().next()),
            Some('Z' | 'X')
        ),
        Err(e) => e.kind() != std::io::ErrorKind::NotFound,
    }
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn process_running(_pid: u32) -> bool {
    true
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
    let (name, holder_owned) = (name.to_owned(), holder.to_owned());
    let released = store
        .write(move |tx| Box::pin(async move { tx.release_lease(&name, &holder_owned).await }))
        .await;
    held().remove(holder);
    released
}

/// [`try_acquire_lease`] against the wall clock, retrying every 50 ms for up
/// to `wait`; a lease [`held_by_a_dead_process`] is taken over at once.
/// `true` if taken.
pub async fn acquire_lease_waiting(
    store: &Store,
    name: &str,
    holder: &str,
    ttl: Duration,
    wait: Duration,
) -> Result<bool, StoreError> {
    held().insert(holder.to_owned());
    let taken = acquire_waiting(store, name, holder, ttl, wait).await;
    if !matches!(taken, Ok(true)) {
        held().remove(holder);
    }
    taken
}

async fn acquire_waiting(
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
        let current = {
            let mut tx = store.read().await?;
            let current = tx.lease_holder(name).await?;
            tx.rollback().await?;
            current
        };
        if let Some((stale, _)) = current.filter(|(h, _)| h != holder) {
            if held_by_a_dead_process(&stale) {
                tracing::warn!(lease = name, holder = %stale, "the lease's holder process is gone; taking the lease over");
                // Conditional on the holder: if another node got there
                // first, the retry sees its (live) lease.
                release_lease(store, name, &stale).await?;
                continue;
            }
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
/// How long an API request waits for a job lease another node holds before
/// it is answered `409 job_busy` with `Retry-After` (having changed nothing).
pub const API_LEASE_WAIT: Duration = Duration::from_secs(3);

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_gone_processes_of_this_host_count_as_dead() {
        let host = hostname();
        assert!(!held_by_a_dead_process("a"));
        assert!(!held_by_a_dead_process(&format!("{host}:x:1")));
        assert!(!held_by_a_dead_process(&format!(
            "elsewhere-{host}:999999999:1"
        )));
        // This process's pid, not held by it: a previous process with that pid.
        let mine = new_holder();
        assert!(held_by_a_dead_process(&mine));
        held().insert(mine.clone());
        assert!(!held_by_a_dead_process(&mine));
        held().remove(&mine);
        #[cfg(target_os = "linux")]
        {
            let parent = std::os::unix::process::parent_id();
            assert!(!held_by_a_dead_process(&format!("{host}:{parent}:1")));
            let mut child = std::process::Command::new("true").spawn().unwrap();
            let gone = child.id();
            child.wait().unwrap();
            assert!(held_by_a_dead_process(&format!("{host}:{gone}:1")));
        }
    }
}
