//! Delivery of outbound NACHA files to the ODFI, and pickup of what it
//! sends back.
//!
//! Every outbound file has a delivery state (`inflow_store::repo::ach_delivery`):
//! `built → uploading → uploaded → acknowledged`, or `upload_failed`. The
//! cutoff puts collections in a file as `batched`; they become `submitted`
//! (with `collection.submitted`) in the transaction that records the
//! file's upload. The ledger's `ach_submitted` posting is made at the
//! cutoff, when the entry is committed to a file.
//!
//! - [`upload::deliver_due`] (the leased delivery job, run by the scheduler
//!   and the sandbox clock) uploads every `built` file whose next attempt is
//!   due, through its ODFI's [`inflow_bank::BankTransport`]. An attempt is
//!   recorded (`uploading`, attempts + 1) and committed **before** any byte
//!   is sent; its outcome is committed after. A crash in between leaves the
//!   file `uploading`, and the next pass uploads it again: the transport
//!   sees the same bytes already under the final name and sends nothing, so
//!   a file reaches the bank once. A failed attempt that may be retried is
//!   due again after the ODFI's [`inflow_bank::RetryPolicy`] backoff; when
//!   the attempts run out, or the error is permanent (authentication, host
//!   key, conflicting file), the file is `upload_failed` with an
//!   `ach_file.upload_failed` event and an error in the log.
//! - An ODFI without a transport is the sandbox's simulated bank: its files
//!   count as uploaded as soon as they are written (`uploadedBy:
//!   sandbox-bank`).
//! - [`pickup::pickup_inbound`] polls each ODFI's inbound directory and
//!   applies what it finds through the existing inbound path (see
//!   [`pickup`] for the exactly-once argument).
//!   An acknowledgement file (named after the outbound file by the ODFI's
//!   `ack_pattern`, or recognised by its records) that matches its file by
//!   content ([`ack`]) moves an `uploaded` file to `acknowledged` with an
//!   `ach_file.acknowledged` event; one that does not is refused.
//! - Operators: [`upload::retry_upload`] and [`upload::mark_uploaded`].

pub mod ack;
pub mod pickup;
pub mod upload;

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use inflow_bank::pgp::{InboundPgp, OutboundPgp};
use inflow_bank::{BankTransport, RetryPolicy};
use inflow_store::repo::ach_delivery::FileDelivery;
use inflow_store::repo::ach_files::AchFile;
use serde::Serialize;

/// The id of the sandbox's built-in ODFI.
pub const SANDBOX_ODFI_ID: &str = "sandbox";

/// One originating bank, as the delivery and pickup jobs need it.
#[derive(Clone)]
pub struct Odfi {
    pub id: String,
    /// `None`: the sandbox's simulated bank (files count as uploaded once
    /// written; answers come through the local inbound folder).
    pub transport: Option<Arc<dyn BankTransport>>,
    pub retry: RetryPolicy,
    /// Outbound files encrypted to the bank's key and signed with ours
    /// (uploaded as `<name>.pgp`).
    pub pgp_out: Option<OutboundPgp>,
    /// Inbound files decrypted with our key and their signature verified.
    pub pgp_in: Option<InboundPgp>,
    /// The name of the bank's acknowledgement of a file, `{name}` standing
    /// for the outbound file's name (e.g. `{name}.ack`); `None`: the bank
    /// sends none.
    pub ack_pattern: Option<String>,
}

impl std::fmt::Debug for Odfi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Odfi")
            .field("id", &self.id)
            .field("transport", &self.transport.as_ref().map(|t| t.describe()))
            .field("retry", &self.retry)
            .field("pgp", &self.pgp_out.is_some())
            .finish()
    }
}

impl Odfi {
    /// The outbound file name an inbound file acknowledges, if its name
    /// fits `ack_pattern`.
    pub fn acknowledged_name<'n>(&self, inbound: &'n str) -> Option<&'n str> {
        let (prefix, suffix) = self.ack_pattern.as_deref()?.split_once("{name}")?;
        let inner = inbound.strip_prefix(prefix)?.strip_suffix(suffix)?;
        (!inner.is_empty()).then_some(inner)
    }
}

/// The ODFIs this node delivers to; the first is the default.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub odfis: Vec<Odfi>,
    /// Where the OpenPGP-protected copy of each outbound file is kept
    /// (`<name>.pgp`, written once before its first upload): encryption is
    /// randomised, so a retry must send the very bytes of the first attempt
    /// for the server to recognise them.
    pub spool_dir: PathBuf,
}

impl Delivery {
    /// The sandbox: one ODFI, the simulated bank.
    pub fn sandbox(spool_dir: PathBuf) -> Self {
        Self {
            odfis: vec![Odfi {
                id: SANDBOX_ODFI_ID.into(),
                transport: None,
                retry: RetryPolicy::default(),
                pgp_out: None,
                pgp_in: None,
                ack_pattern: None,
            }],
            spool_dir,
        }
    }

