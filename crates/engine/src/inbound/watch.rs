//! The watched inbound folder: every file dropped into `cfg.inbound_dir` is
//! ingested, then moved to `processed/` (ingested, or a duplicate) or to
//! `rejected/` with `<name>.error.txt` beside it listing why; folders are
//! `0700`, and each file is made `0600` as it is moved. A database
//! failure leaves the file where it is, to be retried on the next pass.
//!
//! Files whose names start with `.` or end in `.tmp`/`.part` are being
//! written by someone and are left alone; write into the folder with a
//! temporary name and rename, as the sandbox bank does.
//!
//! Several nodes may watch one shared folder: each file is claimed in the
//! database first ([`super::claims`]) and a node skips a file another node
//! claims. A file that is gone by the time it is read or moved (another
//! node moved it) is skipped too, not an error.

use chrono::{DateTime, Utc};
use inflow_core::crypto::Vault;
use inflow_store::Store;
use serde::Serialize;
use std::path::{Path, PathBuf};

use super::{claims, ingest_inbound_file, IngestError, IngestReport};
use crate::config::AchConfig;
use crate::leases::{mark_held, new_holder};
use crate::private_fs::{create_dir_all_async, make_private, write_async};

/// What happened to one file of the folder.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase", tag = "outcome")]
pub enum DirOutcome {
    /// Ingested (or recognised as a duplicate) and moved to `processed/`.
    Processed { report: IngestReport },
    /// Refused and moved to `rejected/`; `errors` are also in `<name>.error.txt`.
    Rejected { errors: Vec<String> },
    /// Left in place (database or file system failure); retried next time.
    Retry { error: String },
}

/// One file of a pass over the folder.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DirResult {
    pub file_name: String,
    /// Where the file is now.
    pub path: PathBuf,
    #[serde(flatten)]
    pub outcome: DirOutcome,
}

fn is_in_progress(name: &str) -> bool {
    name.starts_with('.') || name.ends_with(".tmp") || name.ends_with(".part")
}

/// A free name for `name` in `dir` (`name`, then `name.1`, `name.2`, …).
async fn free_path(dir: &Path, name: &str) -> PathBuf {
    let mut candidate = dir.join(name);
    let mut n = 1u32;
    while tokio::fs::try_exists(&candidate).await.unwrap_or(false) {
        candidate = dir.join(format!("{name}.{n}"));
        n += 1;
    }
    candidate
}

/// Ingest every file waiting in `cfg.inbound_dir`, oldest name first,
/// skipping files another node claims or moved meanwhile.
pub async fn ingest_inbound_dir(
    store: &Store,
    vault: &Vault,
    cfg: &AchConfig,
    now: DateTime<Utc>,
) -> std::io::Result<Vec<DirResult>> {
    let dir = &cfg.inbound_dir;
    create_dir_all_async(dir).await?;
    let folders = Folders {
        processed: dir.join("processed"),
        rejected: dir.join("rejected"),
    };
    create_dir_all_async(&folders.processed).await?;
    create_dir_all_async(&folders.rejected).await?;
    let names = waiting_files(dir).await?;

    let holder = new_holder();
    mark_held(&holder, true);
    let mut results = Vec::with_capacity(names.len());
    let mut outcome = Ok(());
    for name in names {
        match claimed_file(store, vault, cfg, &folders, &holder, &name, now).await {
            Ok(Some(r)) => results.push(r),
            Ok(None) => {}
            Err(e) => {
                outcome = Err(e);
                break;
            }
        }
    }
    mark_held(&holder, false);
    outcome.map(|()| results)
}

/// Where ingested and refused files go.
struct Folders {
    processed: PathBuf,
    rejected: PathBuf,
}

