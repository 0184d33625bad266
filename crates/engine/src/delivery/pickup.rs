//! The inbound pickup job: every ODFI's inbound directory, polled on the
//! scheduler's tick and on demand (`POST /v1/ach/inbound/poll`).
//!
//! For each waiting file, in name order: fetch it, apply it through
//! [`crate::inbound::ingest_inbound`] (one transaction that also records
//! the file under the SHA-256 of its bytes), and only then delete or move
//! the remote file as configured. A crash after the download and before
//! the apply leaves the file on the server: the next pass applies it. A
//! crash after the apply and before the disposal leaves it there too: the
//! next pass applies it again, which the content hash turns into a
//! duplicate that changes nothing, and disposes of it. So each file is
//! applied exactly once, whatever the bank re-sends under whatever name.
//!
//! An acknowledgement — named after its outbound file by the ODFI's
//! `ack_pattern` (e.g. `{name}.ack`), or recognised by its records — is
//! matched to the outbound file by content ([`super::ack`]): one that
//! matches an `uploaded` file marks it `acknowledged` (with an
//! `ach_file.acknowledged` event), one that does not is refused and kept
//! for an operator; both are then disposed of.
//!
//! With OpenPGP configured for the ODFI, a file is decrypted with our key
//! and its signature checked against the bank's before anything else; the
//! content hash is that of the plaintext, so a file the bank encrypts
//! afresh and sends again is still a duplicate.
//!
//! A file the inbound path refuses (not NACHA, errors, not returns/NOCs,
//! not decryptable or not signed by the bank)
//! is copied to `<inbound_dir>/rejected/<odfi>-<name>` with the reasons in
//! `…error.txt` beside it, logged as an error, and then disposed of, so an
//! operator finds it and the next pass does not trip over it again.

use chrono::{DateTime, Utc};
use inflow_bank::{BankTransport, FetchedFile};
use inflow_core::crypto::Vault;
use inflow_store::Store;

use super::{Delivery, Odfi};
use crate::config::AchConfig;
use crate::files::AchError;
use crate::inbound::ingest_inbound;
use crate::leases::{with_lease, JOB_LEASE_WAIT, PICKUP_LEASE};

/// What one file of a pass came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PickedUp {
    /// Applied (its report's numbers are in the inbound file's record).
    Applied { odfi: String, name: String },
    /// Its content was applied before; only disposed of.
    Duplicate { odfi: String, name: String },
    /// The bank's acknowledgement of outbound file `file_id` (now `acknowledged`).
    Acknowledged {
        odfi: String,
        name: String,
        file_id: String,
    },
    /// Refused by the inbound path, kept locally for an operator.
    Rejected {
        odfi: String,
        name: String,
        reason: String,
    },
    /// Fetching, applying or disposing failed; tried again next pass.
    Failed {
        odfi: String,
        name: String,
        error: String,
    },
}

/// Poll every ODFI that has a transport (see the module documentation),
/// holding the `ach.pickup` lease. An ODFI whose server cannot be listed
/// is reported as one `Failed` entry with an empty name; the others are
/// still polled.
pub async fn pickup_inbound(
    store: &Store,
    vault: &Vault,
    cfg: &AchConfig,
    delivery: &Delivery,
    now: DateTime<Utc>,
) -> Result<Vec<PickedUp>, AchError> {
    pickup_inbound_waiting(store, vault, cfg, delivery, now, JOB_LEASE_WAIT).await
}

/// [`pickup_inbound`], waiting at most `wait` for the lease
/// ([`AchError::Busy`] if another node keeps it: that node is polling).
pub async fn pickup_inbound_waiting(
    store: &Store,
    vault: &Vault,
    cfg: &AchConfig,
    delivery: &Delivery,
    now: DateTime<Utc>,
    wait: std::time::Duration,
) -> Result<Vec<PickedUp>, AchError> {
    with_lease(store, PICKUP_LEASE, wait, || async {
        let mut out = Vec::new();
        for odfi in &delivery.odfis {
            if let Some(t) = odfi.transport.as_deref() {
                out.extend(pickup_one(store, vault, cfg, odfi, t, now).await);
            }
        }
        Ok(out)
    })
    .await
}

