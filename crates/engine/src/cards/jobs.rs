//! The card rail's background work, run by the scheduler (and by the
//! sandbox clock): retry processor calls that got no answer, void expired
//! authorizations, and close the processor's daily batch.

use chrono::{DateTime, NaiveDate, Utc};
use inflow_core::calendar::{eastern_instant, local_date};
use inflow_core::card::{CardStatus, ProcessorCall};
use inflow_core::crypto::Vault;
use inflow_store::{Store, StoreError};

use super::call::{make_call, record_attempt, Attempt};
use super::disputes::{self, Applied};
use super::error::CardError;
use super::processor::CardProcessor;
use super::reserve::reserve_void;
use super::{postings, CardConfig};
use crate::events::card_status_event;
use crate::leases::{
    acquire_lease_waiting, new_holder, release_lease, JOB_LEASE_TTL, JOB_LEASE_WAIT,
};

/// The lease the card jobs run under (one node at a time).
pub const CARD_JOBS_LEASE: &str = "cards.jobs";
/// The `settings` key holding the last batch close done.
pub const LAST_BATCH_CLOSE_SETTING: &str = "cards.last_batch_close";
const BATCH: i64 = 200;

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CardJobsReport {
    /// Calls retried and answered / retried and still unanswered.
    pub calls_resolved: usize,
    pub calls_unanswered: usize,
    pub authorizations_expired: usize,
    pub batches_closed: usize,
    pub collections_settled: usize,
    /// Dispute reports that changed a collection (opened or decided).
    pub disputes_applied: usize,
}

/// Run everything due by `now` (batch closes in `(from, now]` when none
/// was ever recorded), under the card jobs lease.
pub async fn run_due(
    store: &Store,
    processor: &dyn CardProcessor,
    vault: &Vault,
    cfg: &CardConfig,
    from: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<CardJobsReport, CardError> {
    let holder = new_holder();
    if !acquire_lease_waiting(
        store,
        CARD_JOBS_LEASE,
        &holder,
        JOB_LEASE_TTL,
        JOB_LEASE_WAIT,
    )
    .await?
    {
        // Another node is running them; it does this pass's work.
        return Ok(CardJobsReport::default());
    }
    let result = async {
        let mut report = CardJobsReport::default();
        retry_unanswered(store, processor, vault, cfg, now, &mut report).await?;
        expire_authorizations(store, processor, vault, cfg, now, &mut report).await?;
        reconcile_disputes(store, processor, now, &mut report).await?;
        close_batches(store, processor, cfg, from, now, &mut report).await?;
        Ok::<_, CardError>(report)
    }
    .await;
    if let Err(e) = release_lease(store, CARD_JOBS_LEASE, &holder).await {
        tracing::warn!(lease = CARD_JOBS_LEASE, error = %e, "lease not released; it will expire");
    }
    result
}

/// Make `call` and record what came of it (no idempotency record: the
/// client's own retry, if any, reads the result from the call).
async fn resolve(
    store: &Store,
    processor: &dyn CardProcessor,
    vault: &Vault,
    cfg: &CardConfig,
    call: ProcessorCall,
    now: DateTime<Utc>,
) -> Result<bool, CardError> {
    let attempt = make_call(store, processor, vault, &call, None).await?;
    let answered = matches!(attempt, Attempt::Answered(_));
    let cfg = cfg.clone();
    store
        .write(move |tx| {
            Box::pin(async move { record_attempt(tx, &cfg, call, Some(attempt), now).await })
        })
        .await?;
    Ok(answered)
}

async fn retry_unanswered(
    store: &Store,
    processor: &dyn CardProcessor,
    vault: &Vault,
    cfg: &CardConfig,
    now: DateTime<Utc>,
    report: &mut CardJobsReport,
) -> Result<(), CardError> {
    let due = {
        let mut tx = store.read().await?;
        let due = tx.due_processor_calls(now, BATCH).await?;
        tx.rollback().await?;
        due
    };
    for call in due {
        let reference = call.reference.clone();
        match resolve(store, processor, vault, cfg, call, now).await {
            Ok(true) => report.calls_resolved += 1,
            Ok(false) => report.calls_unanswered += 1,
            Err(e) => {
                tracing::warn!(call = %reference, error = %e, "card processor call retry failed")
            }
        }
    }
    Ok(())
}

/// Apply every dispute the processor reports (each once, by its id).
async fn reconcile_disputes(
    store: &Store,
    processor: &dyn CardProcessor,
    now: DateTime<Utc>,
    report: &mut CardJobsReport,
) -> Result<(), CardError> {
    let reports = match processor.disputes().await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "the processor's dispute list is unavailable; retrying on the next pass");
            return Ok(());
        }
    };
    for r in reports {
        // Most reports repeat what is recorded: skip those without a write.
        let known = {
            let mut tx = store.read().await?;
            let d = tx.get_card_dispute(&r.dispute_id).await?;
            tx.rollback().await?;
            d
        };
        if known.is_some_and(|d| d.status != "open" || r.stage == disputes::DisputeStage::Open) {
            continue;
        }
        let id = r.dispute_id.clone();
        let applied = store
            .write(move |tx| Box::pin(async move { disputes::apply(tx, &r, now).await }))
            .await?;
        match applied {
            Applied::Opened | Applied::Closed(_) | Applied::OpenedAndClosed(_) => {
                tracing::info!(dispute = %id, ?applied, "card dispute applied");
                report.disputes_applied += 1;
            }
            Applied::NotDisputable(status) => {
                tracing::warn!(dispute = %id, %status, "a dispute was reported on a collection that cannot be disputed")
            }
            Applied::UnknownPayment | Applied::Busy | Applied::Nothing => {}
        }
    }
    Ok(())
}

