//! The cutoff: in one transaction, take the `pending` collections due at a
//! cutoff, give each a trace number, record the outbound file and move the
//! collections to `submitted`; then write the file's bytes.
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
//! that key and then collection id. Trace numbers are the ODFI's 8-digit
//! prefix and a 7-digit sequence from the persistent counter
//! `trace.<odfi8>`, reserved in one block per file, so they ascend within
//! every batch and are unique across files (until the sequence wraps after
//! 9,999,999 entries).
//!
//! Before anything is built, every due entry is checked against the live
//! status of its customer, destination account, payment method and schedule
//! in one query (`crate::eligibility::screen`): an ineligible one is held
//! or failed, with its event, and left out of the file.
//!
//! Two cutoffs at once (two nodes) cannot file one collection twice: the
//! job holds the `ach.cutoff` lease, its transaction takes a job lock
//! (PostgreSQL advisory lock), and each collection moves only if it is still
//! `pending` (0 rows updated: another run took it, and it is left out).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use inflow_core::calendar::{Cutoff, CutoffKind};
use inflow_core::collection::{AchCollection, CollectionStatus, StatusChange};
use inflow_core::crypto::Vault;
use inflow_core::ids::CollectionId;
use inflow_store::repo::ach_files::{AchFile, OUTBOUND, STATUS_CREATED};
use inflow_store::repo::ach_work::CutoffSelection;
use inflow_store::{Store, Tx};

use crate::config::AchConfig;
use crate::events::{collection_event_row, status_event, status_event_row};
use crate::files::{
    build_file_bytes, outbound_file_name, store_file, AchError, BatchKey, FileHeaderInfo,
    WrittenFile,
};
use crate::leases::{with_lease, CUTOFF_LEASE, JOB_LEASE_WAIT};

/// File ID Modifiers in the order they are used within one creation date.
pub const FILE_ID_MODIFIERS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
/// The largest 7-digit trace sequence; the counter wraps back to 1 after it.
pub const MAX_TRACE_SEQUENCE: i64 = 9_999_999;

/// The file a cutoff created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSummary {
    pub file_id: String,
    pub file_name: String,
    pub cutoff_at: DateTime<Utc>,
    pub cutoff_kind: CutoffKind,
    pub batch_count: i64,
    pub entry_count: i64,
    pub total_debit: i64,
    /// The collections filed, in trace order.
    pub collection_ids: Vec<String>,
    /// The trace numbers assigned, in the same order.
    pub trace_numbers: Vec<String>,
}

/// The name of the trace counter for an ODFI.
pub fn trace_counter_name(cfg: &AchConfig) -> String {
    format!("trace.{}", &cfg.odfi_routing.as_string()[..8])
}

/// Run `cutoff`: create its file (if any entry is due) in one transaction,
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
) -> Result<Option<FileSummary>, AchError> {
    let created = with_lease(store, CUTOFF_LEASE, JOB_LEASE_WAIT, || async {
        let (cfg2, vault2, cutoff) = (cfg.clone(), vault.clone(), *cutoff);
        store
            .write(move |tx| {
                Box::pin(async move { cutoff_in_tx(tx, &vault2, &cfg2, &cutoff, now).await })
            })
            .await
    })
    .await?;
    match created {
        Some(created) => {
            let summary = created.summary.clone();
            created.write(store, cfg).await?;
            Ok(Some(summary))
        }
        None => Ok(None),
    }
}

/// A file the cutoff transaction created, with the bytes it built from
/// the rows it committed.
pub(crate) struct CreatedFile {
    pub summary: FileSummary,
    file: AchFile,
    bytes: Vec<u8>,
}

impl CreatedFile {
    /// Put the bytes on disk once the cutoff has committed.
    pub(crate) async fn write(
        self,
        store: &Store,
        cfg: &AchConfig,
    ) -> Result<WrittenFile, AchError> {
        store_file(store, cfg, self.file, self.bytes).await
    }
}

