//! What a return on a schedule's collection does to the schedule, applied in
//! the return file's ingestion transaction:
//!
//! - R02, R03, R04, R05, R07, R10, R29 ([`STOPPING_RETURN_CODES`]): the
//!   schedule is **stopped** (`schedule.stopped`); its collections not yet in
//!   a file are cancelled;
//! - R01, R09 with a retry policy, while the schedule is active or
//!   completed: the entry is **re-presented** as a new collection linked to
//!   the occurrence's first collection (`retryOf`), with the same company,
//!   amount and account, company entry description `RETRY PYMT`, effective
//!   `daysAfterReturn` calendar days after the return arrived (the next
//!   banking day if that is not one) — at most `maxRetries` (≤ 2) times per
//!   occurrence and only within 180 days of the first presentment's
//!   settlement date (NACHA reinitiation rules);
//! - any return that blocked the payment method pauses the other active
//!   schedules debiting it, with the reason.

use chrono::{DateTime, Days, Utc};
use inflow_core::calendar::{plan_entry, ProcessingMode};
use inflow_core::collection::{AchCollection, CollectionStatus, StatusChange};
use inflow_core::crypto::Vault;
use inflow_core::ids::CollectionId;
use inflow_core::model::BankPaymentMethod;
use inflow_core::schedule::{
    ScheduleLink, ScheduleStatus, RETRYABLE_RETURN_CODES, RETRY_ENTRY_DESCRIPTION,
    RETRY_WINDOW_DAYS, STOPPING_RETURN_CODES,
};
use inflow_store::{StoreError, Tx};

use super::lifecycle::{end_in_tx, pause_in_tx, today};
use super::ScheduleError;
use crate::config::AchConfig;
use crate::events::collection_event;

/// A return just applied to a collection.
#[derive(Debug, Clone, Copy)]
pub struct AppliedReturn<'a> {
    /// The collection, now `returned`.
    pub collection: &'a AchCollection,
    /// `R01`.
    pub code: &'a str,
    /// `R01: Insufficient funds`.
    pub reason: &'a str,
    /// The payment method the same return blocked, if it did.
    pub blocked: Option<&'a BankPaymentMethod>,
}

