//! Held collections: moving unfiled collections (`scheduled`, `pending`,
//! `on_hold`) on and off hold as the state of their parties changes.
//!
//! Holds are **recomputed, never trusted**: whenever something a collection
//! depends on changes, [`follow`] reads the live state of its customer,
//! destination account, payment method and schedule and applies
//! [`crate::eligibility::verdict`]:
//! - not eligible, not yet held → `on_hold` with the verdict's hold code;
//! - held, but for another reason now → same status, new `hold_code`, a
//!   history line ("…; still held: …") and `collection.updated`;
//! - eligible and held → released: planned again from "now" (the
//!   effective date is kept when still reachable, otherwise moved to the
//!   earliest one, and the history says so) to `pending`/`scheduled`;
//! - the destination account closed → `failed`.
//!
//! So a collection held for several reasons shows one code but is released
//! only when all have cleared. The one code the state cannot re-derive is
//! `prenote_pending` (the customer's policy at creation): it is sticky —
//! only the prenote's outcome lifts it ([`release`], then the other reasons
//! are looked at) or fails the collection ([`fail`]).
//!
//! Everything happens in the caller's transaction, with an event per
//! collection moved, written a few thousand rows per statement.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use inflow_core::calendar::{plan_entry, CutoffSchedule};
use inflow_core::collection::{AchCollection, CollectionStatus, HoldCode, StatusChange};
use inflow_core::ids::{AccountId, CollectionId, PaymentMethodId};
use inflow_store::repo::eligibility::{CollectionState, UnfiledScope};
use inflow_store::repo::events::Event;
use inflow_store::{StoreError, Tx};

use crate::config::AchConfig;
use crate::eligibility::{verdict, Verdict};
use crate::events::{collection_event_row, status_event_row};

/// What happens to one collection.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Change {
    Hold(HoldCode, String),
    Recode(HoldCode, String),
    Fail(String),
    Release,
}

/// Bring every unfiled collection in `scope` in line with its parties'
/// live state (see the module documentation). `cause` says what changed
/// (it leads the reason of a release or a change of hold code). Returns how
/// many collections moved.
pub async fn follow(
    tx: &mut Tx,
    cfg: &AchConfig,
    scope: UnfiledScope<'_>,
    cause: &str,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let states = tx.unfiled_ach_states(scope).await?;
    let planned = states
        .iter()
        .filter_map(|s| change(s, None).map(|c| (s, c)))
        .map(|(s, c)| (s.id.clone(), c))
        .collect();
    execute(tx, cfg, planned, cause, now).await
}

/// [`follow`] for the collections `ids` (say, one just created by a job).
pub async fn follow_collections(
    tx: &mut Tx,
    cfg: &AchConfig,
    ids: &[CollectionId],
    cause: &str,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let states = tx.ach_states(ids).await?;
    let planned = states
        .iter()
        .filter(|s| s.status.is_cancellable())
        .filter_map(|s| change(s, None).map(|c| (s.id.clone(), c)))
        .collect();
    execute(tx, cfg, planned, cause, now).await
}

/// Lift `hold` from the collections held for it on a payment method and/or
/// a destination account (a prenote cleared, the operator validated the
/// account), then treat them like [`follow`] does: released if nothing
/// else holds them, still held (with the other reason's code) otherwise.
pub async fn release(
    tx: &mut Tx,
    cfg: &AchConfig,
    hold: HoldCode,
    payment_method: Option<&PaymentMethodId>,
    account: Option<&AccountId>,
    why: &str,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let ids: Vec<CollectionId> = tx
        .held_ach_collections(hold, payment_method, account)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    let states = tx.ach_states(&ids).await?;
    let planned = states
        .iter()
        .filter(|s| s.status == CollectionStatus::OnHold && s.hold == Some(hold))
        .filter_map(|s| change(s, Some(hold)).map(|c| (s.id.clone(), c)))
        .collect();
    execute(tx, cfg, planned, why, now).await
}

/// Fail every collection held for `hold` on a payment method and/or a
/// destination account (a returned prenote).
pub async fn fail(
    tx: &mut Tx,
    cfg: &AchConfig,
    hold: HoldCode,
    payment_method: Option<&PaymentMethodId>,
    account: Option<&AccountId>,
    why: &str,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let planned = tx
        .held_ach_collections(hold, payment_method, account)
        .await?
        .into_iter()
        .map(|c| (c.id, Change::Fail(why.to_owned())))
        .collect();
    execute(tx, cfg, planned, why, now).await
}