/// The cutoff's work inside `tx` (see the module documentation).
pub(crate) async fn cutoff_in_tx(
    tx: &mut Tx,
    vault: &Vault,
    cfg: &AchConfig,
    cutoff: &Cutoff,
    now: DateTime<Utc>,
) -> Result<Option<CreatedFile>, AchError> {
    tx.lock_job(CUTOFF_LEASE).await?;
    let selection = match cutoff.kind {
        CutoffKind::SameDay { .. } => CutoffSelection::SameDay { date: cutoff.date },
        CutoffKind::Standard => CutoffSelection::Standard { date: cutoff.date },
    };
    let due = tx.ach_collections_due_rows(selection).await?;
    // Defence in depth: only entries whose customer, destination account and
    // payment method are active now go into the file.
    let mut due = crate::eligibility::screen(tx, due, "not filed at the cutoff", now).await?;
    if due.is_empty() {
        return Ok(None);
    }

    let mut rolled: HashSet<CollectionId> = HashSet::new();
    if cutoff.is_standard() {
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
    }

    let info = FileHeaderInfo::from_config(cfg, cutoff);
    let summary_json = serde_json::to_string(&info).map_err(|e| AchError::Build {
        file_id: String::new(),
        reason: e.to_string(),
    })?;
    let creation_date = cutoff.date;
    let used = tx.used_file_id_modifiers(OUTBOUND, creation_date).await?;
    let modifier = FILE_ID_MODIFIERS
        .chars()
        .find(|m| !used.iter().any(|u| u.eq_ignore_ascii_case(&m.to_string())))
        .ok_or(AchError::FileIdModifiersExhausted(creation_date))?;
    let kind_label = match cutoff.kind {
        CutoffKind::SameDay { window } => format!("same-day window {}", window + 1),
        CutoffKind::Standard => "standard cutoff".to_owned(),
    };
    let mut plan = FilePlan {
        file_id: AchFile::new_id(now),
        file_name: outbound_file_name(creation_date, modifier),
        modifier,
        first_trace: 0,
        odfi8: cfg.odfi_routing.as_string()[..8].to_owned(),
        reason: String::new(),
        summary_json,
        cutoff: *cutoff,
        now,
    };
    plan.reason = format!(
        "in file {} ({kind_label} of {})",
        plan.file_name, cutoff.date
    );
    plan.first_trace = tx
        .reserve_counter(
            &trace_counter_name(cfg),
            due.len() as i64,
            MAX_TRACE_SEQUENCE,
        )
        .await?;

    let mut keyed: Vec<(BatchKey, AchCollection)> =
        due.into_iter().map(|c| (BatchKey::of(&c), c)).collect();
    keyed.sort_by(|(ka, a), (kb, b)| ka.cmp(kb).then_with(|| a.id.cmp(&b.id)));

    // The whole file must build and validate before anything commits. When
    // it does not, each entry is checked alone: one that cannot be written
    // (say, a sealed account number the vault cannot open) fails on its
    // own instead of blocking the file.
    let (mut filed, mut file, mut bytes) = match plan.build(vault, keyed.clone()) {
        Ok(built) => built,
        Err(_) => {
            let mut writable = Vec::with_capacity(keyed.len());
            for (key, mut c) in keyed {
                match check_entry(vault, &info, cutoff, &c) {
                    Ok(()) => writable.push((key, c)),
                    Err(reason) => {
                        tracing::error!(collection_id = %c.id, %reason, "collection cannot be filed");
                        c.transition(
                            CollectionStatus::Failed,
                            Some(format!("cannot be written to a NACHA file: {reason}")),
                            now,
                        )?;
                        if tx
                            .update_ach_collection_if(&c, CollectionStatus::Pending)
                            .await?
                        {
                            status_event(tx, &c, now).await?;
                        }
                    }
                }
            }
            if writable.is_empty() {
                return Ok(None);
            }
            plan.build(vault, writable)?
        }
    };

    let written = tx
        .update_ach_collections_if(
            &filed.iter().map(|(_, c)| c.clone()).collect::<Vec<_>>(),
            CollectionStatus::Pending,
        )
        .await?;
    if written.len() != filed.len() {
        // Another run moved some of them first (the job lock makes this a
        // belt-and-braces check): file only what this run moved.
        let kept: Vec<(BatchKey, AchCollection)> = filed
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
            return Ok(None);
        }
        // Keep the traces already written to the rows.
        (filed, file, bytes) = plan.build_with_traces(vault, kept)?;
    }
    let (file_id, file_name) = (file.id.clone(), file.file_name.clone());
    let (batch_count, total_debit) = (file.batch_count, file.total_debit);
    let filed_collections: Vec<AchCollection> = filed.iter().map(|(_, c)| c.clone()).collect();
    tx.insert_ach_file(&file).await?;
    crate::ledger::post_submitted(tx, &filed_collections, cutoff.date, now).await?;
    let mut events = Vec::with_capacity(filed.len() + rolled.len());
    for c in &filed_collections {
        if rolled.contains(&c.id) {
            events.push(collection_event_row("collection.updated", c, now));
        }
        events.push(status_event_row(c, now));
    }
    tx.insert_events(&events).await?;
    tracing::info!(file_id = %file_id, file_name = %file_name, entries = filed.len(), "outbound ACH file created");
    let summary = FileSummary {
        file_id,
        file_name,
        cutoff_at: cutoff.at,
        cutoff_kind: cutoff.kind,
        batch_count,
        entry_count: filed.len() as i64,
        total_debit,
        collection_ids: filed.iter().map(|(_, c)| c.id.to_string()).collect(),
        trace_numbers: filed
            .iter()
            .filter_map(|(_, c)| c.trace_number.clone())
            .collect(),
    };
    Ok(Some(CreatedFile {
        summary,
        file,
        bytes,
    }))
}

