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
//! Before anything is built, every due entry is checked against the live
//! status of its customer, destination account, payment method and schedule
//! in one query (`crate::eligibility::screen`): an ineligible one is held
//! or failed, with its event, and left out of the file.
//!
//! After the debit files, the pending refunds and reversals are filed in
//! credit files of their own ([`crate::credits::filing`]).
//!
//! Two cutoffs at once (two nodes) cannot file one collection twice: the
//! job holds the `ach.cutoff` lease, its transaction takes a job lock
//! (PostgreSQL advisory lock), and each collection moves only if it is still
//! `pending` (0 rows updated: another run took it, and it is left out).

mod odfi;
mod packing;
mod poison;
mod windows;

pub use windows::{manual_cutoffs, scheduled_cutoffs, OdfiScope, ScopedCutoff};

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use inflow_core::calendar::{Cutoff, CutoffKind};
use inflow_core::collection::{AchCollection, CollectionStatus, StatusChange};
use inflow_core::crypto::Vault;
use inflow_core::ids::CollectionId;
use inflow_store::repo::ach_files::AchFile;
use inflow_store::repo::ach_work::CutoffSelection;
use inflow_store::{Store, Tx};

use crate::config::AchConfig;
use crate::events::{collection_event_row, status_event_row};
use crate::files::{store_file, AchError, BatchKey, WrittenFile};
use crate::leases::{with_lease, CUTOFF_LEASE, JOB_LEASE_WAIT};
use packing::{Built, Context, Keyed};

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
    files: Vec<(AchFile, Vec<u8>)>,
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
        for (file, bytes) in self.files {
            let id = file.id.clone();
            match store_file(store, cfg, file, bytes).await {
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
    let selection = match cutoff.kind {
        CutoffKind::SameDay { .. } => CutoffSelection::SameDay { date: cutoff.date },
        CutoffKind::Standard => CutoffSelection::Standard { date: cutoff.date },
    };
    let due = tx.ach_collections_due_rows(selection).await?;
    let mut work = CutoffWork {
        summary: CutoffSummary::default(),
        files: Vec::new(),
    };
    for u in due.unreadable {
        work.summary
            .failed
            .extend(poison::fail_unreadable(tx, u, now).await?);
    }
    // Only the ODFIs in scope; and, defence in depth, only entries whose
    // customer, destination account and payment method are active now.
    let debits = file_debits(tx, vault, cfg, cutoff, due.collections, scope, now).await?;
    work.summary.absorb(debits.summary);
    work.files.extend(debits.files);
    // Then the refunds and reversals, in credit files of their own.
    for (summary, file, bytes) in
        crate::credits::filing::file_credits(tx, vault, cfg, cutoff, scope, now).await?
    {
        work.summary.files.push(summary);
        work.files.push((file, bytes));
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

/// File the due debits (the collections) into debit files, per ODFI in scope.
async fn file_debits(
    tx: &mut Tx,
    vault: &Vault,
    cfg: &AchConfig,
    cutoff: &Cutoff,
    due: Vec<AchCollection>,
    scope: &OdfiScope,
    now: DateTime<Utc>,
) -> Result<CutoffWork, AchError> {
    let mut work = CutoffWork {
        summary: CutoffSummary::default(),
        files: Vec::new(),
    };
    for (odfi_cfg, odfi_id, due) in odfi::split(tx, cfg, due, scope).await? {
        let mut due = crate::eligibility::screen(tx, due, "not filed at the cutoff", now).await?;
        if due.is_empty() {
            continue;
        }
        let rolled = roll_missed_windows(cfg, cutoff, &mut due, now);
        let mut keyed: Vec<Keyed> = due.into_iter().map(|c| (BatchKey::of(&c), c)).collect();
        keyed.sort_by(|(ka, a), (kb, b)| ka.cmp(kb).then_with(|| a.id.cmp(&b.id)));
        let ctx = Context::new(tx, &odfi_cfg, cutoff, now).await?;
        let packed = packing::pack(tx, vault, &ctx, keyed).await?;
        work.summary.failed.extend(packed.failed);
        work.summary
            .deferred
            .extend(packed.deferred.iter().map(|c| c.id.to_string()));
        for built in packed.files {
            let committed = commit_file(tx, vault, built, &rolled, &ctx).await?;
            for (summary, file, bytes) in committed {
                if let Some(id) = &odfi_id {
                    tx.set_ach_file_odfi(&file.id, id).await?;
                }
                work.summary.files.push(summary);
                work.files.push((file, bytes));
            }
        }
    }
    Ok(work)
}

/// At a standard cutoff, move entries effective on or before its day (same-day
/// entries that missed every window) to the next banking day. Returns their ids.
fn roll_missed_windows(
    cfg: &AchConfig,
    cutoff: &Cutoff,
    due: &mut [AchCollection],
    now: DateTime<Utc>,
) -> HashSet<CollectionId> {
    let mut rolled = HashSet::new();
    if !cutoff.is_standard() {
        return rolled;
    }
    let next = cfg.calendar.next_banking_day(cutoff.date);
    for c in due.iter_mut().filter(|c| c.effective_date <= cutoff.date) {
        rolled.insert(c.id.clone());
        let reason = format!(
            "missed the same-day windows of {}; effective date moved from {} to {}",
            c.effective_date, c.effective_date, next
        );
        c.effective_date = next;
        c.status_reason = Some(reason.clone());
        c.status_history.push(StatusChange {
            status: c.status,
            reason: Some(reason),
            at: now,
        });
        c.updated_at = now;
    }
    rolled
}

/// Commit one built file (and its companion file of offsets): move its
/// collections (those still pending), insert the file rows, post the ledger
/// (with the offsets) and write the events. Nothing when another run took
/// every collection.
async fn commit_file(
    tx: &mut Tx,
    vault: &Vault,
    built: Built,
    rolled: &HashSet<CollectionId>,
    ctx: &Context,
) -> Result<Vec<(FileSummary, AchFile, Vec<u8>)>, AchError> {
    let Built {
        plan,
        entries: mut filed,
        mut file,
        mut bytes,
        mut offsets,
        mut companion,
    } = built;
    let now = ctx.now;
    let written = tx
        .update_ach_collections_if(
            &filed.iter().map(|(_, c)| c.clone()).collect::<Vec<_>>(),
            CollectionStatus::Pending,
        )
        .await?;
    if written.len() != filed.len() {
        // Another run moved some of them first (the job lock makes this a
        // belt-and-braces check): file only what this run moved.
        let kept: Vec<Keyed> = filed
            .into_iter()
            .filter(|(_, c)| {
                let mine = written.contains(c.id.as_str());
                if !mine {
                    tracing::warn!(collection_id = %c.id, "collection taken by another cutoff; left out of this file");
                }
                mine
            })
            .collect();
        if kept.is_empty() {
            return Ok(Vec::new());
        }
        // Keep the traces already written to the rows.
        Built {
            entries: filed,
            file,
            bytes,
            offsets,
            companion,
            ..
        } = plan.build_with_traces(vault, kept)?;
    }
    let filed_collections: Vec<AchCollection> = filed.into_iter().map(|(_, c)| c).collect();
    tx.insert_ach_file(&file).await?;
    if let Some((f, _)) = &companion {
        tx.insert_ach_file(f).await?;
    }
    crate::ledger::post_submitted(tx, &filed_collections, ctx.cutoff.date, now).await?;
    if let Some(first) = filed_collections.first() {
        crate::ledger::post_offsets(tx, &offsets, first.amount.currency(), ctx.cutoff.date, now)
            .await?;
    }
    if !offsets.is_empty() {
        // By trace, so a return of an offset finds the file that carried it.
        let carrier = companion.as_ref().map_or(&file.id, |(f, _)| &f.id);
        let traces: Vec<(String, i64)> = offsets
            .iter()
            .map(|o| (o.trace_number.clone(), o.amount))
            .collect();
        tx.insert_ach_offset_entries(carrier, &traces, now).await?;
    }
    let mut events = Vec::with_capacity(filed_collections.len() + rolled.len());
    for c in &filed_collections {
        if rolled.contains(&c.id) {
            events.push(collection_event_row("collection.updated", c, now));
        }
        events.push(status_event_row(c, now));
    }
    tx.insert_events(&events).await?;
    tracing::info!(file_id = %file.id, file_name = %file.file_name, entries = filed_collections.len(), "outbound ACH file created");
    let summary = FileSummary {
        file_id: file.id.clone(),
        file_name: file.file_name.clone(),
        cutoff_at: ctx.cutoff.at,
        cutoff_kind: ctx.cutoff.kind,
        batch_count: file.batch_count,
        entry_count: filed_collections.len() as i64,
        total_debit: file.total_debit,
        total_credit: file.total_credit,
        collection_ids: filed_collections.iter().map(|c| c.id.to_string()).collect(),
        trace_numbers: filed_collections
            .iter()
            .filter_map(|c| c.trace_number.clone())
            .collect(),
    };
    let mut out = vec![(summary, file, bytes)];
    if let Some((f, b)) = companion.take() {
        tracing::info!(file_id = %f.id, file_name = %f.file_name, offsets = offsets.len(), "outbound ACH file of offset credits created");
        out.push((
            FileSummary {
                file_id: f.id.clone(),
                file_name: f.file_name.clone(),
                cutoff_at: ctx.cutoff.at,
                cutoff_kind: ctx.cutoff.kind,
                batch_count: f.batch_count,
                entry_count: f.entry_count,
                total_debit: 0,
                total_credit: f.total_credit,
                collection_ids: Vec::new(),
                trace_numbers: Vec::new(),
            },
            f,
            b,
        ));
    }
    Ok(out)
}
