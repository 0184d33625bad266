//! Every Prometheus metric Inflow exports, in one place: its name, labels
//! and meaning ([`describe`]), and the small functions that record it.
//!
//! Recording goes through the `metrics` facade: without an installed
//! recorder (the CLI, unit tests) every call is a no-op. The server installs
//! a Prometheus recorder and renders it at `GET /metrics` (see the server's
//! `metrics` module and docs/operations.md, which lists these names for the
//! on-call).
//!
//! Label values are always from small fixed sets (route templates, status
//! codes, SEC codes, outcomes), never ids or amounts.
//!
//! Collection counters come from the store: every status change writes a
//! `collection.<status>` event in its transaction, and the store reports the
//! events of a transaction once it has committed ([`StoreMetrics`]). So
//! `inflow_collections_total{status="returned"}` counts exactly the returns
//! that were applied, on this node, whichever code path applied them, and
//! `inflow_alerts_total{type}` counts the alerts raised the same way.

use std::time::Duration;

use inflow_store::observe::{CommittedEvent, PoolKind, StoreObserver};
use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};

/// HTTP requests answered, by `route` (the template, e.g.
/// `/v1/collections/{id}`, or `<unmatched>`), `method` and `status`.
pub const HTTP_REQUESTS: &str = "inflow_http_requests_total";
/// Their latency in seconds, same labels.
pub const HTTP_DURATION: &str = "inflow_http_request_duration_seconds";
/// Requests carrying an `Idempotency-Key` that did not run afresh, by
/// `outcome`: `replayed` (the stored answer was returned), `key_reused`
/// (422: same key, different request), `in_flight` (409: still running).
pub const IDEMPOTENCY: &str = "inflow_idempotency_outcomes_total";
/// Requests refused because of their signature, by `reason` (the error
/// code: `signature_missing`, `signature_invalid`, `signature_replayed`,
/// `timestamp_invalid`, `timestamp_out_of_range`).
pub const SIGNATURE_FAILURES: &str = "inflow_signature_failures_total";
/// Collections that reached a status, by `rail` (`ach`, `card`), `sec_code`
/// (`PPD`, `WEB`, …; `none` for cards) and `status` (`created`, `submitted`
/// = filed with the bank, `completed`, `returned`, `failed`, …).
pub const COLLECTIONS: &str = "inflow_collections_total";
/// Their amounts in minor units (cents), same labels plus `currency`.
pub const COLLECTION_AMOUNT: &str = "inflow_collection_amount_minor_total";
/// Events written to the outbox, by `type`.
pub const EVENTS: &str = "inflow_events_total";
/// Alerts raised (their events committed), by `type`: the alert event
/// types of [`crate::alerts::ALERT_EVENT_TYPES`].
pub const ALERTS: &str = "inflow_alerts_total";
/// ACH cutoffs run, by `trigger` (`scheduled`, `manual`) and `outcome`.
pub const CUTOFFS: &str = "inflow_ach_cutoffs_total";
/// A cutoff's duration (its transaction) in seconds.
pub const CUTOFF_DURATION: &str = "inflow_ach_cutoff_duration_seconds";
/// Outbound NACHA files created by cutoffs.
pub const FILES_CREATED: &str = "inflow_ach_files_created_total";
/// Entries per outbound file (histogram).
pub const FILE_ENTRIES: &str = "inflow_ach_file_entries";
/// Bytes per outbound file written to the outbound folder (histogram).
pub const FILE_BYTES: &str = "inflow_ach_file_bytes";
/// Outbound file writes, by `outcome` (`written`, `failed`).
pub const FILE_WRITES: &str = "inflow_ach_file_writes_total";
/// Inbound (return/NOC) files read, by `outcome` (`applied`, `duplicate`,
/// `rejected`).
pub const INBOUND_FILES: &str = "inflow_ach_inbound_files_total";
/// Returns applied from inbound files.
pub const RETURNS_APPLIED: &str = "inflow_ach_returns_applied_total";
/// Notifications of change applied from inbound files.
pub const NOCS_APPLIED: &str = "inflow_ach_nocs_applied_total";
/// Webhook delivery attempts, by `outcome` (`delivered`, `retrying`,
/// `failed` = given up).
pub const WEBHOOK_DELIVERIES: &str = "inflow_webhook_deliveries_total";
/// From the event's commit to its successful delivery, in seconds
/// (business clock), per delivery.
pub const WEBHOOK_DELIVERY_LAG: &str = "inflow_webhook_delivery_lag_seconds";
/// Webhook deliveries pending (gauge, read at scrape time).
pub const WEBHOOK_QUEUE_DEPTH: &str = "inflow_webhook_queue_depth";
/// Age in seconds of the oldest pending delivery (business clock; 0 when
/// the queue is empty).
pub const WEBHOOK_OLDEST_PENDING: &str = "inflow_webhook_oldest_pending_age_seconds";
/// Card processor calls, by `operation` (`authorize`, `capture`, `void`,
/// `refund`) and `outcome` (`answered`, `refused`, `no_answer`).
pub const CARD_CALLS: &str = "inflow_card_processor_calls_total";
/// Their latency in seconds, by `operation`.
pub const CARD_CALL_DURATION: &str = "inflow_card_processor_call_duration_seconds";
/// Steps of the background tick, by `step` and `outcome` (`ok`, `error`).
pub const JOB_STEPS: &str = "inflow_job_steps_total";
/// A step's duration in seconds, by `step`.
pub const JOB_STEP_DURATION: &str = "inflow_job_step_duration_seconds";
/// How far the scheduler's position (`scheduler.last_tick`) is behind the
/// business clock, in seconds (gauge, read at scrape time).
pub const JOB_TICK_LAG: &str = "inflow_job_tick_lag_seconds";
/// Time to get a database connection and begin a transaction, by `pool`
/// (`write`, `read`), in seconds.
pub const DB_ACQUIRE: &str = "inflow_db_acquire_duration_seconds";
/// Transactions that could not begin (pool timeout, database down), by `pool`.
pub const DB_ACQUIRE_FAILURES: &str = "inflow_db_acquire_failures_total";
/// Connections open and idle, by `pool` and `state` (`open`, `idle`).
pub const DB_CONNECTIONS: &str = "inflow_db_pool_connections";
/// Parts of readiness, 1 when healthy, by `check` (`database`,
/// `outbound_folder`).
pub const READY: &str = "inflow_ready";

