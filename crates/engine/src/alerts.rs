//! Alerts as events: conditions an on-call must hear of, written to the
//! outbox as operator events (no customer), so the operator's webhook
//! endpoints receive them like any other event.
//!
//! - `customer.return_rate_exceeded`: a customer's unauthorized (0.5%),
//!   administrative (3%) or overall (15%) return rate over NACHA's 60-day
//!   window went above its threshold ([`return_rates`], also the report
//!   `GET /v1/reports/return-rates` shows).
//! - `job.stalled`: a job lease expired without its holder releasing or
//!   renewing it (the holder stopped ticking: killed, hung, cut off).
//! - `ledger.check_failed`: the ledger check found an unbalanced
//!   transaction or a balance that is not the sum of its entries.
//!
//! Each alert fires **once** when its condition starts: raising it inserts
//! a row in `alert_states` (one insert wins across nodes) and writes the
//! event in the same transaction; the row is deleted — the alert re-armed —
//! when the condition is seen to have ended. `ach_file.upload_failed` and
//! `webhook_endpoint.disabled` are written where they happen (delivery, the
//! webhook dispatcher).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use inflow_core::calendar::local_date;
use inflow_core::ids::{CustomerId, EventId};
use inflow_store::repo::events::Event;
use inflow_store::repo::ledger::LedgerCheck;
use inflow_store::{Store, StoreError, Tx};

pub const RETURN_RATE_EXCEEDED: &str = "customer.return_rate_exceeded";
pub const JOB_STALLED: &str = "job.stalled";
pub const LEDGER_CHECK_FAILED: &str = "ledger.check_failed";

/// Every event type that is an alert: the three above and those written
/// where they happen. Counted by `inflow_alerts_total{type}` once committed
/// ([`crate::metrics::ALERTS`]).
pub const ALERT_EVENT_TYPES: &[&str] = &[
    RETURN_RATE_EXCEEDED,
    JOB_STALLED,
    LEDGER_CHECK_FAILED,
    "ach_file.upload_failed",
    "ach_file.acknowledgement_mismatch",
    "ach_file.offset_returned",
    "webhook_endpoint.disabled",
];

/// NACHA return codes counted as unauthorized.
pub const UNAUTHORIZED_CODES: [&str; 6] = ["R05", "R07", "R10", "R11", "R29", "R51"];
/// NACHA return codes counted as administrative.
pub const ADMINISTRATIVE_CODES: [&str; 3] = ["R02", "R03", "R04"];
/// The window the rates are measured over.
pub const RETURN_RATE_WINDOW_DAYS: i64 = 60;
pub const UNAUTHORIZED_THRESHOLD: f64 = 0.005;
pub const ADMINISTRATIVE_THRESHOLD: f64 = 0.03;
pub const OVERALL_THRESHOLD: f64 = 0.15;

/// The settings row: up to when (business clock) returns were swept.
const RETURNS_SWEPT_SETTING: &str = "alerts.returns_swept_to";

/// One rate against its threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub returns: i64,
    /// returns / debit entries (0 when there were none).
    pub rate: f64,
    pub threshold: f64,
}

impl Rate {
    fn new(returns: i64, entries: i64, threshold: f64) -> Self {
        let rate = if entries == 0 {
            0.0
        } else {
            returns as f64 / entries as f64
        };
        Rate {
            returns,
            rate,
            threshold,
        }
    }

    pub fn exceeded(&self) -> bool {
        self.rate > self.threshold
    }
}

/// A customer's return rates over the 60 days to `to`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReturnRates {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// ACH debits submitted in the window.
    pub debit_entries: i64,
    pub unauthorized: Rate,
    pub administrative: Rate,
    pub overall: Rate,
    pub by_code: BTreeMap<String, i64>,
}

