//! Pausing, resuming, cancelling, stopping and completing a schedule, inside
//! the caller's transaction, with the schedule's event and what happens to
//! the collections already created for it:
//!
//! - **pause**: created collections not yet in a file (`scheduled`,
//!   `pending`) go `on_hold` (`schedule_paused`, "schedule paused");
//! - **resume**: run dates that can no longer be met are skipped; held
//!   collections nothing else holds (destination, payment method, customer,
//!   prenote: see `crate::eligibility`) go back to `scheduled`/`pending` if
//!   their effective date can still be met and are cancelled (skipped)
//!   otherwise; the others stay held with the code of what holds them;
//! - **cancel** / **stop**: every collection not yet in a file is cancelled.
//!
//! The API and the workers share these functions, so a schedule changes
//! the same way whoever changes it.

use chrono::{DateTime, NaiveDate, Utc};
use inflow_core::calendar::{local_date, plan_entry, ProcessingMode};
use inflow_core::collection::{AchCollection, CollectionStatus, HoldCode};
use inflow_core::ids::{CollectionId, EventId};
use inflow_core::schedule::{Schedule, ScheduleStatus};
use inflow_store::repo::eligibility::UnfiledScope;
use inflow_store::repo::events::Event;
use inflow_store::Tx;

use super::view::schedule_view;
use super::ScheduleError;
use crate::config::AchConfig;
use crate::eligibility::{verdict, Verdict};
use crate::events::status_event;

/// The reason held collections carry while their schedule is paused.
pub const PAUSED_HOLD_REASON: &str = "schedule paused";

/// Record `schedule.<what>` with the schedule (and its collections) as it is now.
pub async fn schedule_event(
    tx: &mut Tx,
    cfg: &AchConfig,
    event_type: &str,
    s: &Schedule,
    at: DateTime<Utc>,
) -> Result<(), ScheduleError> {
    let collections = tx.schedule_collections(&s.id).await?;
    let view = schedule_view(s, &collections, &cfg.calendar);
    let data = serde_json::to_value(&view)
        .map_err(|e| inflow_store::StoreError::Corrupt(format!("schedule view: {e}")))?;
    tx.insert_event(&Event {
        id: EventId::generate(at),
        customer_id: Some(s.customer_id.clone()),
        event_type: event_type.to_owned(),
        object_id: s.id.to_string(),
        data: serde_json::json!({ "object": data }),
        created_at: at,
    })
    .await?;
    Ok(())
}

/// Write `s` back (its `next_occurrence` must be what was read).
pub(crate) async fn save(tx: &mut Tx, s: &Schedule, read_next: u32) -> Result<(), ScheduleError> {
    if tx.update_schedule_if(s, read_next).await? {
        Ok(())
    } else {
        Err(ScheduleError::Concurrent(s.id.to_string()))
    }
}

/// Move `c` from the status it has to `to`, if no worker moved it meanwhile.
async fn move_collection(
    tx: &mut Tx,
    mut c: AchCollection,
    to: CollectionStatus,
    reason: String,
    now: DateTime<Utc>,
) -> Result<bool, ScheduleError> {
    let from = c.status;
    c.transition(to, Some(reason), now)?;
    if tx.update_ach_collection_if(&c, from).await? {
        crate::ledger::on_status_change(tx, from, &c, now).await?;
        status_event(tx, &c, now).await?;
        Ok(true)
    } else {
        Ok(false)
    }
}

/// Cancel every collection of `s` not yet in a file.
async fn cancel_unfiled(
    tx: &mut Tx,
    s: &Schedule,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), ScheduleError> {
    for c in tx.schedule_collections(&s.id).await? {
        if c.status.is_cancellable() {
            move_collection(tx, c, CollectionStatus::Cancelled, reason.to_owned(), now).await?;
        }
    }
    Ok(())
}

/// `active` → `paused`; unfiled collections go on hold (`schedule_paused`,
/// or the code of another reason that holds them too).
pub async fn pause_in_tx(
    tx: &mut Tx,
    cfg: &AchConfig,
    s: &mut Schedule,
    reason: String,
    now: DateTime<Utc>,
) -> Result<(), ScheduleError> {
    let read_next = s.next_occurrence;
    s.transition(ScheduleStatus::Paused, Some(reason), now)?;
    // Saved first: the holds read the schedule's status with its collections.
    save(tx, s, read_next).await?;
    let scope = UnfiledScope::Schedule(&s.id);
    crate::holds::follow(tx, cfg, scope, PAUSED_HOLD_REASON, now).await?;
    schedule_event(tx, cfg, "schedule.paused", s, now).await
}

/// The earliest effective date a standard debit made at `now` can have
/// (with the default ODFI's windows).
pub(crate) fn earliest_effective_date(
    cfg: &AchConfig,
    now: DateTime<Utc>,
) -> Result<NaiveDate, ScheduleError> {
    earliest_effective_date_with(cfg, &cfg.cutoffs, now)
}

/// [`earliest_effective_date`] with the windows `cutoffs` (an ODFI's).
pub(crate) fn earliest_effective_date_with(
    cfg: &AchConfig,
    cutoffs: &inflow_core::calendar::CutoffSchedule,
    now: DateTime<Utc>,
) -> Result<NaiveDate, ScheduleError> {
    Ok(plan_entry(
        &cfg.calendar,
        cutoffs,
        now,
        ProcessingMode::Standard,
        None,
        cfg.effective_date_horizon_days,
    )?
    .effective_date)
}

