//! Outbound NACHA files: their bytes, and writing them to disk.
//!
//! A file's bytes are a pure function of stored rows: the `ach_files` row
//! (creation date and time, File ID Modifier, and the header fields recorded
//! in its `summary` when the cutoff created it) and its collections in
//! trace-number order. So a file left `created` by a crash is rewritten
//! byte for byte, and `GET …/content` can always rebuild it.
//!
//! Writing is atomic: a temporary file in the same directory, written and
//! fsynced, renamed over the final name, then the directory fsynced. Only
//! then does the row become `written` (with its SHA-256).

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{NaiveDate, Utc};
use inflow_core::bank::AccountType;
use inflow_core::collection::{AchCollection, TransitionError};
use inflow_core::crypto::Vault;
use inflow_store::repo::ach_files::{AchFile, OUTBOUND, STATUS_CREATED, STATUS_WRITTEN};
use inflow_store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::AchConfig;

mod batching;
mod build;
pub(crate) use batching::{entry_addenda, file_batches, plan_entry, BatchKey};
pub use build::build_file_bytes;
pub(crate) use build::{
    build_entries, entry_amount, nacha_date, offset_context, offset_parts, open_account_number,
    FileEntry, FileHeader, OffsetSide,
};

/// What can go wrong in the outbound ACH work (cutoffs, files, settlement).
#[derive(Debug, thiserror::Error)]
pub enum AchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("file {file_id} cannot be built: {reason}")]
    Build { file_id: String, reason: String },
    #[error("file {file_id}: {path}: {source}")]
    Io {
        file_id: String,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("collection {collection_id}: the account number cannot be decrypted: {reason}")]
    Decrypt {
        collection_id: String,
        reason: String,
    },
    #[error("every File ID Modifier (A-Z, 0-9) is already used for files created on {0}")]
    FileIdModifiersExhausted(NaiveDate),
    #[error("file {file_id} was written with SHA-256 {recorded} but its rows now give {rebuilt}")]
    ContentChanged {
        file_id: String,
        recorded: String,
        rebuilt: String,
    },
    #[error("{0} is not an outbound file")]
    NotOutbound(String),
    #[error("job {0} is running on another node; try again later")]
    Busy(String),
    /// The cutoff committed (its collections are filed in the files of
    /// `summary`) but writing a file's bytes to the outbound folder failed;
    /// the background tick writes files still `created` on every pass.
    #[error("the cutoff committed ({files} file(s), {entries} entries) but a file could not be written: {source}", files = summary.files.len(), entries = summary.files.iter().map(|f| f.entry_count).sum::<i64>())]
    FilesNotWritten {
        summary: Box<crate::cutoff::CutoffSummary>,
        source: Box<AchError>,
    },
    #[error(transparent)]
    Transition(#[from] TransitionError),
}

/// The file header and batch settings an outbound file was created with,
/// kept in the row's `summary` so the bytes never depend on later
/// configuration changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileHeaderInfo {
    pub immediate_destination: String,
    pub immediate_destination_name: String,
    pub immediate_origin: String,
    pub immediate_origin_name: String,
    /// The ODFI routing number (batch headers and trace prefixes).
    pub odfi_routing: String,
    /// `same_day` or `standard`.
    pub cutoff_kind: String,
    /// 1-based same-day window, for same-day cutoffs.
    pub same_day_window: Option<usize>,
    /// The banking day of the cutoff (YYYY-MM-DD).
    pub cutoff_date: String,
    /// The file header's reference code (the ODFI's `reference_code`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reference_code: String,
    /// Company identification for every batch header instead of the
    /// customer's (the ODFI's `company_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_id: Option<String>,
    /// Balanced files: the offset entries' account and traces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<OffsetInfo>,
    /// A file holding only the offset credits of debit file `offsetsOf`
    /// (an ODFI that wants debits and credits in separate files): its
    /// entries are built from that file's collections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offsets_of: Option<String>,
}

/// The offset entries of a balanced file (or of its companion credit
/// file): one per batch, crediting the operator's settlement account with
/// the batch's debit total, trace sequence `first_trace + batch index`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OffsetInfo {
    pub routing: String,
    /// The account number sealed with the vault (context
    /// `ach_offset:<debit file id>`), hex.
    pub account_sealed: String,
    pub account_type: AccountType,
    pub name: String,
    pub first_trace: i64,
    /// `true`: each offset ends its own batch; `false`: the offsets are in
    /// the companion credit file.
    pub in_file: bool,
}