/// Every metric name above (the deploy/ dashboard and alert rules use only these).
pub const ALL: &[&str] = &[
    HTTP_REQUESTS,
    HTTP_DURATION,
    IDEMPOTENCY,
    SIGNATURE_FAILURES,
    COLLECTIONS,
    COLLECTION_AMOUNT,
    EVENTS,
    ALERTS,
    CUTOFFS,
    CUTOFF_DURATION,
    FILES_CREATED,
    FILE_ENTRIES,
    FILE_BYTES,
    FILE_WRITES,
    INBOUND_FILES,
    RETURNS_APPLIED,
    NOCS_APPLIED,
    WEBHOOK_DELIVERIES,
    WEBHOOK_DELIVERY_LAG,
    WEBHOOK_QUEUE_DEPTH,
    WEBHOOK_OLDEST_PENDING,
    CARD_CALLS,
    CARD_CALL_DURATION,
    JOB_STEPS,
    JOB_STEP_DURATION,
    JOB_TICK_LAG,
    DB_ACQUIRE,
    DB_ACQUIRE_FAILURES,
    DB_CONNECTIONS,
    READY,
];

/// Register every metric's help text with the installed recorder.
pub fn describe() {
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by route template, method and status"
    );
    describe_histogram!(
        HTTP_DURATION,
        metrics::Unit::Seconds,
        "HTTP request latency"
    );
    describe_counter!(
        IDEMPOTENCY,
        "Idempotent requests replayed or refused, by outcome"
    );
    describe_counter!(
        SIGNATURE_FAILURES,
        "Requests refused for their signature, by reason"
    );
    describe_counter!(
        COLLECTIONS,
        "Collections that reached a status, by rail, SEC code and status"
    );
    describe_counter!(
        COLLECTION_AMOUNT,
        "Amounts (minor units) of collections that reached a status"
    );
    describe_counter!(EVENTS, "Events written to the outbox, by type");
    describe_counter!(ALERTS, "Alerts raised (alert events committed), by type");
    describe_counter!(CUTOFFS, "ACH cutoffs run, by trigger and outcome");
    describe_histogram!(
        CUTOFF_DURATION,
        metrics::Unit::Seconds,
        "ACH cutoff duration"
    );
    describe_counter!(FILES_CREATED, "Outbound NACHA files created by cutoffs");
    describe_histogram!(
        FILE_ENTRIES,
        metrics::Unit::Count,
        "Entries per outbound NACHA file"
    );
    describe_histogram!(
        FILE_BYTES,
        metrics::Unit::Bytes,
        "Bytes per outbound NACHA file written"
    );
    describe_counter!(
        FILE_WRITES,
        "Outbound NACHA file writes to the outbound folder, by outcome"
    );
    describe_counter!(INBOUND_FILES, "Inbound return/NOC files read, by outcome");
    describe_counter!(RETURNS_APPLIED, "ACH returns applied from inbound files");
    describe_counter!(
        NOCS_APPLIED,
        "Notifications of change applied from inbound files"
    );
    describe_counter!(WEBHOOK_DELIVERIES, "Webhook delivery attempts, by outcome");
    describe_histogram!(
        WEBHOOK_DELIVERY_LAG,
        metrics::Unit::Seconds,
        "From an event's commit to its successful webhook delivery"
    );
    describe_gauge!(WEBHOOK_QUEUE_DEPTH, "Webhook deliveries pending");
    describe_gauge!(
        WEBHOOK_OLDEST_PENDING,
        metrics::Unit::Seconds,
        "Age of the oldest pending webhook delivery"
    );
    describe_counter!(CARD_CALLS, "Card processor calls, by operation and outcome");
    describe_histogram!(
        CARD_CALL_DURATION,
        metrics::Unit::Seconds,
        "Card processor call latency"
    );
    describe_counter!(JOB_STEPS, "Background tick steps run, by step and outcome");
    describe_histogram!(
        JOB_STEP_DURATION,
        metrics::Unit::Seconds,
        "Background tick step duration"
    );
    describe_gauge!(
        JOB_TICK_LAG,
        metrics::Unit::Seconds,
        "Scheduler position behind the business clock"
    );
    describe_histogram!(
        DB_ACQUIRE,
        metrics::Unit::Seconds,
        "Time to get a connection and begin a transaction"
    );
    describe_counter!(
        DB_ACQUIRE_FAILURES,
        "Transactions that could not begin, by pool"
    );
    describe_gauge!(
        DB_CONNECTIONS,
        "Database connections open and idle, by pool"
    );
    describe_gauge!(READY, "Readiness checks, 1 when healthy, by check");
}

