//! The delivery job and the operator's actions on a file's delivery (see
//! the parent module for the states and the crash argument).

use crate::audit::AuditContext;
use chrono::{DateTime, Utc};
use inflow_bank::FileName;
use inflow_core::collection::CollectionStatus;
use inflow_core::crypto::Vault;
use inflow_core::ids::EventId;
use inflow_store::repo::ach_delivery::{FileDelivery, UploadOutcome, BUILT, UPLOAD_FAILED};
use inflow_store::repo::ach_files::OUTBOUND;
use inflow_store::repo::events::Event;
use inflow_store::{Store, StoreError, Tx};

use super::{file_event_data, Delivery, DeliveryError, Odfi};
use crate::files::AchError;
use crate::leases::{with_lease, DELIVERY_LEASE, JOB_LEASE_WAIT};

/// Who uploaded a file the delivery job sent.
pub const BY_JOB: &str = "delivery-job";
/// Who "uploaded" a file the sandbox's simulated bank took.
pub const BY_SANDBOX: &str = "sandbox-bank";

/// What one pass of the delivery job did (file ids).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub uploaded: Vec<String>,
    /// Failed attempts that will be retried after their backoff.
    pub retrying: Vec<String>,
    /// Now `upload_failed`.
    pub failed: Vec<String>,
}

/// Upload every outbound file due (see the module documentation), holding
/// the `ach.delivery` lease (waiting up to a minute for another node's run).
pub async fn deliver_due(
    store: &Store,
    vault: &Vault,
    delivery: &Delivery,
    now: DateTime<Utc>,
) -> Result<DeliveryReport, AchError> {
    deliver_due_waiting(store, vault, delivery, now, JOB_LEASE_WAIT).await
}

/// [`deliver_due`], waiting at most `wait` for the lease
/// ([`AchError::Busy`] if another node keeps it: that node is delivering).
pub async fn deliver_due_waiting(
    store: &Store,
    vault: &Vault,
    delivery: &Delivery,
    now: DateTime<Utc>,
    wait: std::time::Duration,
) -> Result<DeliveryReport, AchError> {
    with_lease(store, DELIVERY_LEASE, wait, || async {
        let due = {
            let mut tx = store.read().await?;
            let due = tx.ach_files_due_for_upload(now).await?;
            tx.rollback().await?;
            due
        };
        let mut report = DeliveryReport::default();
        for d in due {
            let id = d.file_id.clone();
            match deliver_one(store, vault, delivery, d, now).await? {
                Some(UploadOutcome::Uploaded { .. }) => report.uploaded.push(id),
                Some(UploadOutcome::Retry { .. }) => report.retrying.push(id),
                Some(UploadOutcome::Failed { .. }) => report.failed.push(id),
                None => {}
            }
        }
        Ok(report)
    })
    .await
}

/// One attempt for one file; `None` when another run moved it first.
async fn deliver_one(
    store: &Store,
    vault: &Vault,
    delivery: &Delivery,
    d: FileDelivery,
    now: DateTime<Utc>,
) -> Result<Option<UploadOutcome>, AchError> {
    let Some(odfi) = delivery.odfi(d.odfi_id.as_deref()) else {
        let error = format!(
            "the file names ODFI `{}`, which is not configured",
            d.odfi_id.as_deref().unwrap_or("")
        );
        return attempt(store, &d.file_id, "", now, |_| async {
            UploadOutcome::Failed { error }
        })
        .await;
    };
    let Some(transport) = odfi.transport.clone() else {
        let outcome = UploadOutcome::Uploaded {
            at: now,
            by: BY_SANDBOX.into(),
            location: format!("sandbox-bank:{}", odfi.id),
        };
        return record(store, &d.file_id, &odfi.id, outcome, now).await;
    };
    let id = d.file_id.clone();
    let odfi_id = odfi.id.clone();
    let retry = odfi.retry;
    attempt(store, &id, &odfi_id, now, |attempts| async move {
        let result = async {
            let (name, bytes) = payload(store, vault, odfi, &delivery.spool_dir, &d.file_id).await?;
            let name = FileName::new(name).map_err(|e| (e.to_string(), false))?;
            transport.upload(&name, &bytes).await.map_err(|e| {
                let retryable = e.is_retryable();
                (e.to_string(), retryable)
            })
        };
        match result.await {
            Ok(receipt) => UploadOutcome::Uploaded {
                at: now,
                by: BY_JOB.into(),
                location: receipt.location,
            },
            Err((error, true)) => match retry.backoff_before(attempts + 1) {
                Some(wait) => UploadOutcome::Retry {
                    error,
                    next_attempt_at: now
                        + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX),
                },
                None => UploadOutcome::Failed {
                    error: format!("{error} (after {attempts} attempts)"),
                },
            },
            Err((error, false)) => UploadOutcome::Failed { error },
        }
    })
    .await
    .inspect(|o| {
        if let Some(UploadOutcome::Failed { error }) = o {
            tracing::error!(file_id = %id, odfi = %odfi_id, %error, "ALERT: outbound ACH file upload failed; an operator must retry it or mark it uploaded");
        }
    })
}

