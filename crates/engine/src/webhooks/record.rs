//! Recording finished attempts, many per transaction: the attempt rows and
//! the deliveries' new state in one set-based pass
//! (`Tx::record_attempts`), then the endpoints' runs of failed deliveries,
//! replayed in the order the attempts finished:
//!
//! - a success ends its endpoint's run (reset to 0);
//! - a delivery `failed` for good lengthens it; when the run reaches
//!   `disable_after_failures` the endpoint is disabled and
//!   `webhook_endpoint.disabled` is emitted, in the same transaction;
//! - a retry leaves it alone.
//!
//! Only deliveries whose claim is still this dispatcher's are written (and
//! counted); the others belong to whoever claimed them since.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use inflow_core::ids::{EventId, WebhookEndpointId};
use inflow_store::repo::events::Event;
use inflow_store::repo::webhook_deliveries::NextStep;
use inflow_store::{StoreError, Tx};

use super::attempt::Finished;
use super::dispatcher::{Dispatcher, PassReport, ENDPOINT_DISABLED_EVENT};
use super::view::endpoint_view;

/// One endpoint's recorded outcomes that touch its failure run, in order:
/// `true` a success, `false` a delivery failed for good.
struct Run {
    endpoint: WebhookEndpointId,
    failures_before: u32,
    steps: Vec<bool>,
}

impl Dispatcher {
    /// Record `finished` in one transaction. Nothing is written (and the
    /// claims lapse, so the deliveries are attempted again) if it fails.
    pub(super) async fn record(&self, token: &str, finished: Vec<Finished>) -> PassReport {
        let token = token.to_owned();
        let threshold = self.config.disable_after_failures;
        let now = self.clock.now();
        let n = finished.len();
        let result = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    let outcomes: Vec<_> = finished
                        .iter()
                        .map(|f| (f.attempt.clone(), f.next))
                        .collect();
                    let written = tx.record_attempts(&token, &outcomes).await?;
                    let mine: Vec<Finished> = finished
                        .into_iter()
                        .filter(|f| written.contains(&f.attempt.delivery_id))
                        .collect();
                    let report = apply_runs(tx, &mine, threshold, now).await?;
                    Ok::<_, StoreError>((report, mine))
                })
            })
            .await;
        let (report, mine) = match result {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, deliveries = n, "webhook outcomes could not be recorded; the deliveries will be attempted again when their claims lapse");
                return PassReport::default();
            }
        };
        if mine.len() < n {
            tracing::warn!(
                lapsed = n - mine.len(),
                "webhook claims lapsed before the outcomes were recorded; other dispatchers own those deliveries now"
            );
        }
        crate::metrics::webhook_attempts(report.delivered, report.retrying, report.failed);
        for f in mine.iter().filter(|f| f.next == NextStep::Succeeded) {
            crate::metrics::webhook_delivered_after(
                (now - f.event_created_at).to_std().unwrap_or_default(),
            );
        }
        report
    }
}

/// Count the outcomes and move the endpoints' failure runs.
async fn apply_runs(
    tx: &mut Tx,
    mine: &[Finished],
    threshold: u32,
    now: DateTime<Utc>,
) -> Result<PassReport, StoreError> {
    let mut report = PassReport {
        attempts: mine.len(),
        ..PassReport::default()
    };
    let mut runs: Vec<Run> = Vec::new();
    let mut index: HashMap<&WebhookEndpointId, usize> = HashMap::new();
    for f in mine {
        let step = match f.next {
            NextStep::Succeeded => {
                report.delivered += 1;
                true
            }
            NextStep::Failed => {
                report.failed += 1;
                false
            }
            NextStep::RetryAt(_) => {
                report.retrying += 1;
                continue;
            }
        };
        let i = *index.entry(&f.endpoint).or_insert_with(|| {
            runs.push(Run {
                endpoint: f.endpoint.clone(),
                failures_before: f.endpoint_failures,
                steps: Vec::new(),
            });
            runs.len() - 1
        });
        runs[i].steps.push(step);
    }
    // Usually every run is successes on endpoints with no failures: nothing
    // to write. Endpoints that recovered are reset in one statement.
    let (recovered, mixed): (Vec<Run>, Vec<Run>) =
        runs.into_iter().partition(|r| r.steps.iter().all(|s| *s));
    let reset: Vec<WebhookEndpointId> = recovered
        .into_iter()
        .filter(|r| r.failures_before > 0)
        .map(|r| r.endpoint)
        .collect();
    tx.reset_endpoint_failures(&reset).await?;
    for run in mixed {
        report.endpoints_disabled += replay(tx, &run, threshold, now).await?;
    }
    Ok(report)
}

