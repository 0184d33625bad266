//! Claims on the files of the shared inbound folder, so that of several
//! nodes watching one folder exactly one ingests each file (the others
//! skip it). A claim is keyed by the file's name, size and modification
//! time, names its holder (see [`crate::leases::new_holder`]) and expires
//! after [`CLAIM_TTL`] of wall-clock time; a claim whose holder was a
//! process of this host that is gone is taken over at once.

use std::path::Path;
use std::time::Duration;

use chrono::Utc;
use inflow_store::{Store, StoreError};

use crate::leases::held_by_a_dead_process;

/// How long a claim lasts: far longer than ingesting one file takes.
pub const CLAIM_TTL: Duration = Duration::from_secs(600);

/// The claim key of the file at `path` (named `name`); `None` if the file
/// is gone (another node moved it since the folder was listed).
pub(crate) async fn file_key(path: &Path, name: &str) -> std::io::Result<Option<String>> {
    let meta = match tokio::fs::metadata(path).await {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    Ok(Some(format!("{name}|{}|{modified}", meta.len())))
}

/// Claim `key` for `holder`; `false` if another live holder has it.
pub(crate) async fn claim(store: &Store, key: &str, holder: &str) -> Result<bool, StoreError> {
    if try_claim(store, key, holder).await? {
        return Ok(true);
    }
    let current = {
        let mut tx = store.read().await?;
        let h = tx.inbound_file_claim_holder(key).await?;
        tx.rollback().await?;
        h
    };
    match current {
        Some(stale) if stale != holder && held_by_a_dead_process(&stale) => {
            tracing::warn!(file_key = key, holder = %stale, "the inbound file's claimant is gone; taking the file over");
            // Conditional on the holder: if another node got there first,
            // the claim below fails and this node skips the file.
            release(store, key, &stale).await?;
            try_claim(store, key, holder).await
        }
        // Released between the two statements: try once more.
        None => try_claim(store, key, holder).await,
        Some(_) => Ok(false),
    }
}

async fn try_claim(store: &Store, key: &str, holder: &str) -> Result<bool, StoreError> {
    let now = Utc::now();
    let ttl = chrono::Duration::from_std(CLAIM_TTL).unwrap_or(chrono::Duration::MAX);
    let expires_at = now + ttl;
    let (key, holder) = (key.to_owned(), holder.to_owned());
    store
        .write(move |tx| {
            Box::pin(async move {
                tx.try_claim_inbound_file(&key, &holder, expires_at, now)
                    .await
            })
        })
        .await
}

/// Drop `holder`'s claim on `key` (nothing if it no longer has it).
pub(crate) async fn release(store: &Store, key: &str, holder: &str) -> Result<bool, StoreError> {
    let (key, holder) = (key.to_owned(), holder.to_owned());
    store
        .write(move |tx| {
            Box::pin(async move { tx.release_inbound_file_claim(&key, &holder).await })
        })
        .await
}
