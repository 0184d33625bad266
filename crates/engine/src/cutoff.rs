//! The cutoff: in one transaction, take the `pending` collections due at a
//! cutoff, give each a trace number, record the outbound files and move the
//! collections to `submitted`; then write the files' bytes.
//!
//! - A same-day window of day D takes same-day entries effective D and
//!   released by D.
//! - The standard cutoff of day D takes every pending entry released by D.
//!   An entry whose effective date is D or earlier (a same-day entry that
//!   missed every window) is moved to the next banking day first, with the
//!   reason in its history and a `collection.updated` event.
//!
//! Entries are grouped into batches by company name, company id, SEC code,
//! entry description and effective date (service class 225), ordered by
//! that key and then collection id, and planned into batches and files
//! ([`packing`], `nacha::plan`): a batch splits where its entry/addenda
//! count or a total would overflow the batch control, and a file where the
//! file control would overflow (block count, batch count, totals) or where
//! it would pass `max_entries_per_file`. So one cutoff may write several
//! files, each with the next free File ID Modifier of its creation date.
//! Trace numbers are the ODFI's 8-digit prefix and a 7-digit sequence from
//! the persistent counter `trace.<odfi8>`, reserved in one block per file,
//! so they ascend within every batch and are unique across files (until the
//! sequence wraps after 9,999,999 entries).
//!
//! With several ODFIs (`AchConfig::odfis`) the due entries are split by
//! their effective ODFI — the destination account's, else the customer's,
//! else the default ([`odfi`]) — and a cutoff files only the ODFIs whose
//! cutoff windows have it ([`windows`], [`OdfiScope`]); each part is planned and filed
//! with that ODFI's header values and file rules, in profile order, in the
//! same transaction; File ID Modifiers are shared by the creation date
//! (two ODFIs' files never have the same modifier, so default names never
//! collide in the outbound folder), trace counters by ODFI routing number.
//!
//! One entry never stops the others ([`poison`]): a due row that cannot be
//! read, or an entry that cannot be encoded or fails the strict validator,
//! moves to `failed` alone (reason, `collection.failed` event, same
//! transaction) and everything else is filed. Files are built and validated
//! whole; their entries are checked one by one only when a file fails.
//!
//! Memory grows by a few hundred bytes per due entry, never by whole
//! collections: the due rows are read a page at a time ([`scan`]) and kept
//! as small records (id, batch key, amounts); each file's collections are
//! read back, moved (status, ledger postings, events) and reduced to the
//! fields of their entries a thousand at a time ([`commit`]); what a chunk
//! rendered is dropped before the next.
//!
//! Before anything is built, every due entry is checked against the live
//! status of its customer, destination account, payment method and
//! schedule, one query per page of due rows (`crate::eligibility::screen`):
//! an ineligible one is held or failed, with its event, and left out of
//! the file.
//!
//! After the debit files, the pending refunds and reversals are filed in
//! credit files of their own ([`crate::credits::filing`]).
//!
//! Two cutoffs at once (two nodes) cannot file one collection twice: the
//! job holds the `ach.cutoff` lease, its transaction takes a job lock
//! (PostgreSQL advisory lock), and each collection moves only if it is still
//! `pending` (0 rows updated: another run took it, and it is left out).

mod commit;
mod odfi;
mod packing;
mod poison;
mod scan;
mod spool;
mod windows;

pub use windows::{manual_cutoffs, scheduled_cutoffs, OdfiScope, ScopedCutoff};

use chrono::{DateTime, Utc};
use inflow_core::calendar::{Cutoff, CutoffKind};
use inflow_core::collection::AchCollection;
use inflow_core::crypto::Vault;
use inflow_store::repo::ach_files::AchFile;
use inflow_store::{Store, Tx};

use crate::config::AchConfig;
use crate::files::{store_file, AchError, WrittenFile};
use crate::leases::{with_lease, CUTOFF_LEASE, JOB_LEASE_WAIT};
use packing::Context;
use spool::Spooled;

/// File ID Modifiers in the order they are used within one creation date.
pub const FILE_ID_MODIFIERS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
/// The largest 7-digit trace sequence; the counter wraps back to 1 after it.
pub const MAX_TRACE_SEQUENCE: i64 = 9_999_999;