/// Turns the store's observations into metrics; install it once with
/// `inflow_store::observe::set_observer(&StoreMetrics)`.
pub struct StoreMetrics;

impl StoreObserver for StoreMetrics {
    fn committed(&self, events: &[CommittedEvent]) {
        for e in events {
            counter!(EVENTS, "type" => e.event_type.clone()).increment(e.count);
            if crate::alerts::ALERT_EVENT_TYPES.contains(&e.event_type.as_str()) {
                counter!(ALERTS, "type" => e.event_type.clone()).increment(e.count);
            }
            let Some(status) = e.event_type.strip_prefix("collection.") else {
                continue;
            };
            if status == "updated" {
                continue;
            }
            let rail = e.rail.clone().unwrap_or_else(|| "unknown".into());
            let sec = e.sec_code.clone().unwrap_or_else(|| "none".into());
            counter!(COLLECTIONS, "rail" => rail.clone(), "sec_code" => sec.clone(), "status" => status.to_owned())
                .increment(e.count);
            if let (Some(currency), Some(minor)) = (&e.currency, e.amount_minor) {
                counter!(COLLECTION_AMOUNT, "rail" => rail, "sec_code" => sec,
                    "status" => status.to_owned(), "currency" => currency.clone())
                .increment(minor.max(0) as u64);
            }
        }
    }