/// A permanent failure, or a transport error and whether it may be retried.
type AttemptError = (String, bool);

/// The remote name and bytes to send for `file_id`: rebuilt from its rows,
/// checked against the SHA-256 recorded when it was written, and — for an
/// ODFI with OpenPGP — encrypted and signed once into
/// `<spool_dir>/<name>.pgp`, whose bytes every later attempt sends again.
async fn payload(
    store: &Store,
    vault: &Vault,
    odfi: &Odfi,
    spool_dir: &std::path::Path,
    file_id: &str,
) -> Result<(String, Vec<u8>), AttemptError> {
    let permanent = |e: String| (e, false);
    let transient = |e: StoreError| (e.to_string(), true);
    let bytes = crate::files::file_bytes(store, vault, file_id)
        .await
        .map_err(|e| match e {
            AchError::Store(e) => transient(e),
            e => permanent(e.to_string()),
        })?;
    let file = {
        let mut tx = store.read().await.map_err(transient)?;
        let f = tx.get_ach_file(file_id).await.map_err(transient)?;
        let _ = tx.rollback().await;
        f
    };
    let rebuilt = crate::files::sha256_hex(&bytes);
    if file.sha256.as_deref() != Some(rebuilt.as_str()) {
        return Err(permanent(format!(
            "the file's rows now give SHA-256 {rebuilt}, not the {} recorded when it was written",
            file.sha256.as_deref().unwrap_or("(none)")
        )));
    }
    let Some(pgp) = odfi.pgp_out.as_ref() else {
        return Ok((file.file_name, bytes));
    };
    let name = format!("{}.pgp", file.file_name);
    let path = spool_dir.join(&name);
    if let Ok(sealed) = tokio::fs::read(&path).await {
        return Ok((name, sealed));
    }
    let sealed = pgp
        .protect(&file.file_name, &bytes)
        .map_err(|e| permanent(format!("OpenPGP: {e}")))?;
    let (target, copy) = (path.clone(), sealed.clone());
    tokio::task::spawn_blocking(move || crate::files::write_atomically(&target, &copy))
        .await
        .map_err(|e| (e.to_string(), true))?
        .map_err(|e| (format!("{}: {e}", path.display()), true))?;
    Ok((name, sealed))
}

/// Start an attempt (committed before `work` runs), run it, record its
/// outcome. `None` when the file was no longer due.
async fn attempt<F, Fut>(
    store: &Store,
    file_id: &str,
    odfi_id: &str,
    now: DateTime<Utc>,
    work: F,
) -> Result<Option<UploadOutcome>, AchError>
where
    F: FnOnce(u32) -> Fut,
    Fut: std::future::Future<Output = UploadOutcome>,
{
    let id = file_id.to_owned();
    let started: Option<FileDelivery> = store
        .write::<_, StoreError, _>(move |tx| {
            Box::pin(async move {
                if !tx.start_ach_upload(&id).await? {
                    return Ok(None);
                }
                tx.get_ach_file_delivery(&id).await
            })
        })
        .await?;
    let Some(started) = started else {
        return Ok(None);
    };
    let attempts = u32::try_from(started.attempts).unwrap_or(u32::MAX);
    let outcome = work(attempts).await;
    record(store, file_id, odfi_id, outcome, now).await
}

/// Commit `outcome` (with its event when the file is uploaded or failed
/// for good); `None` when the file was not in a state it applies to.
async fn record(
    store: &Store,
    file_id: &str,
    odfi_id: &str,
    outcome: UploadOutcome,
    now: DateTime<Utc>,
) -> Result<Option<UploadOutcome>, AchError> {
    let (id, odfi_id) = (file_id.to_owned(), odfi_id.to_owned());
    let recorded: Option<UploadOutcome> = store
        .write::<_, StoreError, _>(move |tx| {
            Box::pin(async move {
                if !tx.finish_ach_upload(&id, &outcome).await? {
                    return Ok(None);
                }
                if !odfi_id.is_empty() {
                    tx.set_ach_file_odfi_if_unset(&id, &odfi_id).await?;
                }
                match &outcome {
                    UploadOutcome::Uploaded { .. } => {
                        submit_collections(tx, &id, now).await?;
                        crate::credits::lifecycle::submit_file(tx, &id, now).await?;
                        file_event(tx, &id, "ach_file.uploaded", now).await?
                    }
                    UploadOutcome::Failed { .. } => {
                        file_event(tx, &id, "ach_file.upload_failed", now).await?
                    }
                    UploadOutcome::Retry { error, .. } => {
                        tracing::warn!(file_id = %id, %error, "outbound ACH file upload failed; will retry");
                    }
                }
                Ok(Some(outcome))
            })
        })
        .await?;
    Ok(recorded)
}

