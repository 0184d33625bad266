//! Inbound ACH: the return and notification-of-change (NOC) files the bank
//! sends back, applied to collections and saved payment methods.
//!
//! [`ingest_inbound`] (bytes in memory) and [`ingest_inbound_file`] (a file
//! on disk, read as a stream: see [`read`]) validate a file in the default
//! (tolerant) mode — a bank's file whose redundant file-control tallies are
//! off must not lose its returns — and refuse a file with *errors*, listing
//! them, without changing anything. Otherwise, in **one** transaction, a
//! chunk of entries at a time ([`bulk`]):
//!
//! 1. the file is recorded in `ach_files` (direction `inbound`, keyed by the
//!    SHA-256 of its bytes): the same bytes a second time are a duplicate
//!    and change nothing;
//! 2. every return (addenda 99) and NOC (addenda 98) entry is recorded in
//!    `ach_returns`, matched to a collection by the original entry trace
//!    number or recorded as unmatched — never dropped. An entry already
//!    recorded (the same return in another file) is not applied again;
//! 3. a matched return moves its collection to `returned` (from
//!    `submitted`, `processing` or `completed`: late returns are normal)
//!    with the code, the return trace and a reason like
//!    `R01: Insufficient funds`, plus a `collection.returned` event; codes
//!    that say the account is unusable ([`BLOCKING_RETURN_CODES`]) also
//!    block the saved payment method (`payment_method.updated`) and fail
//!    every other collection on it not yet in a file
//!    ([`crate::status_changes::payment_method_blocked_by_return`]);
//! 4. a matched NOC sets the collection's `noc_code`/`noc_corrected_data`
//!    (`collection.updated`) — the corrected data sealed, shown with its
//!    account number masked ([`corrected`]) — and corrects the saved payment method
//!    (C01/C02/C03/C05/C06/C07; C04 and C09 are recorded only), re-sealing
//!    the account number and recomputing last4 and fingerprint
//!    (`payment_method.updated`). Refused NOCs are recorded only.
//!
//! Dishonored (R61–R70) and contested (R71–R77) returns are recorded with
//! their kind and matched, but move nothing: they are an argument between
//! the banks about a return, not a new return of the debit.
//!
//! [`ingest_inbound_dir`] does the same for every file in the watched
//! folder `cfg.inbound_dir`, moving each to `processed/` or `rejected/`.

mod apply;
mod bulk;
mod claims;
pub mod corrected;
pub mod legacy;
mod read;
mod watch;

use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use inflow_core::crypto::Vault;
use inflow_store::repo::returns::InboundFile;
use inflow_store::{Store, StoreError};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::AchConfig;
use nacha::reader::ReadLines;
use read::Source;

pub use claims::CLAIM_TTL;
pub use watch::{ingest_inbound_dir, DirOutcome, DirResult};

/// Return codes after which the account cannot be debited again: the saved
/// payment method is blocked (closed, no account, invalid number,
/// authorization revoked, not authorized, frozen, non-transaction account,
/// corporate not authorized).
pub const BLOCKING_RETURN_CODES: &[&str] = &[
    "R02", "R03", "R04", "R05", "R07", "R10", "R16", "R20", "R29",
];