async fn expire_authorizations(
    store: &Store,
    processor: &dyn CardProcessor,
    vault: &Vault,
    cfg: &CardConfig,
    now: DateTime<Utc>,
    report: &mut CardJobsReport,
) -> Result<(), CardError> {
    let expired = {
        let mut tx = store.read().await?;
        let e = tx.expired_card_authorizations(now, BATCH).await?;
        tx.rollback().await?;
        e
    };
    for c in expired {
        let (customer, id) = (c.customer_id.clone(), c.id.clone());
        let reserved = store
            .write(move |tx| {
                Box::pin(async move {
                    reserve_void(
                        tx,
                        &customer,
                        &id,
                        Some("authorization expired".into()),
                        None,
                        now,
                    )
                    .await
                })
            })
            .await;
        let call = match reserved {
            Ok((_, call)) => call,
            // Captured, voided or busy meanwhile: nothing to expire.
            Err(e) if e.is_conflict() => continue,
            Err(e) => return Err(e),
        };
        resolve(store, processor, vault, cfg, call, now).await?;
        report.authorizations_expired += 1;
    }
    Ok(())
}

/// The day whose batch closed last at or before `t`.
fn close_day_at(cfg: &CardConfig, t: DateTime<Utc>) -> NaiveDate {
    let today = local_date(t);
    if eastern_instant(today, cfg.batch_close) <= t {
        today
    } else {
        today.pred_opt().unwrap_or(today)
    }
}