/// The file is at the bank: its `batched` collections become `submitted`
/// (with their events), in the transaction that records the upload.
async fn submit_collections(
    tx: &mut Tx,
    file_id: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let file = tx.get_ach_file(file_id).await?;
    let ids = tx.ach_file_collection_ids(file_id).await?;
    let mut moved = Vec::with_capacity(ids.len());
    for mut c in tx.load_ach_collections(&ids).await? {
        if c.status != CollectionStatus::Batched {
            continue;
        }
        let reason = Some(format!("file {} uploaded to the bank", file.file_name));
        if c.transition(CollectionStatus::Submitted, reason, now)
            .is_ok()
        {
            moved.push(c);
        }
    }
    let written = tx
        .update_ach_collections_if(&moved, CollectionStatus::Batched)
        .await?;
    let events: Vec<Event> = moved
        .iter()
        .filter(|c| written.contains(c.id.as_str()))
        .map(|c| crate::events::status_event_row(c, now))
        .collect();
    tx.insert_events(&events).await
}

/// Write `event_type` about file `id` as it is now, in `tx`.
pub(crate) async fn file_event(
    tx: &mut Tx,
    id: &str,
    event_type: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let file = tx.get_ach_file(id).await?;
    let Some(d) = tx.get_ach_file_delivery(id).await? else {
        return Ok(());
    };
    tx.insert_event(&Event {
        id: EventId::generate(now),
        // Operator events: not in any customer's event list.
        customer_id: None,
        event_type: event_type.to_owned(),
        object_id: id.to_owned(),
        data: file_event_data(event_type, &file, &d),
        created_at: now,
    })
    .await
}

/// The delivery of outbound file `id`, checked to be outbound.
async fn outbound_delivery(tx: &mut Tx, id: &str) -> Result<FileDelivery, DeliveryError> {
    let file = tx.get_ach_file(id).await?;
    if file.direction != OUTBOUND {
        return Err(DeliveryError::NotOutbound(id.to_owned()));
    }
    tx.get_ach_file_delivery(id)
        .await?
        .ok_or_else(|| DeliveryError::NotOutbound(id.to_owned()))
}

/// An operator's retry of an `upload_failed` file: back to `built`, due
/// now, attempts counted afresh. The caller runs [`deliver_due`] next.
pub async fn retry_upload(
    store: &Store,
    file_id: &str,
    audit: &AuditContext,
    now: DateTime<Utc>,
) -> Result<FileDelivery, DeliveryError> {
    let id = file_id.to_owned();
    let audit = audit.clone();
    store
        .write(move |tx| {
            Box::pin(async move {
                let d = outbound_delivery(tx, &id).await?;
                if d.status != UPLOAD_FAILED || !tx.reset_ach_upload(&id).await? {
                    return Err(DeliveryError::WrongState {
                        file_id: id,
                        status: d.status,
                        action: "retry-upload",
                        expected: "`upload_failed`",
                    });
                }
                let after = tx.get_ach_file_delivery(&id).await?.unwrap_or(d.clone());
                audit
                    .change("ach_file.upload_retried", "ach_file", &id)
                    .before(&delivery_snapshot(&d))
                    .after(&delivery_snapshot(&after))
                    .record(tx, now)
                    .await?;
                Ok(after)
            })
        })
        .await
}

/// The file was sent by hand: record who and when (`uploaded`, with its
/// event). Only a `built` or `upload_failed` file may be marked.
pub async fn mark_uploaded(
    store: &Store,
    file_id: &str,
    by: &str,
    audit: &AuditContext,
    now: DateTime<Utc>,
) -> Result<FileDelivery, DeliveryError> {
    let (id, by) = (file_id.to_owned(), by.to_owned());
    let audit = audit.clone();
    store
        .write(move |tx| {
            Box::pin(async move {
                let d = outbound_delivery(tx, &id).await?;
                let outcome = UploadOutcome::Uploaded {
                    at: now,
                    by,
                    location: "sent by hand".into(),
                };
                if !(d.status == BUILT || d.status == UPLOAD_FAILED)
                    || !tx.finish_ach_upload(&id, &outcome).await?
                {
                    return Err(DeliveryError::WrongState {
                        file_id: id,
                        status: d.status,
                        action: "mark-uploaded",
                        expected: "`built` or `upload_failed`",
                    });
                }
                submit_collections(tx, &id, now).await?;
                file_event(tx, &id, "ach_file.uploaded", now).await?;
                let after = tx.get_ach_file_delivery(&id).await?.unwrap_or(d.clone());
                audit
                    .change("ach_file.marked_uploaded", "ach_file", &id)
                    .before(&delivery_snapshot(&d))
                    .after(&delivery_snapshot(&after))
                    .record(tx, now)
                    .await?;
                Ok(after)
            })
        })
        .await
}

/// A file's delivery state for the audit trail.
fn delivery_snapshot(d: &FileDelivery) -> serde_json::Value {
    serde_json::json!({
        "status": d.status,
        "odfiId": d.odfi_id,
        "attempts": d.attempts,
        "lastError": d.last_error,
        "uploadedAt": d.uploaded_at.map(|t| t.to_rfc3339()),
    })
}