/// The names of the files waiting in `dir`, sorted.
async fn waiting_files(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut names = Vec::new();
    let mut read = tokio::fs::read_dir(dir).await?;
    while let Some(e) = read.next_entry().await? {
        match e.file_type().await {
            Ok(t) if t.is_file() => {}
            Ok(_) => continue,
            Err(e) if gone(&e) => continue,
            Err(e) => return Err(e),
        }
        let Ok(name) = e.file_name().into_string() else {
            continue;
        };
        if !is_in_progress(&name) {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

fn gone(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::NotFound
}

/// Claim file `name`, ingest and move it, and give the claim back; `None`
/// when another node claims it or it is gone.
async fn claimed_file(
    store: &Store,
    vault: &Vault,
    cfg: &AchConfig,
    folders: &Folders,
    holder: &str,
    name: &str,
    now: DateTime<Utc>,
) -> std::io::Result<Option<DirResult>> {
    let path = cfg.inbound_dir.join(name);
    let Some(key) = claims::file_key(&path, name).await? else {
        tracing::debug!(file = %name, "inbound file gone (moved by another node); skipped");
        return Ok(None);
    };
    match claims::claim(store, &key, holder).await {
        Ok(true) => {}
        Ok(false) => {
            tracing::debug!(file = %name, "inbound file claimed by another node; skipped");
            return Ok(None);
        }
        Err(e) => {
            tracing::warn!(file = %name, error = %e, "inbound file not claimed; will retry");
            return Ok(Some(DirResult {
                file_name: name.to_owned(),
                path,
                outcome: DirOutcome::Retry {
                    error: e.to_string(),
                },
            }));
        }
    }
    let result = ingest_and_move(store, vault, cfg, folders, &path, name, now).await;
    if let Err(e) = claims::release(store, &key, holder).await {
        tracing::warn!(file = %name, error = %e, "inbound file claim not released; it expires");
    }
    result
}

async fn ingest_and_move(
    store: &Store,
    vault: &Vault,
    cfg: &AchConfig,
    folders: &Folders,
    path: &Path,
    name: &str,
    now: DateTime<Utc>,
) -> std::io::Result<Option<DirResult>> {
    let result = ingest_inbound_file(store, vault, cfg, path, name, now).await;
    let (target_dir, outcome) = match result {
        Ok(report) => (&folders.processed, DirOutcome::Processed { report }),
        Err(IngestError::Io(e)) if gone(&e) => {
            tracing::debug!(file = %name, "inbound file gone before it was read; skipped");
            return Ok(None);
        }
        Err(e) if e.is_rejection() => (
            &folders.rejected,
            DirOutcome::Rejected {
                errors: e.details(),
            },
        ),
        Err(e) => {
            tracing::warn!(file = %name, error = %e, "inbound ACH file not ingested; will retry");
            return Ok(Some(DirResult {
                file_name: name.to_owned(),
                path: path.to_owned(),
                outcome: DirOutcome::Retry {
                    error: e.to_string(),
                },
            }));
        }
    };
    let target = free_path(target_dir, name).await;
    if let DirOutcome::Rejected { errors } = &outcome {
        tracing::warn!(file = %name, errors = errors.len(), "inbound ACH file rejected");
        let note = target.with_file_name(format!(
            "{}.error.txt",
            target.file_name().and_then(|n| n.to_str()).unwrap_or(name)
        ));
        write_async(&note, format!("{}\n", errors.join("\n")).as_bytes()).await?;
    }
    // A bank file holds account numbers: kept for its owner only.
    let moved = match make_private(path) {
        Ok(_) => tokio::fs::rename(path, &target).await,
        Err(e) => Err(e),
    };
    match moved {
        Ok(()) => Ok(Some(DirResult {
            file_name: name.to_owned(),
            path: target,
            outcome,
        })),
        Err(e) if gone(&e) => {
            tracing::warn!(file = %name, "inbound file moved by someone else while it was ingested");
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use inflow_core::bank::RoutingNumber;
    use inflow_core::crypto::MasterKey;
    use inflow_store::testing::{TestBackend, TestDb};

    fn config(dir: &Path) -> AchConfig {
        AchConfig {
            immediate_destination: RoutingNumber::parse("x", "231380104").unwrap(),
            immediate_destination_name: "FEDERAL RESERVE BANK".into(),
            immediate_origin: "1234567890".into(),
            immediate_origin_name: "INFLOW".into(),
            odfi_routing: RoutingNumber::parse("x", "121042882").unwrap(),
            outbound_dir: dir.join("outbound"),
            inbound_dir: dir.join("inbound"),
            good_funds_banking_days: 2,
            prenote_wait_banking_days: 3,
            calendar: inflow_core::calendar::BankingCalendar::federal_reserve(),
            cutoffs: Default::default(),
            effective_date_horizon_days: 365,
            sandbox_bank: true,
            max_entries_per_file: crate::config::DEFAULT_MAX_ENTRIES_PER_FILE,
            debit_limits: Default::default(),
            file_rules: Default::default(),
            odfis: Vec::new(),
        }
    }

    /// A file listed but gone before it is claimed, or before it is read
    /// (another node moved it), is skipped: no result, no error.
    #[tokio::test]
    async fn a_file_gone_after_the_listing_is_skipped_not_an_error() {
        for backend in [TestBackend::Sqlite, TestBackend::Postgres] {
            gone_file_skipped(backend).await;
        }
    }

    async fn gone_file_skipped(backend: TestBackend) {
        let db = TestDb::new(backend).await;
        let dir = std::env::temp_dir().join(format!(
            "inflow-gone-{}",
            inflow_core::ids::new_id_body(Utc::now())
        ));
        let cfg = config(&dir);
        std::fs::create_dir_all(&cfg.inbound_dir).unwrap();
        let folders = Folders {
            processed: cfg.inbound_dir.join("processed"),
            rejected: cfg.inbound_dir.join("rejected"),
        };
        let vault = Vault::new(&MasterKey::generate());
        let holder = new_holder();
        let (store, now) = (&db.store, Utc::now());
        let gone = "moved-by-another-node.ach";
        let claimed = claimed_file(store, &vault, &cfg, &folders, &holder, gone, now).await;
        assert!(matches!(claimed, Ok(None)), "{claimed:?}");
        let path = cfg.inbound_dir.join(gone);
        let read = ingest_and_move(store, &vault, &cfg, &folders, &path, gone, now).await;
        assert!(matches!(read, Ok(None)), "{read:?}");
        let _ = std::fs::remove_dir_all(dir);
    }
}