/// An offset entry of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetEntry {
    pub trace_number: String,
    pub amount: i64,
}

/// The planner's offset mode for a file with header `info`.
pub(crate) fn offsets_mode(info: &FileHeaderInfo) -> nacha::plan::Offsets {
    match &info.offset {
        None => nacha::plan::Offsets::None,
        Some(o) if o.in_file && info.offsets_of.is_none() => nacha::plan::Offsets::InBatch,
        Some(_) => nacha::plan::Offsets::Elsewhere,
    }
}

impl FileHeaderInfo {
    pub(crate) fn from_config(cfg: &AchConfig, cutoff: &inflow_core::calendar::Cutoff) -> Self {
        let (kind, window) = match cutoff.kind {
            inflow_core::calendar::CutoffKind::SameDay { window } => ("same_day", Some(window + 1)),
            inflow_core::calendar::CutoffKind::Standard => ("standard", None),
        };
        FileHeaderInfo {
            immediate_destination: cfg.immediate_destination.as_string(),
            immediate_destination_name: cfg.immediate_destination_name.clone(),
            immediate_origin: cfg.immediate_origin.clone(),
            immediate_origin_name: cfg.immediate_origin_name.clone(),
            odfi_routing: cfg.odfi_routing.as_string(),
            cutoff_kind: kind.to_owned(),
            same_day_window: window,
            cutoff_date: cutoff.date.to_string(),
            reference_code: cfg.file_rules.reference_code.clone(),
            company_id: cfg.file_rules.company_id.clone(),
            offset: None,
            offsets_of: None,
        }
    }
}

/// The default outbound file name pattern.
pub const DEFAULT_FILE_NAME_PATTERN: &str = "INFLOW-{date}-{modifier}.ach";

/// The name an outbound file gets: `INFLOW-20261123-A.ach`.
pub fn outbound_file_name(creation_date: NaiveDate, modifier: char) -> String {
    file_name_from_pattern(DEFAULT_FILE_NAME_PATTERN, creation_date, modifier, "debits")
}

/// A file name from an ODFI's pattern: `{date}` (YYYYMMDD), `{yymmdd}`,
/// `{modifier}`, `{kind}` (`debits` or `credits`).
pub fn file_name_from_pattern(
    pattern: &str,
    creation_date: NaiveDate,
    modifier: char,
    kind: &str,
) -> String {
    pattern
        .replace("{date}", &creation_date.format("%Y%m%d").to_string())
        .replace("{yymmdd}", &creation_date.format("%y%m%d").to_string())
        .replace("{modifier}", &modifier.to_string())
        .replace("{kind}", kind)
}

/// Text for a NACHA alphanumeric field: upper-cased, accents dropped,
/// anything outside printable ASCII removed, at most `width` characters
/// ([`inflow_core::text::nacha_form`]).
pub fn nacha_text(s: &str, width: usize) -> String {
    inflow_core::text::nacha_form(s, width)
}

/// The individual identification number of a collection's entry: its
/// reference (NACHA text, 15 characters) or else the last 15 characters of
/// its id, upper-cased.
pub fn individual_id(c: &AchCollection) -> String {
    if let Some(r) = c.reference.as_deref() {
        let t = nacha_text(r, 15);
        if !t.is_empty() {
            return t;
        }
    }
    let id = c.id.as_str();
    id[id.len().saturating_sub(15)..].to_ascii_uppercase()
}

/// Hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// An outbound file on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenFile {
    pub file_id: String,
    pub path: PathBuf,
    pub sha256: String,
    pub bytes: usize,
    /// `false` when the file was already written and on disk unchanged.
    pub newly_written: bool,
}

/// The file row and its collections, read in one snapshot.
async fn load_file(
    store: &Store,
    file_id: &str,
) -> Result<(AchFile, Vec<AchCollection>), AchError> {
    let mut tx = store.read().await?;
    let file = tx.get_ach_file(file_id).await?;
    if file.direction != OUTBOUND {
        return Err(AchError::NotOutbound(file_id.to_owned()));
    }
    // A companion file of offset credits is built from its debit file's
    // collections.
    let info: Option<FileHeaderInfo> = file
        .summary
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok());
    let source = info
        .and_then(|i| i.offsets_of)
        .unwrap_or_else(|| file_id.to_owned());
    let ids = tx.ach_file_collection_ids(&source).await?;
    let collections = tx.load_ach_collections(&ids).await?;
    tx.rollback().await?;
    Ok((file, collections))
}