/// Why an inbound file was refused. Nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The file is empty.
    #[error("the file is empty")]
    Empty,
    /// The NACHA reader could not model the file at all.
    #[error("not a readable NACHA file: {0}")]
    Unreadable(String),
    /// The file has validation errors (one line each, `line N: …`).
    #[error("the file has {} error(s):\n{}", .0.len(), .0.join("\n"))]
    Invalid(Vec<String>),
    /// Entries that are neither returns nor NOCs (a forward file sent to the inbound side?).
    #[error("the file contains entries that are neither returns nor notifications of change:\n{}", .0.join("\n"))]
    NotReturnsOrNocs(Vec<String>),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Applying an entry failed (say, releasing debits held for a prenote).
    #[error(transparent)]
    Ach(#[from] crate::files::AchError),
    /// A schedule rule (stop, retry, pause) could not be applied.
    #[error(transparent)]
    Schedule(#[from] crate::schedules::ScheduleError),
    /// The file could not be read (from disk); nothing was changed.
    #[error("the file could not be read: {0}")]
    Io(#[from] std::io::Error),
}

impl IngestError {
    /// The problems one per line, for an API error or a `.error.txt` file.
    pub fn details(&self) -> Vec<String> {
        match self {
            IngestError::Invalid(v) | IngestError::NotReturnsOrNocs(v) => v.clone(),
            other => vec![other.to_string()],
        }
    }

    /// The file itself is bad (as opposed to the database failing): retrying will not help.
    pub fn is_rejection(&self) -> bool {
        !matches!(
            self,
            IngestError::Store(_) | IngestError::Schedule(_) | IngestError::Io(_)
        )
    }
}

/// What happened to one return/NOC entry of the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IngestedEntry {
    /// `ret_…`; `None` when the entry had been recorded before (from another file).
    pub return_id: Option<String>,
    /// `return`, `noc`, `dishonored_return`, `contested_return`, `refused_noc`.
    pub kind: String,
    pub code: String,
    pub description: Option<String>,
    pub original_trace: String,
    pub entry_trace: String,
    pub collection_id: Option<String>,
    pub matched: bool,
    /// A return of a balanced file's offset entry: the outbound file that
    /// carried it (no collection is touched).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset_of_file_id: Option<String>,
    /// The entry was already recorded from an earlier file; nothing was applied.
    pub already_recorded: bool,
    /// The return's free addenda information, if any.
    pub addenda_information: Option<String>,
    /// What was done, e.g. `collection returned`, `payment method blocked`.
    pub outcome: Vec<String>,
}

/// What ingesting a file did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct IngestReport {
    /// The `ach_files` id (of the earlier file when `duplicate`).
    pub file_id: String,
    pub file_name: String,
    pub sha256: String,
    /// The same bytes were ingested before; nothing changed.
    pub duplicate: bool,
    pub returns_matched: u32,
    pub returns_unmatched: u32,
    /// Returns of balanced files' offset entries (the bank refused the
    /// credit to the settlement account): matched to their file, not
    /// counted as unmatched.
    pub offset_returns: u32,
    pub nocs_matched: u32,
    pub nocs_unmatched: u32,
    /// Entries already recorded from another file (not applied again).
    pub already_recorded: u32,
    /// Collections whose status or NOC fields changed.
    pub collections_changed: u32,
    /// Payment methods blocked or corrected.
    pub payment_methods_updated: u32,
    /// Warnings of the tolerant validation and anything not applied, one
    /// per line; the first [`REPORT_LIST_LIMIT`].
    pub warnings: Vec<String>,
    /// Warnings beyond [`REPORT_LIST_LIMIT`], counted but not listed.
    pub warnings_omitted: u32,
    /// What happened to each entry, in file order; the first
    /// [`REPORT_LIST_LIMIT`] (every entry is in `ach_returns`).
    pub entries: Vec<IngestedEntry>,
    /// Entries beyond [`REPORT_LIST_LIMIT`], applied but not listed.
    pub entries_omitted: u32,
}

/// The most entries (and warnings) a report lists: a bank file of 100,000
/// returns must not make a 40 MB report, held in memory, stored with the
/// file and sent back to the uploader. Every entry is recorded in
/// `ach_returns` whatever the report lists.
pub const REPORT_LIST_LIMIT: usize = 1_000;

impl IngestReport {
    /// Add `entries`, listing them up to [`REPORT_LIST_LIMIT`].
    pub(crate) fn list_entries(&mut self, entries: Vec<IngestedEntry>) {
        let room = REPORT_LIST_LIMIT.saturating_sub(self.entries.len());
        let total = entries.len();
        self.entries.extend(entries.into_iter().take(room));
        self.entries_omitted += total.saturating_sub(room) as u32;
    }

    /// Drop the warnings beyond [`REPORT_LIST_LIMIT`], counting them.
    pub(crate) fn bound_warnings(&mut self) {
        if self.warnings.len() > REPORT_LIST_LIMIT {
            self.warnings_omitted += (self.warnings.len() - REPORT_LIST_LIMIT) as u32;
            self.warnings.truncate(REPORT_LIST_LIMIT);
        }
    }
}

/// One return or NOC entry as read from the file.
#[derive(Debug, Clone)]
pub(crate) struct InboundItem {
    pub line: u64,
    pub kind: &'static str,
    pub code: String,
    pub original_trace: String,
    pub entry_trace: String,
    pub amount: i64,
    pub corrected_data: Option<String>,
    pub correction: Option<nacha::Correction>,
    pub addenda_information: String,
}

/// Hex SHA-256 of the bytes: the identity of an inbound file.
pub fn content_sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

pub(crate) fn yymmdd(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let y: i32 = s[0..2].parse().ok()?;
    let m: u32 = s[2..4].parse().ok()?;
    let d: u32 = s[4..6].parse().ok()?;
    NaiveDate::from_ymd_opt(2000 + y, m, d)
}