/// A change to an endpoint's failure run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    /// A success ended the run.
    Reset,
    /// This many deliveries in a row failed for good.
    Add(u32),
}

/// The statements that replay `steps` (`true` a success) on a run that
/// stood at `before`: one per stretch of equal outcomes, and no reset of a
/// run that is already over.
fn changes(before: u32, steps: &[bool]) -> Vec<Change> {
    let mut out = Vec::new();
    let mut open = before > 0;
    for stretch in steps.chunk_by(|a, b| a == b) {
        if stretch[0] {
            if open {
                out.push(Change::Reset);
            }
            open = false;
        } else {
            out.push(Change::Add(
                u32::try_from(stretch.len()).unwrap_or(u32::MAX),
            ));
            open = true;
        }
    }
    out
}

/// The run's length at the failure that first reached `threshold`, when
/// `added` failures took it to `length`.
fn length_at_threshold(length: u32, added: u32, threshold: u32) -> u32 {
    (length.saturating_sub(added) + 1).max(threshold)
}

/// Replay one endpoint's successes and final failures. Returns 1 if this
/// disabled the endpoint.
async fn replay(
    tx: &mut Tx,
    run: &Run,
    threshold: u32,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let mut disabled = 0;
    for change in changes(run.failures_before, &run.steps) {
        match change {
            Change::Reset => {
                tx.reset_endpoint_failures(std::slice::from_ref(&run.endpoint))
                    .await?
            }
            Change::Add(n) => {
                let length = tx.count_endpoint_failures(&run.endpoint, n).await?;
                if threshold > 0 && length >= threshold {
                    let at = length_at_threshold(length, n, threshold);
                    disabled += disable(tx, &run.endpoint, at, now).await?;
                }
            }
        }
    }
    Ok(disabled)
}

/// Disable the endpoint after `run` failed deliveries in a row and emit
/// `webhook_endpoint.disabled`; 1 if this call disabled it.
async fn disable(
    tx: &mut Tx,
    id: &WebhookEndpointId,
    run: u32,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let reason = format!("{run} deliveries in a row failed after every retry");
    if !tx.disable_webhook_endpoint(id, &reason, now).await? {
        return Ok(0);
    }
    let disabled = tx.get_webhook_endpoint(None, id).await?;
    tx.insert_event(&Event {
        id: EventId::generate(now),
        customer_id: disabled.customer_id.clone(),
        event_type: ENDPOINT_DISABLED_EVENT.into(),
        object_id: disabled.id.to_string(),
        data: serde_json::json!({ "object": endpoint_view(&disabled, now) }),
        created_at: now,
    })
    .await?;
    Ok(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Change::*;

    #[test]
    fn successes_on_an_endpoint_without_failures_change_nothing() {
        assert_eq!(changes(0, &[true, true, true]), []);
    }

    #[test]
    fn a_success_resets_a_run_once_and_failures_count_by_stretch() {
        assert_eq!(changes(3, &[true, true]), [Reset]);
        assert_eq!(
            changes(0, &[false, false, true, true, false]),
            [Add(2), Reset, Add(1)]
        );
        assert_eq!(changes(2, &[false, true]), [Add(1), Reset]);
    }

    #[test]
    fn the_disable_reason_names_the_run_that_reached_the_threshold() {
        // 3 → 7 with a threshold of 5: the fifth failure disabled it.
        assert_eq!(length_at_threshold(7, 4, 5), 5);
        // Already past it (say the threshold was lowered): the first one.
        assert_eq!(length_at_threshold(9, 2, 5), 8);
        assert_eq!(length_at_threshold(5, 1, 5), 5);
    }
}
