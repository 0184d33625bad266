//! The ACH background work, in the order time makes it happen: recurring
//! schedules' occurrences become collections (the schedules job), cutoffs and
//! settlement (the engine's scheduler tick), the delivery job (built files
//! uploaded to their ODFI), then — in sandbox mode — the
//! simulated bank's answers, then whatever return/NOC files are waiting in
//! the inbound folder and in each ODFI's inbound directory, then the card rail's jobs (processor calls without
//! an answer, expired authorizations, the daily batch close), and last the daily reconciliation files of
//! every day that is now over (after all of that day's settlement). Moving the sandbox clock also runs the webhook
//! deliveries (and retries) that fall due on the way. The alert sweeps
//! (`inflow_engine::alerts`) bracket the work: stalled jobs first (before a
//! job takes a stale lease over), return rates over their thresholds after
//! the card jobs.

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use inflow_engine::files::AchError;
use inflow_engine::leases::{
    acquire_lease_waiting, new_holder, release_lease, API_LEASE_WAIT, JOB_LEASE_TTL,
    SCHEDULER_LEASE,
};
use inflow_engine::{cards, daily_files, inbound, sandbox_bank, scheduler, schedules};
use serde::Serialize;
use tracing::Instrument;

use crate::state::AppState;

/// How long a background pass waits for the delivery or pickup lease
/// before leaving the work to the node that holds it.
const BACKGROUND_LEASE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// What one pass did, for logs and for the clock-advance response.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobsReport {
    pub occurrences_created: usize,
    pub cutoffs_run: usize,
    pub files_written: usize,
    pub settled_processing: usize,
    pub settled_completed: usize,
    pub bank_files_delivered: usize,
    pub inbound_files_processed: usize,
    /// Outbound files uploaded to their ODFI, attempts that failed and will
    /// be retried, and files now `upload_failed`.
    pub files_uploaded: usize,
    pub uploads_retrying: usize,
    pub uploads_failed: usize,
    /// Files picked up from the ODFIs' inbound directories (applied,
    /// duplicate or rejected).
    pub files_picked_up: usize,
    /// Webhook attempts made, and deliveries that succeeded, along the way.
    pub webhook_attempts: usize,
    pub webhooks_delivered: usize,
    /// Card processor calls a retry answered, authorizations voided on
    /// expiry, batch closes and the card collections they settled.
    pub card_calls_resolved: usize,
    pub card_authorizations_expired: usize,
    pub card_batches_closed: usize,
    pub card_collections_settled: usize,
    /// Banking days whose daily reconciliation files were produced.
    pub daily_file_days: usize,
    /// Daily files pushed to customers' folders (`[[report_delivery]]`).
    pub daily_files_pushed: usize,
    /// Alerts raised by this pass (`customer.return_rate_exceeded`, `job.stalled`).
    pub alerts_raised: usize,
}

/// The steps of [`run_due`] that failed, each with its error; the steps
/// after a failed one still ran.
#[derive(Debug)]
pub struct StepsFailed(pub Vec<anyhow::Error>);

impl std::fmt::Display for StepsFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0.len();
        write!(f, "{n} background job step(s) failed (the others ran)")?;
        for e in &self.0 {
            write!(f, "; {e:#}")?;
        }
        Ok(())
    }
}

impl std::error::Error for StepsFailed {}

/// Runs one step inside a `job_step` span (field `step`): its outcome and
/// duration are counted (`inflow_job_steps_total`), a failure is logged
/// and kept, and `None` lets the next step run.
async fn step<T, E>(
    name: &'static str,
    what: &'static str,
    failures: &mut Vec<anyhow::Error>,
    work: impl std::future::Future<Output = Result<T, E>>,
) -> Option<T>
where
    E: Into<anyhow::Error>,
{
    let started = std::time::Instant::now();
    let result = work
        .instrument(tracing::info_span!("job_step", step = name))
        .await;
    inflow_engine::metrics::job_step(name, started.elapsed(), result.is_ok());
    match result {
        Ok(v) => Some(v),
        Err(e) => {
            let e = e.into().context(what);
            tracing::warn!(step = name, error = %format!("{e:#}"), "background job step failed; the others still run");
            failures.push(e);
            None
        }
    }
}