/// Apply the schedule rules for a return (see the module documentation).
/// Returns what was done, for the ingestion report.
pub async fn after_return(
    tx: &mut Tx,
    vault: &Vault,
    cfg: &AchConfig,
    ret: AppliedReturn<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<String>, ScheduleError> {
    let AppliedReturn {
        collection: c,
        code,
        reason,
        blocked,
    } = ret;
    let mut outcome = Vec::new();
    if let Some(link) = &c.schedule {
        tx.lock_schedule(&link.schedule_id).await?;
        let mut s = tx.get_schedule(None, &link.schedule_id).await?;
        let live = matches!(s.status, ScheduleStatus::Active | ScheduleStatus::Paused);
        if STOPPING_RETURN_CODES.contains(&code) && live {
            let why = format!("occurrence {} returned {reason}", link.occurrence);
            end_in_tx(tx, cfg, &mut s, ScheduleStatus::Stopped, why, now).await?;
            outcome.push(format!("schedule {} stopped", s.id));
        } else if RETRYABLE_RETURN_CODES.contains(&code) {
            match s.retry_policy {
                Some(policy)
                    if matches!(s.status, ScheduleStatus::Active | ScheduleStatus::Completed) =>
                {
                    if link.retry >= policy.max_retries {
                        outcome.push(format!(
                            "not retried: occurrence {} was already retried {} time(s)",
                            link.occurrence, link.retry
                        ));
                    } else {
                        outcome.push(
                            retry(tx, vault, cfg, c, link, policy.days_after_return, now).await?,
                        );
                    }
                }
                Some(_) => outcome.push(format!("not retried: the schedule is {}", s.status)),
                None => {}
            }
        }
    }
    if let Some(pm) = blocked {
        for id in tx.active_schedules_for_payment_method(&pm.id).await? {
            tx.lock_schedule(&id).await?;
            let mut s = tx.get_schedule(None, &id).await?;
            if s.status == ScheduleStatus::Active {
                let why = format!("payment method {} is blocked: ACH return {reason}", pm.id);
                pause_in_tx(tx, cfg, &mut s, why, now).await?;
                outcome.push(format!("schedule {} paused", s.id));
            }
        }
    }
    Ok(outcome)
}

/// Create the next presentment of `c`'s occurrence.
async fn retry(
    tx: &mut Tx,
    vault: &Vault,
    cfg: &AchConfig,
    c: &AchCollection,
    link: &ScheduleLink,
    days_after_return: u32,
    now: DateTime<Utc>,
) -> Result<String, ScheduleError> {
    let first = match &link.retry_of {
        Some(id) => tx.get_ach_collection(None, id).await?,
        None => c.clone(),
    };
    let wanted = today(now)
        .checked_add_days(Days::new(u64::from(days_after_return)))
        .and_then(|d| cfg.calendar.checked_add_banking_days(d, 0))
        .ok_or_else(|| StoreError::Corrupt("retry date out of range".into()))?;
    // Planned with the windows of the ODFI that files the retry.
    let assigned = crate::odfi_windows::Assignments::load(tx, cfg).await?;
    let cutoffs = assigned.cutoffs_of(cfg, c);
    let earliest = plan_entry(
        &cfg.calendar,
        cutoffs,
        now,
        ProcessingMode::Standard,
        None,
        cfg.effective_date_horizon_days,
    )?
    .effective_date;
    let date = wanted.max(earliest);
    let window_end = first
        .effective_date
        .checked_add_days(Days::new(RETRY_WINDOW_DAYS))
        .unwrap_or(first.effective_date);
    if date > window_end {
        return Ok(format!(
            "not retried: {date} is more than {RETRY_WINDOW_DAYS} days after the first presentment settled ({})",
            first.effective_date
        ));
    }
    let plan = match plan_entry(
        &cfg.calendar,
        cutoffs,
        now,
        ProcessingMode::Standard,
        Some(date),
        cfg.effective_date_horizon_days,
    ) {
        Ok(p) => p,
        Err(e) => return Ok(format!("not retried: {e}")),
    };
    let id = CollectionId::generate(now);
    let plain = vault
        .open(&c.account_number_sealed, c.id.as_str())
        .map_err(|e| StoreError::Corrupt(format!("collection {}: {e}", c.id)))?;
    let n = link.retry + 1;
    let (status, why) = if plan.deferred {
        (
            CollectionStatus::Scheduled,
            format!(
                "retry {n} of occurrence {} after {}; held until {}",
                link.occurrence,
                c.return_code.as_deref().unwrap_or("a return"),
                plan.release_date
            ),
        )
    } else {
        (
            CollectionStatus::Pending,
            format!("retry {n} of occurrence {}", link.occurrence),
        )
    };
    let retry = AchCollection {
        id: id.clone(),
        status,
        status_reason: Some(why.clone()),
        status_history: vec![StatusChange {
            status,
            reason: Some(why),
            at: now,
        }],
        account_number_sealed: vault.seal(&plain, id.as_str()),
        processing_mode: ProcessingMode::Standard,
        effective_date: plan.effective_date,
        release_date: plan.release_date,
        company_entry_description: RETRY_ENTRY_DESCRIPTION.to_owned(),
        external_id: None,
        trace_number: None,
        file_id: None,
        return_code: None,
        return_trace: None,
        noc_code: None,
        noc_corrected_data: None,
        noc_correction: None,
        created_at: now,
        updated_at: now,
        submitted_at: None,
        completed_at: None,
        returned_at: None,
        schedule: Some(ScheduleLink {
            schedule_id: link.schedule_id.clone(),
            occurrence: link.occurrence,
            retry: n,
            retry_of: Some(first.id.clone()),
        }),
        // A retry is standard-day: no same-day surcharge.
        fees: inflow_core::fees::CollectionFees {
            same_day: 0,
            ..c.fees
        },
        ..c.clone()
    };
    tx.insert_ach_collection(&retry).await?;
    collection_event(tx, "collection.created", &retry, now).await?;
    // Held at once if its customer, destination or payment method is not active.
    let ids = [retry.id.clone()];
    crate::holds::follow_collections(tx, cfg, &ids, "retry created", now).await?;
    Ok(format!(
        "retry {n} created as {} effective {}",
        retry.id, retry.effective_date
    ))
}