async fn pickup_one(
    store: &Store,
    vault: &Vault,
    cfg: &AchConfig,
    odfi: &Odfi,
    transport: &dyn BankTransport,
    now: DateTime<Utc>,
) -> Vec<PickedUp> {
    let listed = match transport.list_inbound().await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(odfi = %odfi.id, error = %e, "inbound directory cannot be listed");
            return vec![PickedUp::Failed {
                odfi: odfi.id.clone(),
                name: String::new(),
                error: e.to_string(),
            }];
        }
    };
    let mut out = Vec::with_capacity(listed.len());
    for file in listed {
        let name = file.name.to_string();
        let failed = |error: String| PickedUp::Failed {
            odfi: odfi.id.clone(),
            name: name.clone(),
            error,
        };
        let fetched = match transport.fetch_inbound(&file.name).await {
            Ok(f) => f,
            Err(e) => {
                tracing::error!(odfi = %odfi.id, file = %name, error = %e, "inbound file cannot be fetched");
                out.push(failed(e.to_string()));
                continue;
            }
        };
        let outcome = match open(cfg, odfi, &fetched).await {
            Ok(Ok(plaintext)) => {
                let by_name = odfi.acknowledged_name(&name);
                let records = super::ack::read(&plaintext);
                let ack = records
                    .as_ref()
                    .filter(|a| by_name.is_some() || !a.has_batches);
                let acked = if by_name.is_some() || ack.is_some() {
                    super::ack::acknowledge(store, vault, cfg, odfi, &fetched, by_name, ack, now)
                        .await
                } else {
                    Ok(None)
                };
                match acked {
                    Ok(Some(p)) => Ok(p),
                    Ok(None) => apply(store, vault, cfg, odfi, &fetched, &plaintext, now).await,
                    Err(e) => Err(e),
                }
            }
            Ok(Err(rejected)) => Ok(rejected),
            Err(e) => Err(e),
        };
        let outcome = match outcome {
            Ok(o) => o,
            Err(error) => {
                tracing::error!(odfi = %odfi.id, file = %name, %error, "inbound file not applied; left on the server");
                out.push(failed(error));
                continue;
            }
        };
        if let Err(e) = transport.dispose_inbound(&file.name).await {
            tracing::error!(odfi = %odfi.id, file = %name, error = %e, "inbound file applied but not removed from the server; the next pass sees it as a duplicate");
            out.push(failed(e.to_string()));
            continue;
        }
        out.push(outcome);
    }
    out
}

/// The plaintext of a fetched file: decrypted and verified with the
/// ODFI's OpenPGP settings (as fetched without them). `Ok(Err(_))`: refused
/// (kept in the rejected folder); `Err` when it should stay on the server.
async fn open(
    cfg: &AchConfig,
    odfi: &Odfi,
    fetched: &FetchedFile,
) -> Result<Result<Vec<u8>, PickedUp>, String> {
    let name = fetched.name.to_string();
    match odfi.pgp_in.as_ref().map(|p| p.open(&fetched.bytes)) {
        None => Ok(Ok(fetched.bytes.clone())),
        Some(Ok(opened)) => Ok(Ok(opened.plaintext)),
        Some(Err(e)) => {
            let reason = format!("OpenPGP: {e}");
            keep_rejected(cfg, odfi, fetched, &reason).await?;
            tracing::error!(odfi = %odfi.id, file = %name, %reason, "inbound file refused; kept in the rejected folder for an operator");
            Ok(Err(PickedUp::Rejected {
                odfi: odfi.id.clone(),
                name,
                reason,
            }))
        }
    }
}

/// Apply one file's plaintext; `Err` when it should stay on the server.
async fn apply(
    store: &Store,
    vault: &Vault,
    cfg: &AchConfig,
    odfi: &Odfi,
    fetched: &FetchedFile,
    plaintext: &[u8],
    now: DateTime<Utc>,
) -> Result<PickedUp, String> {
    let name = fetched.name.to_string();
    let source = format!("{}:{}", odfi.id, name);
    match ingest_inbound(store, vault, cfg, plaintext, &source, now).await {
        Ok(report) if report.duplicate => Ok(PickedUp::Duplicate {
            odfi: odfi.id.clone(),
            name,
        }),
        Ok(_) => {
            tracing::info!(odfi = %odfi.id, file = %name, "inbound file picked up and applied");
            Ok(PickedUp::Applied {
                odfi: odfi.id.clone(),
                name,
            })
        }
        Err(e) if e.is_rejection() => {
            keep_rejected(cfg, odfi, fetched, &e.details().join("\n")).await?;
            tracing::error!(odfi = %odfi.id, file = %name, error = %e, "inbound file refused; kept in the rejected folder for an operator");
            Ok(PickedUp::Rejected {
                odfi: odfi.id.clone(),
                name,
                reason: e.details().join("; "),
            })
        }
        Err(e) => Err(e.to_string()),
    }
}

/// Copy a refused file (and why) into `<inbound_dir>/rejected/`.
pub(super) async fn keep_rejected(
    cfg: &AchConfig,
    odfi: &Odfi,
    fetched: &FetchedFile,
    reason: &str,
) -> Result<(), String> {
    let dir = cfg.inbound_dir.join("rejected");
    crate::private_fs::create_dir_all_async(&dir)
        .await
        .map_err(|e| e.to_string())?;
    let base = format!("{}-{}", odfi.id, fetched.name);
    let file = dir.join(&base);
    let why = dir.join(format!("{base}.error.txt"));
    let (bytes, text) = (fetched.bytes.clone(), reason.to_owned());
    tokio::task::spawn_blocking(move || {
        crate::files::write_atomically(&file, &bytes)?;
        crate::files::write_atomically(&why, text.as_bytes())
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())
}