/// Run everything due in `(from, to]`. Every step runs even when an earlier
/// one failed (an unwritable outbound folder must not stop settlement,
/// returns or the card jobs); the error then lists the steps that failed
/// ([`StepsFailed`]).
pub async fn run_due(
    state: &AppState,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    lease: SchedulerLease<'_>,
) -> anyhow::Result<JobsReport> {
    let mut report = JobsReport::default();
    let mut failed = Vec::new();
    // Before the jobs, which take a stale lease over.
    if let Some(stalled) = step(
        "alerts_stalled_jobs",
        "the alert sweep (stalled jobs)",
        &mut failed,
        inflow_engine::alerts::sweep_stalled_jobs(&state.store, to, state.wall_clock.now()),
    )
    .await
    {
        report.alerts_raised += stalled.raised.len();
    }
    if let Some(r) = step(
        "schedules",
        "the schedules job (recurring occurrences)",
        &mut failed,
        schedules::materialise_due(
            &state.store,
            &state.collection_rules(),
            to,
            inflow_engine::leases::JOB_LEASE_WAIT,
        ),
    )
    .await
    {
        report.occurrences_created = r.created;
    }
    let tick = step(
        "scheduler",
        "the ACH scheduler (cutoffs, delivery and settlement)",
        &mut failed,
        scheduler_tick(state, from, to, lease),
    )
    .await
    .flatten();
    if let Some(tick) = &tick {
        report.cutoffs_run = tick.cutoffs.len();
        report.files_written = tick.files_written.len();
        report.settled_processing = tick.settlement.processing;
        report.settled_completed = tick.settlement.completed;
    }
    // Another node holding the delivery lease is delivering: not this pass.
    let delivered = step(
        "delivery",
        "the delivery of files to the ODFI",
        &mut failed,
        async {
            match inflow_engine::delivery::upload::deliver_due_waiting(
                &state.store,
                &state.vault,
                &state.delivery,
                to,
                BACKGROUND_LEASE_WAIT,
            )
            .await
            {
                Ok(d) => Ok(Some(d)),
                Err(AchError::Busy(lease)) => {
                    tracing::debug!(%lease, "delivery running on another node");
                    Ok(None)
                }
                Err(e) => Err(e),
            }
        },
    )
    .await
    .flatten();
    let in_tick = tick.as_ref().map(|t| &t.delivery);
    let count = |f: fn(&inflow_engine::delivery::upload::DeliveryReport) -> usize| {
        in_tick.map(f).unwrap_or(0) + delivered.as_ref().map(f).unwrap_or(0)
    };
    report.files_uploaded = count(|d| d.uploaded.len());
    report.uploads_retrying = count(|d| d.retrying.len());
    report.uploads_failed = count(|d| d.failed.len());
    if state.ach.sandbox_bank {
        report.bank_files_delivered = step(
            "sandbox_bank",
            "the sandbox bank (return and NOC files)",
            &mut failed,
            sandbox_bank::deliver_due(&state.store, &state.ach, to),
        )
        .await
        .map(|f| f.len())
        .unwrap_or(0);
    }
    report.inbound_files_processed = step(
        "inbound",
        "the inbound file job (reading the inbound folder)",
        &mut failed,
        inbound::ingest_inbound_dir(&state.store, &state.vault, &state.ach, to),
    )
    .await
    .map(|f| f.len())
    .unwrap_or(0);
    report.files_picked_up = step(
        "pickup",
        "the inbound pickup from the ODFI",
        &mut failed,
        pickup(state, to),
    )
    .await
    .unwrap_or(0);
    if let Some(cards) = step(
        "cards",
        "the card jobs (processor retries, expiries, batch close)",
        &mut failed,
        cards::jobs::run_due(
            &state.store,
            state.card_processor.as_ref(),
            &state.vault,
            &state.cards,
            from,
            to,
        ),
    )
    .await
    {
        report.card_calls_resolved = cards.calls_resolved;
        report.card_authorizations_expired = cards.authorizations_expired;
        report.card_batches_closed = cards.batches_closed;
        report.card_collections_settled = cards.collections_settled;
    }
    if let Some(rates) = step(
        "alerts_return_rates",
        "the alert sweep (return rates)",
        &mut failed,
        inflow_engine::alerts::sweep_return_rates(&state.store, to),
    )
    .await
    {
        report.alerts_raised += rates.raised.len();
    }
    // Last: a day is over once the clock is past it and every job above ran.
    // (A day whose earlier steps failed is still produced: its files say what
    // the ledger holds, and a later regeneration supersedes them.)
    report.daily_file_days = step(
        "daily_files",
        "the daily reconciliation files",
        &mut failed,
        async {
            match daily_files::produce_due(
                &state.store,
                &state.ach.calendar,
                &state.report_delivery.customers(),
                to,
                BACKGROUND_LEASE_WAIT,
            )
            .await
            {
                Ok(days) => Ok(days.len()),
                Err(AchError::Busy(lease)) => {
                    tracing::debug!(%lease, "daily files running on another node");
                    Ok(0)
                }
                Err(e) => Err(e),
            }
        },
    )
    .await
    .unwrap_or(0);
    if !state.report_delivery.destinations.is_empty() {
        report.daily_files_pushed = step(
            "daily_files_push",
            "the push of daily files to customers",
            &mut failed,
            async {
                match daily_files::push::push_due(
                    &state.store,
                    &state.report_delivery,
                    to,
                    BACKGROUND_LEASE_WAIT,
                )
                .await
                {
                    Ok(r) => Ok(r.uploaded.len()),
                    Err(AchError::Busy(lease)) => {
                        tracing::debug!(%lease, "daily file push running on another node");
                        Ok(0)
                    }
                    Err(e) => Err(e),
                }
            },
        )
        .await
        .unwrap_or(0);
    }
    if failed.is_empty() {
        Ok(report)
    } else {
        Err(StepsFailed(failed).into())
    }
}