/// What every entry of the file being cut shares.
struct FilePlan {
    file_id: String,
    file_name: String,
    modifier: char,
    first_trace: i64,
    odfi8: String,
    reason: String,
    summary_json: String,
    cutoff: Cutoff,
    now: DateTime<Utc>,
}

type Built = (Vec<(BatchKey, AchCollection)>, AchFile, Vec<u8>);

impl FilePlan {
    /// Number the entries in order, move them to `submitted` and build the file.
    fn build(
        &self,
        vault: &Vault,
        mut entries: Vec<(BatchKey, AchCollection)>,
    ) -> Result<Built, AchError> {
        for (i, (_, c)) in entries.iter_mut().enumerate() {
            c.trace_number = Some(format!("{}{:07}", self.odfi8, self.first_trace + i as i64));
            c.file_id = Some(self.file_id.clone());
            c.transition(
                CollectionStatus::Submitted,
                Some(self.reason.clone()),
                self.now,
            )?;
        }
        self.build_with_traces(vault, entries)
    }

    /// Build the file for entries that already carry their traces.
    fn build_with_traces(
        &self,
        vault: &Vault,
        entries: Vec<(BatchKey, AchCollection)>,
    ) -> Result<Built, AchError> {
        let mut batch_count = 0i64;
        let mut total_debit = 0i64;
        for (i, (key, c)) in entries.iter().enumerate() {
            if i == 0 || entries[i - 1].0 != *key {
                batch_count += 1;
            }
            total_debit += crate::files::entry_amount(c);
        }
        let file = AchFile {
            id: self.file_id.clone(),
            direction: OUTBOUND.to_owned(),
            status: STATUS_CREATED.to_owned(),
            file_name: self.file_name.clone(),
            creation_date: self.cutoff.date,
            file_id_modifier: Some(self.modifier.to_string()),
            cutoff_at: Some(self.cutoff.at),
            batch_count,
            entry_count: entries.len() as i64,
            total_debit,
            total_credit: 0,
            sha256: None,
            summary: Some(self.summary_json.clone()),
            created_at: self.now,
            written_at: None,
        };
        let collections: Vec<AchCollection> = entries.iter().map(|(_, c)| c.clone()).collect();
        let bytes = build_file_bytes(vault, &file, &collections)?;
        Ok((entries, file, bytes))
    }
}

/// Can `c` be written into a file with header `info`? Builds a one-entry
/// file (strictly validated) with a placeholder trace number.
fn check_entry(
    vault: &Vault,
    info: &FileHeaderInfo,
    cutoff: &Cutoff,
    c: &AchCollection,
) -> Result<(), String> {
    let file = AchFile {
        id: "fil_check".into(),
        direction: OUTBOUND.to_owned(),
        status: STATUS_CREATED.to_owned(),
        file_name: String::new(),
        creation_date: cutoff.date,
        file_id_modifier: Some("A".into()),
        cutoff_at: Some(cutoff.at),
        batch_count: 1,
        entry_count: 1,
        total_debit: 0,
        total_credit: 0,
        sha256: None,
        summary: Some(serde_json::to_string(info).map_err(|e| e.to_string())?),
        created_at: cutoff.at,
        written_at: None,
    };
    let mut probe = c.clone();
    probe.trace_number = Some(format!(
        "{}0000001",
        &info.odfi_routing[..8.min(info.odfi_routing.len())]
    ));
    build_file_bytes(vault, &file, std::slice::from_ref(&probe))
        .map(|_| ())
        .map_err(|e| match e {
            AchError::Build { reason, .. } => reason,
            other => other.to_string(),
        })
}
