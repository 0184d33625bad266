//! The cutoff: in one transaction, take the `pending` collections due at a
//! cutoff, give each a trace number, record the outbound file and move the
//! collections to `submitted`; then write the file's bytes.
//!
//! - A same-day window of day D takes same-day entries effective D and
//!   released by D.
//! - The standard cutoff of day D takes every pending entry released by D.
//!   An entry whose effective date is D or earlier (a same-day entry that
//!   missed every window) is moved to the next banking day first, with the
//!   reason in its history.
//!
//! Entries are grouped into batches by company name, company id, SEC code,
//! entry description and effective date (service class 225), ordered by
//! that key and then collection id. Trace numbers are the ODFI's 8-digit
//! prefix and a 7-digit sequence from the persistent counter
//! `trace.<odfi8>`, reserved in one block per file, so they ascend within
//! every batch and are unique across files (until the sequence wraps after
//! 9,999,999 entries).
//!
//! Two cutoffs at once (two nodes) cannot file one collection twice: the
//! job holds the `ach.cutoff` lease, its transaction takes a job lock
//! (PostgreSQL advisory lock), and each collection moves only if it is still
//! `pending` (0 rows updated: another run took it, and it is left out).

use chrono::{DateTime, Utc};
use inflow_core::calendar::{Cutoff, CutoffKind};
use inflow_core::collection::{AchCollection, CollectionStatus, StatusChange};
use inflow_core::crypto::Vault;
use inflow_store::repo::ach_files::{AchFile, OUTBOUND, STATUS_CREATED};
use inflow_store::repo::ach_work::CutoffSelection;
use inflow_store::{Store, Tx};

use crate::config::AchConfig;
use crate::events::status_event;
use crate::files::{
    build_file_bytes, outbound_file_name, write_file, AchError, BatchKey, FileHeaderInfo,
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
    let summary = with_lease(store, CUTOFF_LEASE, JOB_LEASE_WAIT, || async {
        let (cfg2, vault2, cutoff) = (cfg.clone(), vault.clone(), *cutoff);
        store
            .write(move |tx| {
                Box::pin(async move { cutoff_in_tx(tx, &vault2, &cfg2, &cutoff, now).await })
            })
            .await
    })
    .await?;
    if let Some(s) = &summary {
        write_file(store, vault, cfg, &s.file_id).await?;
    }
    Ok(summary)
}

/// The cutoff's work inside `tx` (see the module documentation).
pub(crate) async fn cutoff_in_tx(
    tx: &mut Tx,
    vault: &Vault,
    cfg: &AchConfig,
    cutoff: &Cutoff,
    now: DateTime<Utc>,
) -> Result<Option<FileSummary>, AchError> {
    tx.lock_job(CUTOFF_LEASE).await?;
    let selection = match cutoff.kind {
        CutoffKind::SameDay { .. } => CutoffSelection::SameDay { date: cutoff.date },
        CutoffKind::Standard => CutoffSelection::Standard { date: cutoff.date },
    };
    let ids = tx.ach_collections_due_at_cutoff(selection).await?;
    if ids.is_empty() {
        return Ok(None);
    }
    let mut due = tx.load_ach_collections(&ids).await?;

    if cutoff.is_standard() {
        let next = cfg.calendar.next_banking_day(cutoff.date);
        for c in due.iter_mut().filter(|c| c.effective_date <= cutoff.date) {
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

    // An entry that cannot be written (say, a sealed account number the
    // vault cannot open) fails on its own instead of blocking the file.
    let info = FileHeaderInfo::from_config(cfg, cutoff);
    let mut writable = Vec::with_capacity(due.len());
    for mut c in due {
        match check_entry(vault, &info, cutoff, &c) {
            Ok(()) => writable.push(c),
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

    let mut keyed: Vec<(BatchKey, AchCollection)> = writable
        .into_iter()
        .map(|c| (BatchKey::of(&c), c))
        .collect();
    keyed.sort_by(|(ka, a), (kb, b)| ka.cmp(kb).then_with(|| a.id.cmp(&b.id)));

    let creation_date = cutoff.date;
    let used = tx.used_file_id_modifiers(OUTBOUND, creation_date).await?;
    let modifier = FILE_ID_MODIFIERS
        .chars()
        .find(|m| !used.iter().any(|u| u.eq_ignore_ascii_case(&m.to_string())))
        .ok_or(AchError::FileIdModifiersExhausted(creation_date))?;
    let file_name = outbound_file_name(creation_date, modifier);
    let file_id = AchFile::new_id(now);

    let first = tx
        .reserve_counter(
            &trace_counter_name(cfg),
            keyed.len() as i64,
            MAX_TRACE_SEQUENCE,
        )
        .await?;
    let odfi8 = &cfg.odfi_routing.as_string()[..8];
    let kind_label = match cutoff.kind {
        CutoffKind::SameDay { window } => format!("same-day window {}", window + 1),
        CutoffKind::Standard => "standard cutoff".to_owned(),
    };

    let mut filed: Vec<(BatchKey, AchCollection)> = Vec::with_capacity(keyed.len());
    for (i, (key, mut c)) in keyed.into_iter().enumerate() {
        c.trace_number = Some(format!("{odfi8}{:07}", first + i as i64));
        c.file_id = Some(file_id.clone());
        c.transition(
            CollectionStatus::Submitted,
            Some(format!(
                "in file {file_name} ({kind_label} of {})",
                cutoff.date
            )),
            now,
        )?;
        if tx
            .update_ach_collection_if(&c, CollectionStatus::Pending)
            .await?
        {
            filed.push((key, c));
        } else {
            tracing::warn!(collection_id = %c.id, "collection taken by another cutoff; left out of this file");
        }
    }
    if filed.is_empty() {
        return Ok(None);
    }

    let mut batch_count = 0i64;
    let mut total_debit = 0i64;
    for (i, (key, c)) in filed.iter().enumerate() {
        if i == 0 || filed[i - 1].0 != *key {
            batch_count += 1;
        }
        total_debit += crate::files::entry_amount(c);
    }
    let file = AchFile {
        id: file_id.clone(),
        direction: OUTBOUND.to_owned(),
        status: STATUS_CREATED.to_owned(),
        file_name: file_name.clone(),
        creation_date,
        file_id_modifier: Some(modifier.to_string()),
        cutoff_at: Some(cutoff.at),
        batch_count,
        entry_count: filed.len() as i64,
        total_debit,
        total_credit: 0,
        sha256: None,
        summary: Some(serde_json::to_string(&info).map_err(|e| AchError::Build {
            file_id: file_id.clone(),
            reason: e.to_string(),
        })?),
        created_at: now,
        written_at: None,
    };
    // The whole file must build and validate before anything commits.
    let filed_collections: Vec<AchCollection> = filed.iter().map(|(_, c)| c.clone()).collect();
    build_file_bytes(vault, &file, &filed_collections)?;
    tx.insert_ach_file(&file).await?;
    for (_, c) in &filed {
        status_event(tx, c, now).await?;
    }
    tracing::info!(file_id = %file_id, file_name = %file_name, entries = filed.len(), "outbound ACH file created");
    Ok(Some(FileSummary {
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
    }))
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