/// How [`run_due`] runs the scheduler tick.
#[derive(Debug, Clone, Copy)]
pub enum SchedulerLease<'a> {
    /// Wait this long for the scheduler lease; if another node keeps it,
    /// that node is ticking and this pass leaves the tick to it.
    Wait(std::time::Duration),
    /// The caller holds the lease as this holder (a clock advance).
    Held(&'a str),
}

/// The scheduler tick; `None` when another node is ticking.
async fn scheduler_tick(
    state: &AppState,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    lease: SchedulerLease<'_>,
) -> Result<Option<scheduler::TickReport>, AchError> {
    let (store, vault, ach, delivery) = (&state.store, &state.vault, &state.ach, &state.delivery);
    let ticked = match lease {
        SchedulerLease::Held(holder) => {
            scheduler::tick_holding(store, vault, ach, delivery, (from, to), holder).await
        }
        SchedulerLease::Wait(wait) => {
            match scheduler::tick_with_wait(store, vault, ach, delivery, from, to, wait).await {
                Err(AchError::Busy(lease)) => {
                    tracing::debug!(%lease, "the scheduler is ticking on another node");
                    return Ok(None);
                }
                other => other,
            }
        }
    };
    ticked.map(Some)
}

/// Poll every ODFI's inbound directory; the number of files that left it
/// (applied, duplicates and rejected ones).
pub async fn pickup(state: &AppState, now: DateTime<Utc>) -> anyhow::Result<usize> {
    use inflow_engine::delivery::pickup::{pickup_inbound_waiting, PickedUp};
    let picked = match pickup_inbound_waiting(
        &state.store,
        &state.vault,
        &state.ach,
        &state.delivery,
        now,
        BACKGROUND_LEASE_WAIT,
    )
    .await
    {
        Ok(p) => p,
        Err(AchError::Busy(lease)) => {
            tracing::debug!(%lease, "inbound pickup running on another node");
            return Ok(0);
        }
        Err(e) => return Err(e.into()),
    };
    Ok(picked
        .iter()
        .filter(|p| !matches!(p, PickedUp::Failed { .. }))
        .count())
}

/// Batches of webhook deliveries one clock step may run (the background
/// dispatcher takes whatever is left).
const WEBHOOK_ROUNDS_PER_STEP: usize = 100;

/// A clock advance that failed part-way. The clock moves before the jobs
/// of each step run, so it may have moved although a job failed: `moved_to`
/// says where it stands (`None`: it did not move).
#[derive(Debug)]
pub struct AdvanceError {
    pub moved_to: Option<DateTime<Utc>>,
    /// The step whose jobs failed: `(from, to]`.
    pub step: Option<(DateTime<Utc>, DateTime<Utc>)>,
    pub source: anyhow::Error,
}

impl AdvanceError {
    /// The lease another node held, when that stopped the advance before
    /// anything moved.
    pub fn busy(&self) -> Option<&str> {
        if self.moved_to.is_some() {
            return None;
        }
        match self.source.downcast_ref::<AchError>() {
            Some(AchError::Busy(lease)) => Some(lease),
            _ => None,
        }
    }

    /// What the API tells the operator (no internals beyond which job failed).
    pub fn message(&self) -> String {
        let failed = job_named(&self.source);
        match (self.moved_to, self.step) {
            (Some(at), Some((from, to))) => format!(
                "the sandbox clock moved to {} but {failed} failed for the period {} to {}; \
                 what ran before the failure stays done (the server log has the error; a cutoff missed in that period can be run with POST /v1/ach/cutoffs)",
                crate::api::common::time(at),
                crate::api::common::time(from),
                crate::api::common::time(to),
            ),
            (Some(at), None) => format!(
                "the sandbox clock moved to {} and the jobs up to then ran, but {failed} failed before the next step; advance again to go on",
                crate::api::common::time(at),
            ),
            (None, _) => format!("the sandbox clock did not move: {failed} failed"),
        }
    }
}

/// The job named by the outermost context of `e` (see [`run_due`]).
fn job_named(e: &anyhow::Error) -> String {
    if let Some(StepsFailed(steps)) = e.downcast_ref::<StepsFailed>() {
        let names: Vec<String> = steps.iter().map(job_named).collect();
        return names.join(" and ");
    }
    let outer = e.to_string();
    if outer.starts_with("the ") {
        outer
    } else {
        "a background job".to_owned()
    }
}