/// The bytes of outbound file `file_id`, rebuilt from its rows (identical to
/// what was written). For `GET /v1/ach/files/{id}/content`.
pub async fn file_bytes(store: &Store, vault: &Vault, file_id: &str) -> Result<Vec<u8>, AchError> {
    rebuild(store, vault, file_id).await.map(|(_, b)| b)
}

/// The row and bytes of outbound file `file_id`: a debit file from its
/// collections, a credit file (or its companion of offsets) from its
/// credit entries ([`crate::credits::build`]).
async fn rebuild(
    store: &Store,
    vault: &Vault,
    file_id: &str,
) -> Result<(AchFile, Vec<u8>), AchError> {
    use inflow_store::repo::ach_credits::contents;
    let mut tx = store.read().await?;
    let what = tx.ach_file_contents(file_id).await?;
    if what == contents::DEBITS {
        tx.rollback().await?;
        let (file, collections) = load_file(store, file_id).await?;
        let bytes = build_file_bytes(vault, &file, &collections)?;
        return Ok((file, bytes));
    }
    let file = tx.get_ach_file(file_id).await?;
    let info: Option<FileHeaderInfo> = file
        .summary
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok());
    let source = info
        .and_then(|i| i.offsets_of)
        .unwrap_or_else(|| file_id.to_owned());
    let entries = tx.ach_credit_entries_in_file(&source).await?;
    let mut ids: Vec<_> = entries.iter().map(|e| e.collection_id.clone()).collect();
    ids.sort_unstable_by(|a, b| a.as_str().cmp(b.as_str()));
    ids.dedup();
    let collections: std::collections::HashMap<String, AchCollection> = tx
        .load_ach_collections(&ids)
        .await?
        .into_iter()
        .map(|c| (c.id.to_string(), c))
        .collect();
    tx.rollback().await?;
    let mut lines = Vec::with_capacity(entries.len());
    for e in entries {
        let c = collections
            .get(e.collection_id.as_str())
            .cloned()
            .ok_or_else(|| AchError::Build {
                file_id: file_id.to_owned(),
                reason: format!(
                    "collection {} of credit entry {} is missing",
                    e.collection_id, e.id
                ),
            })?;
        lines.push((e, c));
    }
    let offsets_only = what == contents::CREDIT_OFFSETS;
    let built = crate::credits::build::build_credit_file(vault, &file, &lines, offsets_only)?;
    Ok((file, built.bytes))
}

/// Where outbound file `file` lives on disk.
pub fn outbound_path(cfg: &AchConfig, file: &AchFile) -> PathBuf {
    cfg.outbound_dir.join(&file.file_name)
}

/// Write outbound file `file_id` to `cfg.outbound_dir` (atomically) and mark
/// it `written`. A `written` file whose bytes are on disk unchanged is left
/// alone; one missing from disk is written again (the same bytes).
pub async fn write_file(
    store: &Store,
    vault: &Vault,
    cfg: &AchConfig,
    file_id: &str,
) -> Result<WrittenFile, AchError> {
    let (file, bytes) = rebuild(store, vault, file_id).await?;
    store_file(store, cfg, file, bytes).await
}