/// A file a cutoff created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSummary {
    pub file_id: String,
    pub file_name: String,
    pub cutoff_at: DateTime<Utc>,
    pub cutoff_kind: CutoffKind,
    pub batch_count: i64,
    pub entry_count: i64,
    pub total_debit: i64,
    /// The offset credits (balanced files, and companion files of offsets).
    pub total_credit: i64,
    /// The collections filed, in trace order (none in a companion file).
    pub collection_ids: Vec<String>,
    /// The trace numbers assigned, in the same order.
    pub trace_numbers: Vec<String>,
}

/// A collection a cutoff failed instead of filing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedEntry {
    pub collection_id: String,
    /// The reason recorded on the collection.
    pub reason: String,
}

/// What a cutoff did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CutoffSummary {
    /// The files created, in File ID Modifier order.
    pub files: Vec<FileSummary>,
    /// The collections failed because they cannot be filed.
    pub failed: Vec<FailedEntry>,
    /// Collections left `pending` for a later cutoff because the day's File
    /// ID Modifiers ran out (ids).
    pub deferred: Vec<String>,
}

impl CutoffSummary {
    /// The number of entries in each file created.
    pub fn file_entries(&self) -> Vec<usize> {
        self.files
            .iter()
            .map(|f| f.entry_count.max(0) as usize)
            .collect()
    }

    /// Adds what another cutoff did.
    pub fn absorb(&mut self, other: CutoffSummary) {
        self.files.extend(other.files);
        self.failed.extend(other.failed);
        self.deferred.extend(other.deferred);
    }
}

/// The name of the trace counter for an ODFI.
pub fn trace_counter_name(cfg: &AchConfig) -> String {
    format!("trace.{}", &cfg.odfi_routing.as_string()[..8])
}

/// Run `cutoff`: create its files (if any entry is due) in one transaction,
/// then write the bytes to `cfg.outbound_dir`. `now` stamps the status
/// changes and events (the scheduler passes the cutoff's instant).
///
/// Holds the `ach.cutoff` lease while selecting, waiting up to a minute
/// for another node's run; [`AchError::Busy`] if it stays taken. When
/// writing the bytes fails the file stays `created` and the error is
/// returned; [`crate::files::write_pending_files`] finishes it later.
pub async fn run_cutoff(
    store: &Store,
    vault: &Vault,
    cfg: &AchConfig,
    cutoff: &Cutoff,
    now: DateTime<Utc>,
) -> Result<CutoffSummary, AchError> {
    run_scoped_cutoff(store, vault, cfg, &ScopedCutoff::all(*cutoff), now).await
}

/// [`run_cutoff`] for the ODFIs of `scoped` only.
pub async fn run_scoped_cutoff(
    store: &Store,
    vault: &Vault,
    cfg: &AchConfig,
    scoped: &ScopedCutoff,
    now: DateTime<Utc>,
) -> Result<CutoffSummary, AchError> {
    run_scoped_cutoff_waiting(store, vault, cfg, scoped, now, JOB_LEASE_WAIT).await
}

/// [`run_scoped_cutoff`], waiting at most `wait` for the cutoff lease
/// ([`AchError::Busy`], nothing done, if another node keeps it).
pub async fn run_scoped_cutoff_waiting(
    store: &Store,
    vault: &Vault,
    cfg: &AchConfig,
    scoped: &ScopedCutoff,
    now: DateTime<Utc>,
    wait: std::time::Duration,
) -> Result<CutoffSummary, AchError> {
    let started = std::time::Instant::now();
    let work = with_lease(store, CUTOFF_LEASE, wait, || async {
        let (cfg2, vault2, scoped) = (cfg.clone(), vault.clone(), scoped.clone());
        store
            .write(move |tx| {
                Box::pin(async move {
                    cutoff_in_tx(tx, &vault2, &cfg2, &scoped.cutoff, &scoped.odfis, now).await
                })
            })
            .await
    })
    .await;
    let work = match work {
        Ok(w) => w,
        Err(AchError::Busy(lease)) => return Err(AchError::Busy(lease)),
        Err(e) => {
            crate::metrics::cutoff("manual", started.elapsed(), false, &[]);
            return Err(e);
        }
    };
    crate::metrics::cutoff(
        "manual",
        started.elapsed(),
        true,
        &work.summary.file_entries(),
    );
    let summary = work.summary.clone();
    if let Err(e) = work.write(store, cfg).await {
        return Err(AchError::FilesNotWritten {
            summary: Box::new(summary),
            source: Box::new(e),
        });
    }
    Ok(summary)
}