/// The batch closes due by `now`, by US/Eastern day: every day after the
/// last one closed or — the first time — those whose close time falls in
/// `(from, now]`. At most 31 at once.
fn closes_between(
    cfg: &CardConfig,
    last: Option<NaiveDate>,
    from: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<NaiveDate> {
    let newest = close_day_at(cfg, now);
    let last = last.unwrap_or_else(|| close_day_at(cfg, from));
    last.succ_opt()
        .map(|first| {
            first
                .iter_days()
                .take_while(|d| *d <= newest)
                .take(31)
                .collect()
        })
        .unwrap_or_default()
}

async fn close_batches(
    store: &Store,
    processor: &dyn CardProcessor,
    cfg: &CardConfig,
    from: DateTime<Utc>,
    now: DateTime<Utc>,
    report: &mut CardJobsReport,
) -> Result<(), CardError> {
    let last =
        {
            let mut tx = store.read().await?;
            let v = tx.get_setting(LAST_BATCH_CLOSE_SETTING).await?;
            tx.rollback().await?;
            match v {
                None => None,
                Some(s) => Some(s.parse::<NaiveDate>().map_err(|_| {
                    StoreError::Corrupt(format!("{LAST_BATCH_CLOSE_SETTING} = {s:?}"))
                })?),
            }
        };
    for day in closes_between(cfg, last, from, now) {
        let candidates = {
            let mut tx = store.read().await?;
            let refs = tx.unsettled_card_processor_refs(10_000).await?;
            tx.rollback().await?;
            refs
        };
        let batch = match processor.settle_batch(day, &candidates).await {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(%day, error = %e, "card batch close failed; retrying on the next pass");
                return Ok(());
            }
        };
        let settled_at = now;
        let n = store
            .write(move |tx| {
                Box::pin(async move {
                    let refs: Vec<String> = batch
                        .settled
                        .iter()
                        .map(|s| s.processor_ref.clone())
                        .collect();
                    let mut n = 0;
                    for mut c in tx.settleable_card_collections(&refs).await? {
                        let (was, refunded) = (c.status, c.refunded_minor);
                        c.completed_at = Some(settled_at);
                        c.batch_id = Some(batch.batch_id.clone());
                        c.updated_at = settled_at;
                        let why = format!("settled in batch {}", batch.batch_id);
                        if c.status.can_become(CardStatus::Completed) {
                            c.transition(CardStatus::Completed, Some(why), settled_at)
                                .map_err(|e| {
                                    StoreError::Corrupt(format!("card collection {}: {e}", c.id))
                                })?;
                        }
                        // A collection answered concurrently is settled on the next pass.
                        if !tx.update_card_collection_if(&c, was, refunded).await? {
                            continue;
                        }
                        if c.status != was {
                            card_status_event(tx, &c, settled_at).await?;
                        }
                        postings::on_settled(tx, &c, settled_at).await?;
                        n += 1;
                    }
                    tx.put_setting(LAST_BATCH_CLOSE_SETTING, &day.to_string())
                        .await?;
                    Ok::<_, CardError>(n)
                })
            })
            .await?;
        report.batches_closed += 1;
        report.collections_settled += n;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveTime;

    fn cfg() -> CardConfig {
        CardConfig {
            authorization_ttl_days: 7,
            batch_close: NaiveTime::from_hms_opt(22, 0, 0).unwrap(),
        }
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn batch_closes_run_once_per_eastern_day_after_the_close_time() {
        // 2026-11-20 21:59 and 22:01 Eastern (UTC-5).
        let before = eastern_instant(
            day("2026-11-20"),
            NaiveTime::from_hms_opt(21, 59, 0).unwrap(),
        );
        let after = eastern_instant(
            day("2026-11-20"),
            NaiveTime::from_hms_opt(22, 1, 0).unwrap(),
        );
        let from = before - chrono::Duration::hours(1);
        let none = Vec::<NaiveDate>::new();
        assert_eq!(
            closes_between(&cfg(), Some(day("2026-11-19")), from, before),
            none
        );
        assert_eq!(
            closes_between(&cfg(), Some(day("2026-11-19")), from, after),
            vec![day("2026-11-20")]
        );
        assert_eq!(
            closes_between(&cfg(), Some(day("2026-11-20")), from, after),
            none
        );
        // Three days down: every missed close runs, in order.
        let later = after + chrono::Duration::days(3);
        assert_eq!(
            closes_between(&cfg(), Some(day("2026-11-20")), from, later),
            vec![day("2026-11-21"), day("2026-11-22"), day("2026-11-23")]
        );
        // Never closed before: only closes after `from` (not yesterday's).
        assert_eq!(closes_between(&cfg(), None, from, before), none);
        assert_eq!(
            closes_between(&cfg(), None, from, after),
            vec![day("2026-11-20")]
        );
    }
}
