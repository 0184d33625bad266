//! The scheduler tick: everything that became due between two instants, in
//! time order. The server's background loop calls [`tick`] every few
//! seconds; `POST /v1/sandbox/clock/advance` calls it after moving the
//! sandbox clock, so days can pass in one call.
//!
//! For each cutoff in `(from, to]` — the union of every ODFI's windows
//! (each cutoff files only the ODFIs whose windows have it, see
//! [`crate::cutoff::scheduled_cutoffs`]): release what is due that day, run the
//! cutoff at its instant, and record the instant as `scheduler.last_tick`
//! (`settings` table) — all three in **one** transaction, so a cutoff runs
//! exactly once however many nodes tick and whenever one crashes. Then the
//! files are written and handed to the delivery job (uploaded to their ODFI,
//! their collections `batched → submitted`; see [`crate::delivery`]), and
//! finally release and settlement run as of `to`.
//!
//! Ticks never go back: a tick starts after `max(from, last_tick)`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use inflow_core::calendar::{local_date, CutoffKind};
use inflow_core::crypto::Vault;
use inflow_store::{Store, StoreError, Tx};

use crate::config::AchConfig;
use crate::cutoff::{
    cutoff_in_tx, scheduled_cutoffs, CutoffSummary, CutoffWork, FileSummary, OdfiScope,
    ScopedCutoff,
};
use crate::delivery::upload::{deliver_due_waiting, DeliveryReport};
use crate::delivery::Delivery;
use crate::files::{write_pending_files, AchError, WrittenFile};
use crate::leases::{
    try_acquire_lease, with_lease, CUTOFF_LEASE, JOB_LEASE_TTL, JOB_LEASE_WAIT, SCHEDULER_LEASE,
};
use crate::release::{release_due, release_in_tx};
use crate::settlement::{settle, SettlementReport};

/// The `settings` key holding the last instant the scheduler processed.
pub const LAST_TICK_SETTING: &str = "scheduler.last_tick";

/// One cutoff a tick ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CutoffRun {
    pub at: DateTime<Utc>,
    pub kind: CutoffKind,
    /// The ODFIs it filed for (`None`: every ODFI; without `[[odfi]]`
    /// profiles there is one).
    pub odfis: Option<Vec<String>>,
    /// Collections released (scheduled → pending) just before it.
    pub released: usize,
    /// What it filed, failed and deferred.
    pub summary: CutoffSummary,
}

/// What a tick did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TickReport {
    /// The interval actually processed: `(max(from, last_tick), to]`.
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub cutoffs: Vec<CutoffRun>,
    /// Collections released as of `to` (after the cutoffs).
    pub released: usize,
    pub files_written: Vec<WrittenFile>,
    /// What the delivery job did right after the cutoffs.
    pub delivery: DeliveryReport,
    pub settlement: SettlementReport,
}

impl TickReport {
    /// The files the tick's cutoffs created.
    pub fn files(&self) -> impl Iterator<Item = &FileSummary> {
        self.cutoffs.iter().flat_map(|c| c.summary.files.iter())
    }
}

fn format_instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

async fn read_last_tick(tx: &mut Tx) -> Result<Option<DateTime<Utc>>, StoreError> {
    match tx.get_setting(LAST_TICK_SETTING).await? {
        None => Ok(None),
        Some(s) => DateTime::parse_from_rfc3339(&s)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| StoreError::Corrupt(format!("{LAST_TICK_SETTING} = {s:?}"))),
    }
}

/// The last instant the scheduler processed, if it ever ran. The server
/// starts its loop from here (or from now), so cutoffs missed while every
/// node was down run on start-up.
pub async fn last_tick(store: &Store) -> Result<Option<DateTime<Utc>>, StoreError> {
    let mut tx = store.read().await?;
    let t = read_last_tick(&mut tx).await?;
    tx.rollback().await?;
    Ok(t)
}