/// Ingest one return/NOC file held in memory (see the module
/// documentation). `source_name` is recorded as the file name (an upload's
/// name, or the picked-up file's).
///
/// Refused files ([`IngestError::is_rejection`]) change nothing. The same
/// bytes ingested again give `duplicate: true` and change nothing.
pub async fn ingest_inbound(
    store: &Store,
    vault: &Vault,
    cfg: &AchConfig,
    bytes: &[u8],
    source_name: &str,
    now: DateTime<Utc>,
) -> Result<IngestReport, IngestError> {
    let source = Source::Bytes(bytes.into());
    ingest(store, vault, cfg, source, source_name, now).await
}

/// [`ingest_inbound`] for a file on disk (an upload's temp file, a file
/// picked up from the watched folder), read as a stream — twice: once to
/// hash, validate and count it, once inside the transaction a chunk at a
/// time — so memory does not grow with the file. The file must not change
/// while it is ingested.
pub async fn ingest_inbound_file(
    store: &Store,
    vault: &Vault,
    cfg: &AchConfig,
    path: &Path,
    source_name: &str,
    now: DateTime<Utc>,
) -> Result<IngestReport, IngestError> {
    let source = Source::Path(path.to_owned());
    ingest(store, vault, cfg, source, source_name, now).await
}

async fn ingest(
    store: &Store,
    vault: &Vault,
    cfg: &AchConfig,
    source: Source,
    source_name: &str,
    now: DateTime<Utc>,
) -> Result<IngestReport, IngestError> {
    let result = ingest_counted(store, vault, cfg, source, source_name, now).await;
    match &result {
        Ok(r) if r.duplicate => crate::metrics::inbound_file("duplicate", 0, 0),
        Ok(r) => crate::metrics::inbound_file(
            "applied",
            r.returns_matched as usize,
            r.nocs_matched as usize,
        ),
        Err(e) if e.is_rejection() => crate::metrics::inbound_file("rejected", 0, 0),
        Err(_) => crate::metrics::inbound_file("error", 0, 0),
    }
    result
}

async fn ingest_counted(
    store: &Store,
    vault: &Vault,
    cfg: &AchConfig,
    source: Source,
    source_name: &str,
    now: DateTime<Utc>,
) -> Result<IngestReport, IngestError> {
    let scanned = read::scan(&source)?;
    let file = InboundFile {
        id: format!("fil_{}", inflow_core::ids::new_id_body(now)),
        status: "processed".into(),
        file_name: source_name.to_owned(),
        creation_date: scanned.creation_date,
        batch_count: scanned.batch_count,
        entry_count: scanned.entry_count,
        total_debit: scanned.total_debit,
        total_credit: scanned.total_credit,
        sha256: scanned.sha256.clone(),
        summary: None,
        created_at: now,
    };
    let vault = vault.clone();
    let cfg = cfg.clone();
    let report = store
        .write(move |tx| {
            Box::pin(async move {
                if !tx.insert_inbound_file(&file).await? {
                    let id = tx
                        .inbound_file_by_sha256(&file.sha256)
                        .await?
                        .unwrap_or_default();
                    return Ok::<_, IngestError>(IngestReport {
                        file_id: id,
                        file_name: file.file_name.clone(),
                        sha256: file.sha256.clone(),
                        duplicate: true,
                        ..IngestReport::default()
                    });
                }
                let mut report = IngestReport {
                    file_id: file.id.clone(),
                    file_name: file.file_name.clone(),
                    sha256: file.sha256.clone(),
                    warnings: scanned.warnings.clone(),
                    warnings_omitted: scanned.warnings_omitted,
                    ..IngestReport::default()
                };
                let mut lines = ReadLines::new(source.open()?);
                let mut items = read::Items::new(lines.by_ref());
                let applied =
                    bulk::apply_items(tx, &vault, &cfg, &file.id, &mut items, now, &mut report)
                        .await?;
                drop(items);
                if let Some(e) = lines.take_io_error() {
                    return Err(e.into());
                }
                if applied != scanned.item_count {
                    return Err(IngestError::Io(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        "the file changed while it was ingested",
                    )));
                }
                report.bound_warnings();
                let summary = serde_json::to_string(&report).unwrap_or_else(|_| "{}".into());
                tx.set_inbound_file_summary(&file.id, &summary).await?;
                Ok(report)
            })
        })
        .await?;
    if report.duplicate {
        tracing::info!(file = %report.file_id, name = source_name, "inbound ACH file already ingested");
    } else {
        tracing::info!(
            file = %report.file_id,
            name = source_name,
            returns_matched = report.returns_matched,
            returns_unmatched = report.returns_unmatched,
            nocs_matched = report.nocs_matched,
            nocs_unmatched = report.nocs_unmatched,
            "inbound ACH file ingested"
        );
    }
    Ok(report)
}