/// The longest step [`advance_sandbox_clock`] moves the clock by before it
/// runs the jobs due in that step.
pub const SANDBOX_STEP_HOURS: i64 = 6;

/// Move the sandbox clock forward by `by`, one step at a time (at most
/// [`SANDBOX_STEP_HOURS`]), so each day's cutoffs, settlement and bank
/// answers happen in order.
///
/// The advance holds the scheduler lease throughout, so advances on
/// several nodes take turns. If another node keeps it for
/// [`API_LEASE_WAIT`], nothing moves and the error is
/// [`AdvanceError::busy`] (the API answers `409 job_busy`).
pub async fn advance_sandbox_clock(
    state: &AppState,
    by: Duration,
) -> Result<(DateTime<Utc>, JobsReport), AdvanceError> {
    let clock = state.sandbox_clock.as_ref().ok_or_else(|| AdvanceError {
        moved_to: None,
        step: None,
        source: anyhow::anyhow!("the clock can only be moved in sandbox mode"),
    })?;
    let not_moved = |source: anyhow::Error| AdvanceError {
        moved_to: None,
        step: None,
        source,
    };
    let holder = new_holder();
    let taken = acquire_lease_waiting(
        &state.store,
        SCHEDULER_LEASE,
        &holder,
        JOB_LEASE_TTL,
        API_LEASE_WAIT,
    )
    .await
    .map_err(|e| not_moved(anyhow::Error::new(e).context("the taking of the scheduler lease")))?;
    if !taken {
        return Err(not_moved(AchError::Busy(SCHEDULER_LEASE.into()).into()));
    }
    let advanced = advance_holding(state, clock, by, &holder).await;
    if let Err(e) = release_lease(&state.store, SCHEDULER_LEASE, &holder).await {
        tracing::warn!(error = %e, "the scheduler lease was not released; it expires");
    }
    advanced
}

async fn advance_holding(
    state: &AppState,
    clock: &inflow_core::clock::SandboxClock,
    by: Duration,
    holder: &str,
) -> Result<(DateTime<Utc>, JobsReport), AdvanceError> {
    let mut total = JobsReport::default();
    let mut left = by;
    while left > Duration::zero() {
        let step = left.min(Duration::hours(SANDBOX_STEP_HOURS));
        // Earlier steps (if any) moved the clock and ran their jobs.
        let stopped = |what: &'static str| {
            let moved_to = (left < by).then(|| state.clock.now());
            move |e: inflow_store::StoreError| AdvanceError {
                moved_to,
                step: None,
                source: anyhow::Error::new(e).context(what),
            }
        };
        super::sandbox_clock::sync(state)
            .await
            .map_err(stopped("the reading of the shared clock"))?;
        let from = state.clock.now();
        // Stored before the jobs run, so every node sees the new time.
        super::sandbox_clock::advance(state, clock, step)
            .await
            .map_err(stopped("the saving of the clock"))?;
        let to = state.clock.now();
        let failed = |source: anyhow::Error| AdvanceError {
            moved_to: Some(to),
            step: Some((from, to)),
            source,
        };
        let r = run_due(state, from, to, SchedulerLease::Held(holder))
            .await
            .map_err(failed)?;
        total.occurrences_created += r.occurrences_created;
        total.cutoffs_run += r.cutoffs_run;
        total.files_written += r.files_written;
        total.settled_processing += r.settled_processing;
        total.settled_completed += r.settled_completed;
        total.bank_files_delivered += r.bank_files_delivered;
        total.inbound_files_processed += r.inbound_files_processed;
        total.files_uploaded += r.files_uploaded;
        total.uploads_retrying += r.uploads_retrying;
        total.uploads_failed += r.uploads_failed;
        total.files_picked_up += r.files_picked_up;
        total.card_calls_resolved += r.card_calls_resolved;
        total.card_authorizations_expired += r.card_authorizations_expired;
        total.card_batches_closed += r.card_batches_closed;
        total.card_collections_settled += r.card_collections_settled;
        total.daily_file_days += r.daily_file_days;
        total.daily_files_pushed += r.daily_files_pushed;
        // Retries scheduled in business time come due as the clock moves.
        let pass = state
            .webhooks
            .run_pass(WEBHOOK_ROUNDS_PER_STEP)
            .instrument(tracing::info_span!("job_step", step = "webhooks"))
            .await
            .context("the webhook deliveries")
            .map_err(failed)?;
        total.webhook_attempts += pass.attempts;
        total.webhooks_delivered += pass.delivered;
        left -= step;
    }
    Ok((state.clock.now(), total))
}
