//! The watched inbound folder: every file dropped into `cfg.inbound_dir` is
//! ingested, then moved to `processed/` (ingested, or a duplicate) or to
//! `rejected/` with `<name>.error.txt` beside it listing why; folders are
//! `0700`, and each file is made `0600` as it is moved. A database
//! failure leaves the file where it is, to be retried on the next pass.
//!
//! Files whose names start with `.` or end in `.tmp`/`.part` are being
//! written by someone and are left alone; write into the folder with a
//! temporary name and rename, as the sandbox bank does.

use chrono::{DateTime, Utc};
use inflow_core::crypto::Vault;
use inflow_store::Store;
use serde::Serialize;
use std::path::{Path, PathBuf};

use super::{ingest_inbound_file, IngestReport};
use crate::config::AchConfig;
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

/// Ingest every file waiting in `cfg.inbound_dir`, oldest name first.
pub async fn ingest_inbound_dir(
    store: &Store,
    vault: &Vault,
    cfg: &AchConfig,
    now: DateTime<Utc>,
) -> std::io::Result<Vec<DirResult>> {
    let dir = &cfg.inbound_dir;
    create_dir_all_async(dir).await?;
    let processed = dir.join("processed");
    let rejected = dir.join("rejected");
    create_dir_all_async(&processed).await?;
    create_dir_all_async(&rejected).await?;

    let mut names = Vec::new();
    let mut read = tokio::fs::read_dir(dir).await?;
    while let Some(e) = read.next_entry().await? {
        if !e.file_type().await?.is_file() {
            continue;
        }
        let Ok(name) = e.file_name().into_string() else {
            continue;
        };
        if !is_in_progress(&name) {
            names.push(name);
        }
    }
    names.sort();

    let mut results = Vec::with_capacity(names.len());
    for name in names {
        let path = dir.join(&name);
        let result = ingest_inbound_file(store, vault, cfg, &path, &name, now).await;
        let (target_dir, outcome) = match result {
            Ok(report) => (&processed, DirOutcome::Processed { report }),
            Err(e) if e.is_rejection() => (
                &rejected,
                DirOutcome::Rejected {
                    errors: e.details(),
                },
            ),
            Err(e) => {
                tracing::warn!(file = %name, error = %e, "inbound ACH file not ingested; will retry");
                results.push(DirResult {
                    file_name: name,
                    path,
                    outcome: DirOutcome::Retry {
                        error: e.to_string(),
                    },
                });
                continue;
            }
        };
        let target = free_path(target_dir, &name).await;
        if let DirOutcome::Rejected { errors } = &outcome {
            tracing::warn!(file = %name, errors = errors.len(), "inbound ACH file rejected");
            let note = target.with_file_name(format!(
                "{}.error.txt",
                target.file_name().and_then(|n| n.to_str()).unwrap_or(&name)
            ));
            write_async(&note, format!("{}\n", errors.join("\n")).as_bytes()).await?;
        }
        // A bank file holds account numbers: kept for its owner only.
        make_private(&path)?;
        tokio::fs::rename(&path, &target).await?;
        results.push(DirResult {
            file_name: name,
            path: target,
            outcome,
        });
    }
    Ok(results)
}