    /// The ODFI `id` names, or the default one when `id` is `None`.
    pub fn odfi(&self, id: Option<&str>) -> Option<&Odfi> {
        match id {
            Some(id) => self.odfis.iter().find(|o| o.id == id),
            None => self.odfis.first(),
        }
    }
}

/// What went wrong in the delivery work.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error(transparent)]
    Ach(#[from] crate::files::AchError),
    #[error(transparent)]
    Store(#[from] inflow_store::StoreError),
    #[error("file {0} is not an outbound file")]
    NotOutbound(String),
    #[error("file {file_id} is `{status}`; {action} needs {expected}")]
    WrongState {
        file_id: String,
        status: String,
        action: &'static str,
        expected: &'static str,
    },
    #[error("file {file_id} names ODFI `{odfi_id}`, which is not configured")]
    UnknownOdfi { file_id: String, odfi_id: String },
}

/// An outbound file's delivery, as `GET /v1/ach/files` and the
/// `ach_file.*` events show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryView {
    /// `built`, `uploading`, `uploaded`, `acknowledged` or `upload_failed`.
    pub status: String,
    pub odfi_id: Option<String>,
    /// Upload attempts made (counted afresh after an operator's retry).
    pub attempts: i64,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<String>,
    pub uploaded_at: Option<String>,
    /// `delivery-job`, `sandbox-bank`, `before-delivery-tracking`, or the
    /// operator key id that marked the file uploaded by hand.
    pub uploaded_by: Option<String>,
    /// Where the file went.
    pub location: Option<String>,
    pub acknowledged_at: Option<String>,
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl From<&FileDelivery> for DeliveryView {
    fn from(d: &FileDelivery) -> Self {
        Self {
            status: d.status.clone(),
            odfi_id: d.odfi_id.clone(),
            attempts: d.attempts,
            last_error: d.last_error.clone(),
            next_attempt_at: d.next_attempt_at.map(time),
            uploaded_at: d.uploaded_at.map(time),
            uploaded_by: d.uploaded_by.clone(),
            location: d.location.clone(),
            acknowledged_at: d.acknowledged_at.map(time),
        }
    }
}

/// The `data.object` of an `ach_file.*` event.
pub(crate) fn file_event_object(f: &AchFile, d: &FileDelivery) -> serde_json::Value {
    serde_json::json!({
        "id": f.id,
        "object": "ach_file",
        "direction": f.direction,
        "fileName": f.file_name,
        "entryCount": f.entry_count,
        "totalDebit": f.total_debit,
        "sha256": f.sha256,
        "delivery": DeliveryView::from(d),
    })
}

/// The `data` of an `ach_file.*` event: the file as `object`, and for
/// `ach_file.upload_failed` — the signal an operator must be alerted on —
/// an `alert` with what the operator needs to act without another lookup.
pub(crate) fn file_event_data(
    event_type: &str,
    f: &AchFile,
    d: &FileDelivery,
) -> serde_json::Value {
    let mut data = serde_json::json!({ "object": file_event_object(f, d) });
    if event_type == "ach_file.upload_failed" {
        data["alert"] = serde_json::json!({
            "severity": "critical",
            "summary": format!(
                "outbound ACH file {} ({}) was not delivered to ODFI {} after {} attempt(s): {}",
                f.id,
                f.file_name,
                d.odfi_id.as_deref().unwrap_or("(default)"),
                d.attempts,
                d.last_error.as_deref().unwrap_or("unknown error"),
            ),
            "fileId": f.id,
            "fileName": f.file_name,
            "odfiId": d.odfi_id,
            "attempts": d.attempts,
            "lastError": d.last_error,
            "entryCount": f.entry_count,
            "totalDebit": f.total_debit,
            "actions": [
                format!("POST /v1/ach/files/{}/retry-upload", f.id),
                format!("POST /v1/ach/files/{}/mark-uploaded", f.id),
            ],
        });
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_acknowledgement_names_its_file_through_the_pattern() {
        let mut odfi = Delivery::sandbox(PathBuf::new()).odfis.remove(0);
        assert_eq!(odfi.acknowledged_name("X.ack"), None);
        odfi.ack_pattern = Some("ACK_{name}.txt".into());
        assert_eq!(
            odfi.acknowledged_name("ACK_INFLOW-20261207-A.ach.txt"),
            Some("INFLOW-20261207-A.ach")
        );
        for other in ["INFLOW-20261207-A.ach", "ACK_.txt", "ACK_x.csv"] {
            assert_eq!(odfi.acknowledged_name(other), None, "{other}");
        }
    }
}