/// Fail every unfiled collection in `scope`, whatever holds it (a payment
/// method blocked by a return: the account cannot be debited).
pub async fn fail_unfiled(
    tx: &mut Tx,
    cfg: &AchConfig,
    scope: UnfiledScope<'_>,
    why: &str,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let planned = tx
        .unfiled_ach_states(scope)
        .await?
        .into_iter()
        .map(|s| (s.id, Change::Fail(why.to_owned())))
        .collect();
    execute(tx, cfg, planned, why, now).await
}

/// What the live state asks of one unfiled collection; `None`: nothing.
/// `lifted` is a hold code being lifted by the caller (so not sticky).
fn change(s: &CollectionState, lifted: Option<HoldCode>) -> Option<Change> {
    use CollectionStatus::OnHold;
    let held = s.status == OnHold;
    let sticky = held
        && s.hold == Some(HoldCode::PrenotePending)
        && lifted != Some(HoldCode::PrenotePending);
    match verdict(&s.parties) {
        Verdict::Fail(why) => Some(Change::Fail(why)),
        Verdict::Hold(code, why) if !held => Some(Change::Hold(code, why)),
        Verdict::Hold(code, _) if sticky || s.hold == Some(code) => None,
        Verdict::Hold(code, why) => Some(Change::Recode(code, why)),
        Verdict::Eligible => (held && !sticky).then_some(Change::Release),
    }
}

/// Apply `planned` changes: load the collections, move each, write them
/// grouped by the status they were read in (a collection another
/// transaction moved meanwhile is left alone) and record their events.
async fn execute(
    tx: &mut Tx,
    cfg: &AchConfig,
    planned: Vec<(CollectionId, Change)>,
    cause: &str,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    if planned.is_empty() {
        return Ok(0);
    }
    let ids: Vec<CollectionId> = planned.iter().map(|(id, _)| id.clone()).collect();
    let loaded = tx.load_ach_collections(&ids).await?;
    // Released collections are planned again with their ODFI's windows.
    let assigned = if planned.iter().any(|(_, ch)| matches!(ch, Change::Release)) {
        crate::odfi_windows::Assignments::load(tx, cfg).await?
    } else {
        Default::default()
    };
    let mut groups: HashMap<CollectionStatus, Vec<(AchCollection, Event)>> = HashMap::new();
    for (mut c, (_, change)) in loaded.into_iter().zip(planned) {
        let from = c.status;
        let cutoffs = assigned.cutoffs_of(cfg, &c);
        let event = apply(cfg, cutoffs, &mut c, change, cause, now)?;
        groups.entry(from).or_default().push((c, event));
    }
    let mut moved = 0;
    for (from, group) in groups {
        let collections: Vec<AchCollection> = group.iter().map(|(c, _)| c.clone()).collect();
        let written = tx.update_ach_collections_if(&collections, from).await?;
        let events: Vec<Event> = group
            .into_iter()
            .filter(|(c, _)| written.contains(c.id.as_str()))
            .map(|(_, e)| e)
            .collect();
        moved += events.len();
        tx.insert_events(&events).await?;
    }
    Ok(moved)
}

/// Make `change` to `c`; returns its event.
fn apply(
    cfg: &AchConfig,
    cutoffs: &CutoffSchedule,
    c: &mut AchCollection,
    change: Change,
    cause: &str,
    now: DateTime<Utc>,
) -> Result<Event, StoreError> {
    let corrupt = |e: inflow_core::collection::TransitionError| StoreError::Corrupt(e.to_string());
    match change {
        Change::Hold(code, why) => {
            c.transition(CollectionStatus::OnHold, Some(why), now)
                .map_err(corrupt)?;
            c.hold = Some(code);
        }
        Change::Recode(code, why) => {
            let reason = format!("{cause}; still held: {why}");
            c.hold = Some(code);
            c.status_reason = Some(reason.clone());
            c.status_history.push(StatusChange {
                status: c.status,
                reason: Some(reason),
                at: now,
            });
            c.updated_at = now;
            return Ok(collection_event_row("collection.updated", c, now));
        }
        Change::Fail(why) => c
            .transition(CollectionStatus::Failed, Some(why), now)
            .map_err(corrupt)?,
        Change::Release => replan(cfg, cutoffs, c, cause, now).map_err(corrupt)?,
    }
    Ok(status_event_row(c, now))
}