impl ReturnRates {
    /// `(category, rate)` for the three categories.
    pub fn categories(&self) -> [(&'static str, Rate); 3] {
        [
            ("unauthorized", self.unauthorized),
            ("administrative", self.administrative),
            ("overall", self.overall),
        ]
    }
}

/// `customer`'s return rates over the 60 days before `now`.
pub async fn return_rates(
    tx: &mut Tx,
    customer: &CustomerId,
    now: DateTime<Utc>,
) -> Result<ReturnRates, StoreError> {
    let since = now - Duration::days(RETURN_RATE_WINDOW_DAYS);
    let entries = tx.debits_submitted_since(customer, since).await?;
    let by_code: BTreeMap<String, i64> = tx
        .returns_by_code_since(customer, since)
        .await?
        .into_iter()
        .collect();
    let count = |codes: &[&str]| -> i64 {
        by_code
            .iter()
            .filter(|(c, _)| codes.contains(&c.as_str()))
            .map(|(_, n)| n)
            .sum()
    };
    let all: i64 = by_code.values().sum();
    Ok(ReturnRates {
        from: local_date(since),
        to: local_date(now),
        debit_entries: entries,
        unauthorized: Rate::new(count(&UNAUTHORIZED_CODES), entries, UNAUTHORIZED_THRESHOLD),
        administrative: Rate::new(
            count(&ADMINISTRATIVE_CODES),
            entries,
            ADMINISTRATIVE_THRESHOLD,
        ),
        overall: Rate::new(all, entries, OVERALL_THRESHOLD),
        by_code,
    })
}

/// What one sweep raised and re-armed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SweepReport {
    pub raised: Vec<String>,
    pub cleared: Vec<String>,
}

fn operator_event(
    event_type: &str,
    object_id: &str,
    object: serde_json::Value,
    now: DateTime<Utc>,
) -> Event {
    Event {
        id: EventId::generate(now),
        customer_id: None,
        event_type: event_type.to_owned(),
        object_id: object_id.to_owned(),
        data: serde_json::json!({ "object": object }),
        created_at: now,
    }
}

/// Raise `key` and write its event, unless raised already.
async fn raise(
    tx: &mut Tx,
    key: &str,
    event: Event,
    now: DateTime<Utc>,
    report: &mut SweepReport,
) -> Result<(), StoreError> {
    if tx.raise_alert(key, &event.data.to_string(), now).await? {
        tracing::warn!(alert = %event.event_type, object = %event.object_id, "alert raised");
        tx.insert_event(&event).await?;
        report.raised.push(key.to_owned());
    }
    Ok(())
}

async fn clear(tx: &mut Tx, key: &str, report: &mut SweepReport) -> Result<(), StoreError> {
    if tx.clear_alert(key).await? {
        tracing::info!(alert = %key, "alert condition ended; re-armed");
        report.cleared.push(key.to_owned());
    }
    Ok(())
}

/// Check the return rates: raise what started, re-arm what ended (one
/// transaction). `now` is the business clock (the 60-day window).
///
/// Rates are computed for the customers with a return since the last
/// sweep (a rate only rises above its threshold when a return arrives) and
/// for those whose alert is raised (to re-arm it when the rate falls back
/// under).
pub async fn sweep_return_rates(
    store: &Store,
    now: DateTime<Utc>,
) -> Result<SweepReport, StoreError> {
    store
        .write(move |tx| {
            Box::pin(async move {
                let mut report = SweepReport::default();
                return_rates_in_tx(tx, now, &mut report).await?;
                Ok(report)
            })
        })
        .await
}

/// Check the job leases (against `wall`, the wall clock): `job.stalled`
/// for each lease past its expiry that its holder neither released nor
/// renewed; re-armed once the lease is released or taken over. Run it
/// before the jobs, which take a stale lease over.
pub async fn sweep_stalled_jobs(
    store: &Store,
    now: DateTime<Utc>,
    wall: DateTime<Utc>,
) -> Result<SweepReport, StoreError> {
    store
        .write(move |tx| {
            Box::pin(async move {
                let mut report = SweepReport::default();
                sweep_leases(tx, now, wall, &mut report).await?;
                Ok(report)
            })
        })
        .await
}