/// What the cutoff transaction did, with the bytes of each file it created
/// built from the rows it committed.
pub(crate) struct CutoffWork {
    pub summary: CutoffSummary,
    files: Vec<(AchFile, Spooled)>,
}

impl CutoffWork {
    /// Put the files on disk once the cutoff has committed. Every file is
    /// attempted; the first error is returned after all were tried.
    pub(crate) async fn write(
        self,
        store: &Store,
        cfg: &AchConfig,
    ) -> Result<Vec<WrittenFile>, AchError> {
        let mut written = Vec::with_capacity(self.files.len());
        let mut first_error = None;
        for (file, spooled) in self.files {
            let id = file.id.clone();
            let stored = match spooled.read(&id) {
                Ok(bytes) => store_file(store, cfg, file, bytes).await,
                Err(e) => Err(e),
            };
            match stored {
                Ok(w) => written.push(w),
                Err(e) => {
                    tracing::error!(file_id = %id, error = %e, "outbound ACH file not written");
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(written),
        }
    }
}

/// The cutoff's work inside `tx` for the ODFIs in `scope` (see the module
/// documentation).
pub(crate) async fn cutoff_in_tx(
    tx: &mut Tx,
    vault: &Vault,
    cfg: &AchConfig,
    cutoff: &Cutoff,
    scope: &OdfiScope,
    now: DateTime<Utc>,
) -> Result<CutoffWork, AchError> {
    tx.lock_job(CUTOFF_LEASE).await?;
    let mut work = file_debits(tx, vault, cfg, cutoff, scope, now).await?;
    // Then the refunds and reversals, in credit files of their own.
    for (summary, file, bytes) in
        crate::credits::filing::file_credits(tx, vault, cfg, cutoff, scope, now).await?
    {
        let spooled = Spooled::new(&file.id, &bytes)?;
        work.summary.files.push(summary);
        work.files.push((file, spooled));
    }
    Ok(work)
}

/// The ODFI parts of `due` in `scope` (see [`odfi`]), for the credits filing too.
pub(crate) async fn split_by_odfi(
    tx: &mut Tx,
    cfg: &AchConfig,
    due: Vec<AchCollection>,
    scope: &OdfiScope,
) -> Result<Vec<(AchConfig, Option<String>, Vec<AchCollection>)>, AchError> {
    odfi::split(tx, cfg, due, scope).await
}

/// File the due debits (the collections) into debit files, per ODFI in
/// scope: read and screen them a page at a time ([`scan`]), plan each
/// ODFI's files on small per-entry records, build them, then commit them.
async fn file_debits(
    tx: &mut Tx,
    vault: &Vault,
    cfg: &AchConfig,
    cutoff: &Cutoff,
    scope: &OdfiScope,
    now: DateTime<Utc>,
) -> Result<CutoffWork, AchError> {
    let mut work = CutoffWork {
        summary: CutoffSummary::default(),
        files: Vec::new(),
    };
    let scanned = scan::scan(tx, cfg, cutoff, scope, now, &mut work.summary.failed).await?;
    let keys = &scanned.keys;
    for (odfi_cfg, odfi_id, mut due) in scanned.parts {
        if due.is_empty() {
            continue;
        }
        keys.sort(&mut due);
        let ctx = Context::new(tx, &odfi_cfg, cutoff, now)
            .await?
            .rolling_to(scanned.roll_to);
        let packed = packing::pack(tx, vault, &ctx, keys, due).await?;
        work.summary.failed.extend(packed.failed);
        work.summary.deferred.extend(packed.deferred);
        for (summary, file, spooled) in packed.files {
            if let Some(id) = &odfi_id {
                tx.set_ach_file_odfi(&file.id, id).await?;
            }
            work.summary.files.push(summary);
            work.files.push((file, spooled));
        }
    }
    Ok(work)
}
