//! Entries that cannot be filed fail alone: a due row that cannot be read
//! (say, an amount beyond the 10-digit entry field), and an entry whose
//! one-entry file cannot be built or fails the strict validator (a sealed
//! account number the vault cannot open, an account number wider than its
//! field, a company name with nothing printable, a zero-amount debit, …).
//! Each moves to `failed` with its reason and a `collection.failed` event
//! in the cutoff's transaction.

use chrono::{DateTime, Utc};
use inflow_core::calendar::Cutoff;
use inflow_core::collection::{AchCollection, CollectionStatus, StatusChange};
use inflow_core::crypto::Vault;
use inflow_core::ids::EventId;
use inflow_store::repo::ach_files::{AchFile, OUTBOUND, STATUS_CREATED};
use inflow_store::repo::ach_work::UnreadableCollection;
use inflow_store::repo::events::Event;
use inflow_store::Tx;

use super::FailedEntry;
use crate::events::status_event;
use crate::files::{build_file_bytes, AchError, FileHeaderInfo};

/// Can `c` be written into a file with header `info`? Builds a one-entry
/// file (strictly validated) with a placeholder trace number.
pub(super) fn check_entry(
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

/// Fail pending collection `c`, which cannot be written to a file.
/// `None` if another run moved it first.
pub(super) async fn fail_entry(
    tx: &mut Tx,
    mut c: AchCollection,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Option<FailedEntry>, AchError> {
    tracing::error!(collection_id = %c.id, %reason, "collection cannot be filed");
    let reason = format!("cannot be written to a NACHA file: {reason}");
    c.transition(CollectionStatus::Failed, Some(reason.clone()), now)?;
    if !tx
        .update_ach_collection_if(&c, CollectionStatus::Pending)
        .await?
    {
        return Ok(None);
    }
    status_event(tx, &c, now).await?;
    Ok(Some(FailedEntry {
        collection_id: c.id.to_string(),
        reason,
    }))
}

/// Fail a due row that cannot be read. Its history gets the failure when
/// it can be read itself; the `collection.failed` event carries what is
/// known (id, status, reason), since the full view cannot be rendered.
pub(super) async fn fail_unreadable(
    tx: &mut Tx,
    u: UnreadableCollection,
    now: DateTime<Utc>,
) -> Result<Option<FailedEntry>, AchError> {
    tracing::error!(collection_id = %u.id, reason = %u.reason, "collection cannot be read; failed");
    let reason = format!(
        "cannot be filed: the stored collection cannot be read ({})",
        u.reason
    );
    let history = match serde_json::from_str::<Vec<StatusChange>>(&u.status_history) {
        Ok(mut h) => {
            h.push(StatusChange {
                status: CollectionStatus::Failed,
                reason: Some(reason.clone()),
                at: now,
            });
            serde_json::to_string(&h).unwrap_or(u.status_history)
        }
        Err(_) => u.status_history,
    };
    if !tx
        .fail_unreadable_collection(&u.id, &reason, &history, now)
        .await?
    {
        return Ok(None);
    }
    tx.insert_event(&Event {
        id: EventId::generate(now),
        customer_id: Some(u.customer_id),
        event_type: "collection.failed".into(),
        object_id: u.id.to_string(),
        data: serde_json::json!({ "object": {
            "id": u.id.as_str(), "object": "collection", "rail": "ach",
            "status": "failed", "statusReason": reason,
        }}),
        created_at: now,
    })
    .await?;
    Ok(Some(FailedEntry {
        collection_id: u.id.to_string(),
        reason,
    }))
}