/// Run everything due in `(from, to]` (see the module documentation),
/// waiting up to a minute for a tick running on another node.
pub async fn tick(
    store: &Store,
    vault: &Vault,
    cfg: &AchConfig,
    delivery: &Delivery,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<TickReport, AchError> {
    tick_with_wait(store, vault, cfg, delivery, from, to, JOB_LEASE_WAIT).await
}

/// [`tick`], waiting at most `wait` for the scheduler lease
/// ([`AchError::Busy`] if another node keeps it).
pub async fn tick_with_wait(
    store: &Store,
    vault: &Vault,
    cfg: &AchConfig,
    delivery: &Delivery,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    wait: Duration,
) -> Result<TickReport, AchError> {
    with_lease(store, SCHEDULER_LEASE, wait, || {
        tick_unleased(store, vault, cfg, delivery, from, to)
    })
    .await
}

/// [`tick`] for a caller that already holds the scheduler lease as
/// `holder` (a sandbox clock advance holds it across all its steps): the
/// lease is renewed, not released. [`AchError::Busy`] if it is no longer
/// `holder`'s.
pub async fn tick_holding(
    store: &Store,
    vault: &Vault,
    cfg: &AchConfig,
    delivery: &Delivery,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    holder: &str,
) -> Result<TickReport, AchError> {
    let renewed =
        try_acquire_lease(store, SCHEDULER_LEASE, holder, JOB_LEASE_TTL, Utc::now()).await?;
    if !renewed {
        return Err(AchError::Busy(SCHEDULER_LEASE.into()));
    }
    tick_unleased(store, vault, cfg, delivery, from, to).await
}

/// How long the tick waits for the delivery lease before leaving the
/// upload to the node that holds it.
const DELIVERY_LEASE_WAIT: Duration = Duration::from_secs(2);

async fn tick_unleased(
    store: &Store,
    vault: &Vault,
    cfg: &AchConfig,
    delivery: &Delivery,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<TickReport, AchError> {
    // Files a crash (or an unwritable outbound folder) left `created`
    // first, so bytes never lag further. A write that fails is logged and
    // counted and retried on the next tick; it stops nothing else: the
    // cutoffs and settlement below do not depend on the bytes being on disk.
    let mut files_written = match write_pending_files(store, vault, cfg).await {
        Ok(w) => w,
        Err(e @ (AchError::Io { .. } | AchError::Store(_))) => {
            tracing::error!(error = %e, "outbound files not written; retrying on the next tick");
            Vec::new()
        }
        Err(e) => return Err(e),
    };

    let start = match last_tick(store).await? {
        Some(last) if last > from => last,
        _ => from,
    };
    let mut runs = Vec::new();
    let mut uploaded = DeliveryReport::default();
    for group in scheduled_cutoffs(cfg, start, to) {
        let at = group[0].cutoff.at;
        let started = std::time::Instant::now();
        let done = with_lease(store, CUTOFF_LEASE, JOB_LEASE_WAIT, || {
            run_scheduled_cutoffs(store, vault, cfg, group.clone())
        })
        .await;
        if let Err(e) = &done {
            if !matches!(e, AchError::Busy(_)) {
                crate::metrics::cutoff("scheduled", started.elapsed(), false, &[]);
            }
        }
        if let Some(done) = done? {
            for (run, work) in done {
                crate::metrics::cutoff(
                    "scheduled",
                    started.elapsed(),
                    true,
                    &run.summary.file_entries(),
                );
                // The cutoff committed: a file that cannot be written now
                // stays `created` and is written by a later tick.
                match work.write(store, cfg).await {
                    Ok(w) => files_written.extend(w),
                    Err(e) => tracing::error!(
                        error = %e,
                        "a cutoff's files not written; retrying on the next tick"
                    ),
                }
                runs.push(run);
            }
            // Upload at once, so the files' collections are `submitted`
            // before settlement looks at them.
            match deliver_due_waiting(store, vault, delivery, at, DELIVERY_LEASE_WAIT).await {
                Ok(r) => {
                    uploaded.uploaded.extend(r.uploaded);
                    uploaded.retrying.extend(r.retrying);
                    uploaded.failed.extend(r.failed);
                }
                Err(AchError::Busy(_)) => {}
                Err(e) => return Err(e),
            }
        }
    }

    let released = release_due(store, cfg, to).await?;
    let settlement = settle(store, vault, cfg, to).await?;
    advance_last_tick(store, to).await?;
    Ok(TickReport {
        from: start,
        to,
        cutoffs: runs,
        released,
        files_written,
        delivery: uploaded,
        settlement,
    })
}

/// Release, the cutoffs of one instant (several ODFIs' windows may fall
/// at it) and the marker in one transaction; `None` if another tick
/// already ran them.
async fn run_scheduled_cutoffs(
    store: &Store,
    vault: &Vault,
    cfg: &AchConfig,
    group: Vec<ScopedCutoff>,
) -> Result<Option<Vec<(CutoffRun, CutoffWork)>>, AchError> {
    let (vault, cfg) = (vault.clone(), cfg.clone());
    let cutoff = group[0].cutoff;
    store
        .write(move |tx| {
            Box::pin(async move {
                tx.lock_job(SCHEDULER_LEASE).await?;
                if read_last_tick(tx)
                    .await?
                    .is_some_and(|last| last >= cutoff.at)
                {
                    return Ok(None);
                }
                let today = local_date(cutoff.at);
                let mut released = 0;
                loop {
                    let n = release_in_tx(tx, today, cutoff.at, 500).await?;
                    released += n;
                    if n < 500 {
                        break;
                    }
                }
                let mut done = Vec::with_capacity(group.len());
                for s in &group {
                    let work =
                        cutoff_in_tx(tx, &vault, &cfg, &s.cutoff, &s.odfis, s.cutoff.at).await?;
                    let run = CutoffRun {
                        at: s.cutoff.at,
                        kind: s.cutoff.kind,
                        odfis: match &s.odfis {
                            OdfiScope::All => None,
                            OdfiScope::Only(ids) => Some(ids.clone()),
                        },
                        // Counted once, on the instant's first cutoff.
                        released: std::mem::take(&mut released),
                        summary: work.summary.clone(),
                    };
                    done.push((run, work));
                }
                tx.put_setting(LAST_TICK_SETTING, &format_instant(cutoff.at))
                    .await?;
                Ok(Some(done))
            })
        })
        .await
}

/// Set `scheduler.last_tick` to `to` unless it is already later.
async fn advance_last_tick(store: &Store, to: DateTime<Utc>) -> Result<(), StoreError> {
    store
        .write(move |tx| {
            Box::pin(async move {
                tx.lock_job(SCHEDULER_LEASE).await?;
                if read_last_tick(tx).await?.is_some_and(|last| last >= to) {
                    return Ok(());
                }
                tx.put_setting(LAST_TICK_SETTING, &format_instant(to)).await
            })
        })
        .await
}