async fn return_rates_in_tx(
    tx: &mut Tx,
    now: DateTime<Utc>,
    report: &mut SweepReport,
) -> Result<(), StoreError> {
    let window_start = now - Duration::days(RETURN_RATE_WINDOW_DAYS);
    let swept_to = tx
        .get_setting(RETURNS_SWEPT_SETTING)
        .await?
        .and_then(|v| v.parse::<i64>().ok())
        .and_then(DateTime::from_timestamp_micros);
    // An hour of overlap: a return committed late with an earlier time is
    // still seen; raising is idempotent.
    let since = swept_to
        .map(|t| (t - Duration::hours(1)).max(window_start))
        .unwrap_or(window_start);
    let mut customers: Vec<CustomerId> = tx.customers_with_returns_since(since).await?;
    let prefix = format!("{RETURN_RATE_EXCEEDED}:");
    for key in tx.raised_alerts(&prefix).await? {
        if let Some(c) = key[prefix.len()..].split(':').next() {
            customers.push(CustomerId::from_trusted(c.to_owned()));
        }
    }
    customers.sort();
    customers.dedup();
    for customer in customers {
        let rates = return_rates(tx, &customer, now).await?;
        for (category, rate) in rates.categories() {
            let key = format!("{prefix}{customer}:{category}");
            if rate.exceeded() {
                let object = serde_json::json!({
                    "object": "return_rate_alert",
                    "customerId": customer.as_str(),
                    "category": category,
                    "returns": rate.returns,
                    "debitEntries": rates.debit_entries,
                    "rate": rate.rate,
                    "threshold": rate.threshold,
                    "windowDays": RETURN_RATE_WINDOW_DAYS,
                    "from": rates.from.to_string(),
                    "to": rates.to.to_string(),
                });
                let event = operator_event(RETURN_RATE_EXCEEDED, customer.as_str(), object, now);
                raise(tx, &key, event, now, report).await?;
            } else {
                clear(tx, &key, report).await?;
            }
        }
    }
    tx.put_setting(RETURNS_SWEPT_SETTING, &now.timestamp_micros().to_string())
        .await?;
    Ok(())
}

async fn sweep_leases(
    tx: &mut Tx,
    now: DateTime<Utc>,
    wall: DateTime<Utc>,
    report: &mut SweepReport,
) -> Result<(), StoreError> {
    let stale = tx.stale_leases(wall).await?;
    let prefix = format!("{JOB_STALLED}:");
    for lease in &stale {
        let key = format!("{prefix}{}", lease.name);
        let object = serde_json::json!({
            "object": "job_lease",
            "job": lease.name,
            "holder": lease.holder,
            "expiredAt": lease.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        });
        let event = operator_event(JOB_STALLED, &lease.name, object, now);
        raise(tx, &key, event, now, report).await?;
    }
    for key in tx.raised_alerts(&prefix).await? {
        let job = &key[prefix.len()..];
        if !stale.iter().any(|l| l.name == job) {
            clear(tx, &key, report).await?;
        }
    }
    Ok(())
}

/// Run the ledger check; raise `ledger.check_failed` when it fails (once,
/// until a check passes again), re-arm it when it passes. `now`: the
/// business clock, for the event.
pub async fn check_ledger(store: &Store, now: DateTime<Utc>) -> Result<LedgerCheck, StoreError> {
    let mut read = store.read().await?;
    let check = read.check_ledger().await?;
    read.rollback().await?;
    let outcome = check.clone();
    store
        .write(move |tx| {
            Box::pin(async move {
                let mut report = SweepReport::default();
                if outcome.is_ok() {
                    clear(tx, LEDGER_CHECK_FAILED, &mut report).await?;
                } else {
                    let mismatches: Vec<serde_json::Value> = outcome
                        .balance_mismatches
                        .iter()
                        .take(20)
                        .map(|(account, stored, sum)| {
                            serde_json::json!({"ledgerAccount": account, "balance": stored, "sumOfEntries": sum})
                        })
                        .collect();
                    let object = serde_json::json!({
                        "object": "ledger_check",
                        "transactions": outcome.transactions,
                        "entries": outcome.entries,
                        "accounts": outcome.accounts,
                        "unbalancedTransactions": outcome.unbalanced.iter().take(20).collect::<Vec<_>>(),
                        "unbalancedCount": outcome.unbalanced.len(),
                        "balanceMismatches": mismatches,
                        "balanceMismatchCount": outcome.balance_mismatches.len(),
                    });
                    let event = operator_event(LEDGER_CHECK_FAILED, "ledger", object, now);
                    raise(tx, LEDGER_CHECK_FAILED, event, now, &mut report).await?;
                }
                Ok::<_, StoreError>(())
            })
        })
        .await?;
    Ok(check)
}