/// Plan `c` again from `now` and move it to `pending` (or `scheduled` when
/// its effective date is still some banking days away).
fn replan(
    cfg: &AchConfig,
    cutoffs: &CutoffSchedule,
    c: &mut AchCollection,
    why: &str,
    now: DateTime<Utc>,
) -> Result<(), inflow_core::collection::TransitionError> {
    let plan_for = |date| {
        plan_entry(
            &cfg.calendar,
            cutoffs,
            now,
            c.processing_mode,
            date,
            cfg.effective_date_horizon_days,
        )
    };
    let kept = plan_for(Some(c.effective_date));
    let (plan, note) = match kept {
        Ok(plan) => (plan, String::new()),
        Err(_) => match plan_for(None) {
            Ok(plan) => (
                plan,
                format!(
                    "; effective date moved from {} to {}",
                    c.effective_date, plan.effective_date
                ),
            ),
            Err(e) => {
                return c.transition(
                    CollectionStatus::Failed,
                    Some(format!("{why}, but it can no longer be scheduled: {e}")),
                    now,
                );
            }
        },
    };
    c.effective_date = plan.effective_date;
    c.release_date = plan.release_date;
    let to = if plan.deferred {
        CollectionStatus::Scheduled
    } else {
        CollectionStatus::Pending
    };
    c.transition(to, Some(format!("{why}{note}")), now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use inflow_core::model::{AccountStatus, CustomerStatus, PaymentMethodStatus};
    use inflow_store::repo::eligibility::Parties;

    fn state(status: CollectionStatus, hold: Option<HoldCode>, p: Parties) -> CollectionState {
        CollectionState {
            id: CollectionId::from_trusted("col_test".into()),
            status,
            hold,
            parties: p,
        }
    }

    fn active() -> Parties {
        Parties {
            customer: CustomerStatus::Active,
            account: AccountStatus::Active,
            payment_method: Some(PaymentMethodStatus::Active),
            schedule: None,
        }
    }

    fn blocked() -> Parties {
        Parties {
            account: AccountStatus::Blocked,
            ..active()
        }
    }

    #[test]
    fn unfiled_collections_go_on_hold_and_held_ones_change_code_or_stay() {
        use CollectionStatus::*;
        assert!(matches!(
            change(&state(Pending, None, blocked()), None),
            Some(Change::Hold(HoldCode::DestinationBlocked, _))
        ));
        assert!(matches!(
            change(&state(Scheduled, None, blocked()), None),
            Some(Change::Hold(HoldCode::DestinationBlocked, _))
        ));
        let same = state(OnHold, Some(HoldCode::DestinationBlocked), blocked());
        assert_eq!(change(&same, None), None);
        let other = state(OnHold, Some(HoldCode::PaymentMethodInactive), blocked());
        assert!(matches!(
            change(&other, None),
            Some(Change::Recode(HoldCode::DestinationBlocked, _))
        ));
        assert_eq!(change(&state(Pending, None, active()), None), None);
        assert_eq!(
            change(
                &state(OnHold, Some(HoldCode::CustomerSuspended), active()),
                None
            ),
            Some(Change::Release)
        );
    }

    #[test]
    fn a_prenote_hold_is_sticky_until_lifted_but_a_closed_account_still_fails_it() {
        use CollectionStatus::*;
        let prenote = Some(HoldCode::PrenotePending);
        assert_eq!(change(&state(OnHold, prenote, active()), None), None);
        assert_eq!(change(&state(OnHold, prenote, blocked()), None), None);
        assert_eq!(
            change(&state(OnHold, prenote, active()), prenote),
            Some(Change::Release)
        );
        assert!(matches!(
            change(&state(OnHold, prenote, blocked()), prenote),
            Some(Change::Recode(HoldCode::DestinationBlocked, _))
        ));
        let closed = Parties {
            account: AccountStatus::Closed,
            ..active()
        };
        assert!(matches!(
            change(&state(OnHold, prenote, closed), None),
            Some(Change::Fail(_))
        ));
    }
}
