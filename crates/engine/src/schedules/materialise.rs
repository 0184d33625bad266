//! The schedules job: turn each occurrence into an ordinary ACH collection
//! [`LEAD_DAYS`] calendar days before its run date, so it is `scheduled`
//! well before the cutoff that files it (the banking day before its
//! effective date) and released to `pending` by the usual release step.
//!
//! One occurrence per transaction: lock the schedule row, re-read it, create
//! the collection with its link `(schedule_id, occurrence, retry 0)` —
//! unique in the database — through the same use case as
//! `POST /v1/collections/ach` ([`create_occurrence`]), and move the
//! schedule's `next_occurrence` on, conditionally on the value read.
//! Two nodes (or a node and a stalled former lease holder) therefore can
//! never create one occurrence twice: the second transaction waits for the
//! row lock, sees the advanced schedule and does nothing; failing that, the
//! unique index refuses its insert and the transaction rolls back.
//!
//! If a rule refuses the occurrence (a [`inflow_core::Refusal`]: the payment
//! method is blocked or inactive, the destination account closed, a debit
//! limit reached, …) the schedule is paused with the reason; a store failure
//! fails the run and changes nothing. If the job runs late (every node was down), an occurrence
//! whose run date can no longer be met is collected on the earliest possible
//! effective date instead.

use std::time::Duration;

use chrono::{DateTime, Days, NaiveDate, Utc};
use inflow_core::ids::ScheduleId;
use inflow_core::schedule::ScheduleStatus;
use inflow_store::{Store, StoreError};

use super::create::create_occurrence;
use super::lifecycle::{complete_in_tx, earliest_effective_date_with, pause_in_tx, save, today};
use super::ScheduleError;
use crate::collections::ach::CollectionRules;
use crate::leases::{acquire_lease_waiting, new_holder, release_lease, JOB_LEASE_TTL};
use crate::usecase::UseCaseError;

/// The schedules job's lease.
pub const SCHEDULES_LEASE: &str = "schedules.materialise";

/// Occurrences are created this many calendar days before their run date.
pub const LEAD_DAYS: u64 = 7;

/// What one run of the job did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MaterialiseReport {
    /// Collections created.
    pub created: usize,
    /// Schedules paused because an occurrence was refused.
    pub paused: usize,
    /// Schedules completed.
    pub completed: usize,
}

enum Step {
    Created { completed: bool },
    Paused,
    Nothing,
}

/// Create every occurrence due as of `now`, holding the schedules lease
/// (waiting at most `wait` for another node's run).
pub async fn materialise_due(
    store: &Store,
    rules: &CollectionRules,
    now: DateTime<Utc>,
    wait: Duration,
) -> Result<MaterialiseReport, ScheduleError> {
    // Most ticks have nothing due: look before taking the lease.
    if due_schedules(store, through_date(now)).await?.is_empty() {
        return Ok(MaterialiseReport::default());
    }
    let holder = new_holder();
    if !acquire_lease_waiting(store, SCHEDULES_LEASE, &holder, JOB_LEASE_TTL, wait).await? {
        return Err(ScheduleError::Busy(SCHEDULES_LEASE.into()));
    }
    let result = materialise_without_lease(store, rules, now).await;
    if let Err(e) = release_lease(store, SCHEDULES_LEASE, &holder).await {
        tracing::warn!(lease = SCHEDULES_LEASE, error = %e, "lease not released; it will expire");
    }
    result
}

/// [`materialise_due`] without taking the lease: correctness never rests on
/// it (see the module documentation), so tests run two of these at once.
pub async fn materialise_without_lease(
    store: &Store,
    rules: &CollectionRules,
    now: DateTime<Utc>,
) -> Result<MaterialiseReport, ScheduleError> {
    let through = through_date(now);
    let mut report = MaterialiseReport::default();
    loop {
        let due = due_schedules(store, through).await?;
        if due.is_empty() {
            return Ok(report);
        }
        let mut progressed = false;
        for id in due {
            match materialise_one(store, rules, id, through, now).await {
                Ok(Step::Created { completed }) => {
                    report.created += 1;
                    report.completed += usize::from(completed);
                    progressed = true;
                }
                Ok(Step::Paused) => {
                    report.paused += 1;
                    progressed = true;
                }
                Ok(Step::Nothing) => {}
                // Another runner created this occurrence first: look again.
                Err(ScheduleError::Concurrent(_)) => progressed = true,
                Err(ScheduleError::Store(StoreError::Conflict(_))) => progressed = true,
                Err(e) => return Err(e),
            }
        }
        if !progressed {
            return Ok(report);
        }
    }
}

/// Occurrences with run dates up to this day are due at `now`.
fn through_date(now: DateTime<Utc>) -> NaiveDate {
    today(now)
        .checked_add_days(Days::new(LEAD_DAYS))
        .unwrap_or(NaiveDate::MAX)
}

async fn due_schedules(store: &Store, through: NaiveDate) -> Result<Vec<ScheduleId>, StoreError> {
    let mut tx = store.read().await?;
    let due = tx.schedules_due(through, 100).await?;
    tx.rollback().await?;
    Ok(due)
}

async fn materialise_one(
    store: &Store,
    rules: &CollectionRules,
    id: ScheduleId,
    through: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Step, ScheduleError> {
    let rules = rules.clone();
    store
        .write(move |tx| {
            Box::pin(async move {
                tx.lock_schedule(&id).await?;
                let mut s = tx.get_schedule(None, &id).await?;
                let Some(run_date) = s.next_run_date.filter(|d| *d <= through) else {
                    return Ok(Step::Nothing);
                };
                if s.status != ScheduleStatus::Active {
                    return Ok(Step::Nothing);
                }
                let n = s.next_occurrence;
                // The earliest date of the ODFI that files the occurrence.
                let cfg = &rules.ach;
                let assigned = crate::odfi_windows::Assignments::load(tx, cfg).await?;
                let cutoffs = assigned.cutoffs_of_parties(
                    cfg,
                    s.customer_id.as_str(),
                    s.destination_account_id.as_str(),
                );
                let earliest = earliest_effective_date_with(cfg, cutoffs, now)?;
                let date = run_date.max(earliest);
                match create_occurrence(tx, &rules, &s, n, date, now).await {
                    Ok(_) => {}
                    Err(UseCaseError::Refused(r)) => {
                        let why = format!("occurrence {n} could not be created: {}", r.message);
                        pause_in_tx(tx, cfg, &mut s, why, now).await?;
                        return Ok(Step::Paused);
                    }
                    Err(UseCaseError::Store(e)) => return Err(e.into()),
                }
                s.set_next_occurrence(&cfg.calendar, n + 1);
                s.updated_at = now;
                if s.all_created() {
                    complete_in_tx(tx, cfg, &mut s, n, now).await?;
                    return Ok(Step::Created { completed: true });
                }
                save(tx, &s, n).await?;
                Ok(Step::Created { completed: false })
            })
        })
        .await
}