/// Put `bytes` (built from `file`'s rows) on disk atomically and mark the
/// file `written`; a file already written must come out byte-identical.
pub(crate) async fn store_file(
    store: &Store,
    cfg: &AchConfig,
    file: AchFile,
    bytes: Vec<u8>,
) -> Result<WrittenFile, AchError> {
    let sha = sha256_hex(&bytes);
    let path = outbound_path(cfg, &file);
    if file.status == STATUS_WRITTEN {
        if let Some(recorded) = file.sha256.as_deref() {
            if recorded != sha {
                return Err(AchError::ContentChanged {
                    file_id: file.id,
                    recorded: recorded.to_owned(),
                    rebuilt: sha,
                });
            }
        }
        let on_disk = tokio::fs::read(&path).await.ok();
        if on_disk.as_deref() == Some(&bytes[..]) {
            return Ok(WrittenFile {
                file_id: file.id,
                path,
                sha256: sha,
                bytes: bytes.len(),
                newly_written: false,
            });
        }
    }
    let len = bytes.len();
    let target = path.clone();
    let wrote = tokio::task::spawn_blocking(move || write_atomically(&target, &bytes))
        .await
        .map_err(|e| AchError::Io {
            file_id: file.id.clone(),
            path: path.clone(),
            source: std::io::Error::other(e.to_string()),
        })
        .and_then(|r| {
            r.map_err(|source| AchError::Io {
                file_id: file.id.clone(),
                path: path.clone(),
                source,
            })
        });
    crate::metrics::file_write(wrote.as_ref().ok().map(|_| len));
    wrote?;
    if file.status == STATUS_CREATED {
        let id = file.id.clone();
        let digest = sha.clone();
        let at = Utc::now();
        store
            .write(move |tx| {
                Box::pin(async move { tx.mark_ach_file_written(&id, &digest, at).await })
            })
            .await?;
    }
    tracing::info!(file_id = %file.id, path = %path.display(), sha256 = %sha, "outbound ACH file written");
    Ok(WrittenFile {
        file_id: file.id,
        path,
        sha256: sha,
        bytes: len,
        newly_written: true,
    })
}

/// Write every outbound file still `created` (left by a crash, or just made
/// by a cutoff), oldest first. Every file is attempted; the first error is
/// returned after all were tried.
pub async fn write_pending_files(
    store: &Store,
    vault: &Vault,
    cfg: &AchConfig,
) -> Result<Vec<WrittenFile>, AchError> {
    remove_abandoned_temp_files(&cfg.outbound_dir);
    let pending = {
        let mut tx = store.read().await?;
        let files = tx.ach_files_in_status(OUTBOUND, STATUS_CREATED).await?;
        tx.rollback().await?;
        files
    };
    let mut written = Vec::with_capacity(pending.len());
    let mut first_error = None;
    for f in pending {
        match write_file(store, vault, cfg, &f.id).await {
            Ok(w) => written.push(w),
            Err(e) => {
                tracing::error!(file_id = %f.id, error = %e, "outbound ACH file not written");
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(written),
    }
}

/// Remove the temp files a process that died while writing left in `dir`
/// (`.<name>.<pid>.<id>.tmp`, see [`write_atomically`]): they hold account
/// numbers and will never be renamed. Files of running processes stay.
/// Returns how many were removed.
pub fn remove_abandoned_temp_files(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(stem) = name.strip_prefix('.').and_then(|n| n.strip_suffix(".tmp")) else {
            continue;
        };
        let mut parts = stem.rsplitn(3, '.');
        let (_id, pid) = (parts.next(), parts.next());
        let Some(pid) = pid.and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id()
            && !crate::leases::process_running(pid)
            && std::fs::remove_file(entry.path()).is_ok()
        {
            tracing::warn!(file = %entry.path().display(), "removed a temp file left by a process that died while writing it");
            removed += 1;
        }
    }
    removed
}

/// Write `bytes` to `path` so that a crash leaves either the old file or the
/// complete new one: temp file in the same directory, fsync, rename, fsync
/// the directory. The file is readable by its owner only (it holds account
/// numbers).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    crate::private_fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let tmp = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        inflow_core::ids::new_id_body(Utc::now())
    ));
    let result = (|| {
        let mut f = crate::private_fs::new_file_options().open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_files_of_dead_writers_are_removed_and_others_kept() {
        let dir = std::env::temp_dir().join(format!(
            "inflow-tmp-sweep-{}",
            inflow_core::ids::new_id_body(Utc::now())
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let dead = dir.join(".INFLOW-20261201-A.ach.4294967290.abc.tmp");
        let mine = dir.join(format!(
            ".INFLOW-20261201-B.ach.{}.abc.tmp",
            std::process::id()
        ));
        let file = dir.join("INFLOW-20261201-A.ach");
        for p in [&dead, &mine, &file] {
            std::fs::write(p, b"x").unwrap();
        }
        assert_eq!(remove_abandoned_temp_files(&dir), 1);
        assert!(!dead.exists() && mine.exists() && file.exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
