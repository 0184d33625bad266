//! Pushing daily files to customers' own folders (`[[report_delivery]]`):
//! in a deployment with bank connectivity, a customer's files (its customer
//! file and its accounts' files, as CSV) are uploaded through an
//! [`inflow_bank::BankTransport`] (SFTP or a local folder) like the ODFI
//! delivery.
//!
//! A file is queued in the transaction that creates it when its customer
//! has a destination ([`super::generate_in_tx`]). [`push_due`] (leased, run
//! after the files are produced) records each attempt before sending a
//! byte, then its outcome: `uploaded` with its location, or due again
//! after the destination's retry backoff, or `failed` when the attempts run
//! out or the error is permanent. A crash between the two leaves the push
//! pending; the next attempt finds the same bytes under the final name and
//! sends nothing (the transport's `already_present`).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use inflow_bank::{BankTransport, FileName, RetryPolicy};
use inflow_store::{Store, StoreError};

use super::file_name;
use super::rows::jsonl_to_csv;
use crate::files::AchError;
use crate::leases::with_lease;

/// The lease of the push job.
pub const PUSH_LEASE: &str = "reports.daily_files.push";
/// Pushes one pass takes at most.
const BATCH: i64 = 200;

/// Where one customer's files go.
#[derive(Clone)]
pub struct ReportDestination {
    pub customer_id: String,
    pub transport: Arc<dyn BankTransport>,
    pub retry: RetryPolicy,
}

impl std::fmt::Debug for ReportDestination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportDestination")
            .field("customer_id", &self.customer_id)
            .field("transport", &self.transport.describe())
            .finish()
    }
}

/// Every configured destination (none: files are only downloaded).
#[derive(Debug, Clone, Default)]
pub struct ReportDelivery {
    pub destinations: Vec<ReportDestination>,
}

impl ReportDelivery {
    /// The customers whose files are pushed.
    pub fn customers(&self) -> BTreeSet<String> {
        self.destinations
            .iter()
            .map(|d| d.customer_id.clone())
            .collect()
    }

    fn destination(&self, customer: &str) -> Option<&ReportDestination> {
        self.destinations.iter().find(|d| d.customer_id == customer)
    }
}

/// What a push pass did (file ids).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushReport {
    pub uploaded: Vec<String>,
    pub retrying: Vec<String>,
    pub failed: Vec<String>,
}

/// Push every queued file that is due, holding the push lease (waiting at
/// most `wait` for another node).
pub async fn push_due(
    store: &Store,
    delivery: &ReportDelivery,
    now: DateTime<Utc>,
    wait: Duration,
) -> Result<PushReport, AchError> {
    with_lease(store, PUSH_LEASE, wait, || {
        push_unleased(store, delivery, now)
    })
    .await
}

fn after(now: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

async fn push_unleased(
    store: &Store,
    delivery: &ReportDelivery,
    now: DateTime<Utc>,
) -> Result<PushReport, AchError> {
    let mut report = PushReport::default();
    let mut tx = store.read().await?;
    let due = tx.due_daily_file_deliveries(now, BATCH).await?;
    tx.rollback().await?;
    for d in due {
        let id = d.file_id.clone();
        let Some(dest) = delivery.destination(&d.customer_id) else {
            record(
                store,
                &id,
                "no [[report_delivery]] is configured for this customer",
                None,
            )
            .await?;
            report.failed.push(id);
            continue;
        };
        let mut tx = store.read().await?;
        let (file, content) = tx.get_daily_file(&id).await?;
        tx.rollback().await?;
        let bytes = jsonl_to_csv(&content)
            .map_err(|e| StoreError::Corrupt(format!("daily file {id}: {e}")))?;
        let name = FileName::new(file_name(&file, "csv"))
            .map_err(|e| StoreError::Corrupt(format!("daily file {id}: {e}")))?;
        let attempt = u32::try_from(d.attempts)
            .unwrap_or(u32::MAX)
            .saturating_add(1);
        let next_backoff = dest.retry.backoff_before(attempt.saturating_add(1));
        // Should this attempt never report back, the next one is due then.
        let retry_at = after(now, next_backoff.unwrap_or(dest.retry.max_backoff));
        let started = {
            let id = id.clone();
            store
                .write(move |tx| {
                    Box::pin(async move { tx.start_daily_file_attempt(&id, retry_at).await })
                })
                .await?
        };
        if !started {
            continue;
        }
        match dest.transport.upload(&name, &bytes).await {
            Ok(receipt) => {
                let (id2, location) = (id.clone(), receipt.location.clone());
                store
                    .write(move |tx| {
                        Box::pin(async move {
                            tx.record_daily_file_uploaded(&id2, &location, now).await
                        })
                    })
                    .await?;
                report.uploaded.push(id);
            }
            Err(e) => {
                let retry = e.is_retryable().then_some(next_backoff).flatten();
                let message = e.to_string();
                tracing::warn!(file = %id, customer = %d.customer_id, error = %message,
                    retry = retry.is_some(), "daily file push failed");
                record(store, &id, &message, retry.map(|b| after(now, b))).await?;
                if retry.is_some() {
                    report.retrying.push(id);
                } else {
                    report.failed.push(id);
                }
            }
        }
    }
    Ok(report)
}

async fn record(
    store: &Store,
    id: &str,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
) -> Result<(), StoreError> {
    let (id, error) = (id.to_owned(), error.to_owned());
    store
        .write(move |tx| {
            Box::pin(async move {
                tx.record_daily_file_attempt_failed(&id, &error, retry_at)
                    .await
            })
        })
        .await
}
