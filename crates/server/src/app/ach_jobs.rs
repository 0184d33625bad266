//! The ACH background work, in the order time makes it happen: recurring
//! schedules' occurrences become collections (the schedules job), cutoffs and
//! settlement (the engine's scheduler tick), the delivery job (built files
//! uploaded to their ODFI), then — in sandbox mode — the
//! simulated bank's answers, then whatever return/NOC files are waiting in
//! the inbound folder and in each ODFI's inbound directory, then the card rail's jobs (processor calls without
//! an answer, expired authorizations, the daily batch close). Moving the sandbox clock also runs the webhook
//! deliveries (and retries) that fall due on the way. The alert sweeps
//! (`inflow_engine::alerts`) bracket the work: stalled jobs first (before a
//! job takes a stale lease over), return rates over their thresholds last.

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use inflow_engine::files::AchError;
use inflow_engine::{cards, inbound, sandbox_bank, scheduler, schedules};
use serde::Serialize;

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
    /// Alerts raised by this pass (`customer.return_rate_exceeded`, `job.stalled`).
    pub alerts_raised: usize,
}

/// Run everything due in `(from, to]`.
pub async fn run_due(
    state: &AppState,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> anyhow::Result<JobsReport> {
    // Before the jobs, which take a stale lease over.
    let stalled =
        inflow_engine::alerts::sweep_stalled_jobs(&state.store, to, state.wall_clock.now())
            .await
            .context("the alert sweep (stalled jobs)")?;
    let mut report = JobsReport {
        alerts_raised: stalled.raised.len(),
        ..JobsReport::default()
    };
    let factory = std::sync::Arc::new(crate::app::schedules::ScheduleRules::new(state.clone()));
    report.occurrences_created = schedules::materialise_due(
        &state.store,
        &state.ach,
        factory,
        to,
        inflow_engine::leases::JOB_LEASE_WAIT,
    )
    .await
    .context("the schedules job (recurring occurrences)")?
    .created;
    let tick = scheduler::tick(
        &state.store,
        &state.vault,
        &state.ach,
        &state.delivery,
        from,
        to,
    )
    .await
    .context("the ACH scheduler (cutoffs, delivery and settlement)")?;
    report.cutoffs_run = tick.cutoffs.len();
    report.files_written = tick.files_written.len();
    report.settled_processing = tick.settlement.processing;
    report.settled_completed = tick.settlement.completed;
    // Another node holding the delivery lease is delivering: not this pass.
    match inflow_engine::delivery::upload::deliver_due_waiting(
        &state.store,
        &state.vault,
        &state.delivery,
        to,
        BACKGROUND_LEASE_WAIT,
    )
    .await
    {
        Ok(delivered) => {
            report.files_uploaded = tick.delivery.uploaded.len() + delivered.uploaded.len();
            report.uploads_retrying = tick.delivery.retrying.len() + delivered.retrying.len();
            report.uploads_failed = tick.delivery.failed.len() + delivered.failed.len();
        }
        Err(AchError::Busy(lease)) => tracing::debug!(%lease, "delivery running on another node"),
        Err(e) => return Err(anyhow::Error::new(e).context("the delivery of files to the ODFI")),
    }
    if state.ach.sandbox_bank {
        report.bank_files_delivered = sandbox_bank::deliver_due(&state.store, &state.ach, to)
            .await
            .context("the sandbox bank (return and NOC files)")?
            .len();
    }
    report.inbound_files_processed =
        inbound::ingest_inbound_dir(&state.store, &state.vault, &state.ach, to)
            .await
            .context("the inbound file job (reading the inbound folder)")?
            .len();
    report.files_picked_up = pickup(state, to)
        .await
        .context("the inbound pickup from the ODFI")?;
    let cards = cards::jobs::run_due(
        &state.store,
        state.card_processor.as_ref(),
        &state.vault,
        &state.cards,
        from,
        to,
    )
    .await
    .context("the card jobs (processor retries, expiries, batch close)")?;
    report.card_calls_resolved = cards.calls_resolved;
    report.card_authorizations_expired = cards.authorizations_expired;
    report.card_batches_closed = cards.batches_closed;
    report.card_collections_settled = cards.collections_settled;
    report.alerts_raised += inflow_engine::alerts::sweep_return_rates(&state.store, to)
        .await
        .context("the alert sweep (return rates)")?
        .raised
        .len();
    Ok(report)
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
    let outer = e.to_string();
    if outer.starts_with("the ") {
        outer
    } else {
        "a background job".to_owned()
    }
}

/// Move the sandbox clock forward by `by`, one step at a time (at most six
/// hours), so each day's cutoffs, settlement and bank answers happen in order.
pub async fn advance_sandbox_clock(
    state: &AppState,
    by: Duration,
) -> Result<(DateTime<Utc>, JobsReport), AdvanceError> {
    let clock = state.sandbox_clock.as_ref().ok_or_else(|| AdvanceError {
        moved_to: None,
        step: None,
        source: anyhow::anyhow!("the clock can only be moved in sandbox mode"),
    })?;
    let mut total = JobsReport::default();
    let mut left = by;
    while left > Duration::zero() {
        let step = left.min(Duration::hours(6));
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
        let r = run_due(state, from, to).await.map_err(failed)?;
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
        // Retries scheduled in business time come due as the clock moves.
        let pass = state
            .webhooks
            .run_pass(WEBHOOK_ROUNDS_PER_STEP)
            .await
            .context("the webhook deliveries")
            .map_err(failed)?;
        total.webhook_attempts += pass.attempts;
        total.webhooks_delivered += pass.delivered;
        left -= step;
    }
    Ok((state.clock.now(), total))
}