    fn acquired(&self, pool: PoolKind, waited: Duration, ok: bool) {
        histogram!(DB_ACQUIRE, "pool" => pool.as_str()).record(waited.as_secs_f64());
        if !ok {
            counter!(DB_ACQUIRE_FAILURES, "pool" => pool.as_str()).increment(1);
        }
    }
}

/// One step of the background tick finished.
pub fn job_step(step: &'static str, elapsed: Duration, ok: bool) {
    let outcome = if ok { "ok" } else { "error" };
    counter!(JOB_STEPS, "step" => step, "outcome" => outcome).increment(1);
    histogram!(JOB_STEP_DURATION, "step" => step).record(elapsed.as_secs_f64());
}

/// A cutoff ran (`trigger`: `scheduled` or `manual`).
pub fn cutoff(trigger: &'static str, elapsed: Duration, ok: bool, file_entries: &[usize]) {
    let outcome = if ok { "ok" } else { "error" };
    counter!(CUTOFFS, "trigger" => trigger, "outcome" => outcome).increment(1);
    histogram!(CUTOFF_DURATION, "trigger" => trigger).record(elapsed.as_secs_f64());
    counter!(FILES_CREATED).increment(file_entries.len() as u64);
    for n in file_entries {
        histogram!(FILE_ENTRIES).record(*n as f64);
    }
}

/// A file's bytes were written to the outbound folder (or failed to be).
pub fn file_write(bytes: Option<usize>) {
    match bytes {
        Some(b) => {
            counter!(FILE_WRITES, "outcome" => "written").increment(1);
            histogram!(FILE_BYTES).record(b as f64);
        }
        None => counter!(FILE_WRITES, "outcome" => "failed").increment(1),
    }
}

/// An inbound file was read.
pub fn inbound_file(outcome: &'static str, returns: usize, nocs: usize) {
    counter!(INBOUND_FILES, "outcome" => outcome).increment(1);
    counter!(RETURNS_APPLIED).increment(returns as u64);
    counter!(NOCS_APPLIED).increment(nocs as u64);
}

/// Webhook attempts made by a dispatcher pass.
pub fn webhook_attempts(delivered: usize, retrying: usize, failed: usize) {
    for (outcome, n) in [
        ("delivered", delivered),
        ("retrying", retrying),
        ("failed", failed),
    ] {
        if n > 0 {
            counter!(WEBHOOK_DELIVERIES, "outcome" => outcome).increment(n as u64);
        }
    }
}

/// A delivery succeeded `lag` after its event was written.
pub fn webhook_delivered_after(lag: Duration) {
    histogram!(WEBHOOK_DELIVERY_LAG).record(lag.as_secs_f64());
}

/// The webhook queue, read at scrape time.
pub fn webhook_backlog(depth: i64, oldest_age: Duration) {
    gauge!(WEBHOOK_QUEUE_DEPTH).set(depth as f64);
    gauge!(WEBHOOK_OLDEST_PENDING).set(oldest_age.as_secs_f64());
}

/// A card processor call came back.
pub fn card_call(operation: &'static str, outcome: &'static str, elapsed: Duration) {
    counter!(CARD_CALLS, "operation" => operation, "outcome" => outcome).increment(1);
    histogram!(CARD_CALL_DURATION, "operation" => operation).record(elapsed.as_secs_f64());
}