/// `paused` → `active`: skip run dates that can no longer be met, release or
/// skip held collections nothing else holds, and complete the schedule if
/// nothing is left.
pub async fn resume_in_tx(
    tx: &mut Tx,
    cfg: &AchConfig,
    s: &mut Schedule,
    now: DateTime<Utc>,
) -> Result<(), ScheduleError> {
    let read_next = s.next_occurrence;
    s.transition(ScheduleStatus::Active, Some("resumed".into()), now)?;
    let earliest = earliest_effective_date(cfg, now)?;
    let mut n = s.next_occurrence;
    while s
        .recurrence
        .run_date(&cfg.calendar, n)
        .is_some_and(|d| d < earliest)
    {
        n += 1;
    }
    s.set_next_occurrence(&cfg.calendar, n);
    // Saved first: the holds read the schedule's status with its collections.
    save(tx, s, read_next).await?;
    release_held(tx, cfg, s, now).await?;
    if s.all_created() {
        schedule_event(tx, cfg, "schedule.resumed", s, now).await?;
        let read_next = s.next_occurrence;
        return complete_in_tx(tx, cfg, s, read_next, now).await;
    }
    schedule_event(tx, cfg, "schedule.resumed", s, now).await
}

/// On resume: held collections of `s` that nothing else holds go back to
/// `scheduled`/`pending` if their effective date can still be met and are
/// cancelled (skipped) otherwise; the others stay held, with the code of
/// what still holds them.
async fn release_held(
    tx: &mut Tx,
    cfg: &AchConfig,
    s: &Schedule,
    now: DateTime<Utc>,
) -> Result<(), ScheduleError> {
    let free: Vec<CollectionId> = tx
        .unfiled_ach_states(UnfiledScope::Schedule(&s.id))
        .await?
        .into_iter()
        .filter(|c| c.status == CollectionStatus::OnHold)
        .filter(|c| c.hold != Some(HoldCode::PrenotePending))
        .filter(|c| verdict(&c.parties) == Verdict::Eligible)
        .map(|c| c.id)
        .collect();
    let loaded = tx.load_ach_collections(&free).await?;
    let assigned = if loaded.is_empty() {
        Default::default()
    } else {
        crate::odfi_windows::Assignments::load(tx, cfg).await?
    };
    for c in loaded {
        // Planned with the windows of the ODFI that files it.
        let plan = plan_entry(
            &cfg.calendar,
            assigned.cutoffs_of(cfg, &c),
            now,
            c.processing_mode,
            Some(c.effective_date),
            cfg.effective_date_horizon_days,
        );
        match plan {
            Ok(plan) => {
                let mut c = c;
                c.release_date = plan.release_date;
                let (to, why) = if plan.deferred {
                    (
                        CollectionStatus::Scheduled,
                        format!("schedule resumed; held until {}", plan.release_date),
                    )
                } else {
                    (CollectionStatus::Pending, "schedule resumed".to_owned())
                };
                move_collection(tx, c, to, why, now).await?;
            }
            Err(_) => {
                let why = format!(
                    "skipped: effective date {} passed while the schedule was paused",
                    c.effective_date
                );
                move_collection(tx, c, CollectionStatus::Cancelled, why, now).await?;
            }
        }
    }
    let scope = UnfiledScope::Schedule(&s.id);
    crate::holds::follow(tx, cfg, scope, "schedule resumed", now).await?;
    Ok(())
}

/// `active`/`paused` → `cancelled` (by the customer) or `stopped` (by a
/// return); every collection not yet in a file is cancelled.
pub async fn end_in_tx(
    tx: &mut Tx,
    cfg: &AchConfig,
    s: &mut Schedule,
    to: ScheduleStatus,
    reason: String,
    now: DateTime<Utc>,
) -> Result<(), ScheduleError> {
    let read_next = s.next_occurrence;
    s.transition(to, Some(reason.clone()), now)?;
    s.next_run_date = None;
    let why = match to {
        ScheduleStatus::Stopped => format!("schedule stopped: {reason}"),
        _ => format!("schedule cancelled: {reason}"),
    };
    cancel_unfiled(tx, s, &why, now).await?;
    save(tx, s, read_next).await?;
    schedule_event(tx, cfg, &format!("schedule.{}", to.as_str()), s, now).await
}

/// `active` → `completed` once every occurrence exists.
pub(crate) async fn complete_in_tx(
    tx: &mut Tx,
    cfg: &AchConfig,
    s: &mut Schedule,
    read_next: u32,
    now: DateTime<Utc>,
) -> Result<(), ScheduleError> {
    s.transition(
        ScheduleStatus::Completed,
        Some(format!("all {} occurrences created", s.recurrence.total())),
        now,
    )?;
    s.next_run_date = None;
    save(tx, s, read_next).await?;
    schedule_event(tx, cfg, "schedule.completed", s, now).await
}

/// Today in US/Eastern, as the ACH calendar counts days.
pub(crate) fn today(now: DateTime<Utc>) -> NaiveDate {
    local_date(now)
}
