//! Held collections: what lets an `on_hold` collection go, and what fails it.
//!
//! A collection is held for one of two reasons ([`HoldCode`]):
//! - `prenote_pending`: the customer's policy requires a validated account
//!   and the payment method's prenote is still out. When the prenote clears
//!   (or the operator marks the account validated) the collection is
//!   released; when the prenote is returned, the collection fails.
//! - `destination_blocked`: the destination account is blocked. Unblocking
//!   the account releases it.
//!
//! Releasing plans the entry again from "now": the effective date the
//! collection had is kept when it is still reachable, otherwise it moves to
//! the earliest one, and the history says so. Everything happens in the
//! caller's transaction, with a status event per collection.

use chrono::{DateTime, Utc};
use inflow_core::calendar::plan_entry;
use inflow_core::collection::{AchCollection, CollectionStatus, HoldCode, StatusChange};
use inflow_core::ids::{AccountId, PaymentMethodId};
use inflow_core::model::AccountStatus;
use inflow_store::Tx;

use crate::config::AchConfig;
use crate::events::status_event;
use crate::files::AchError;

/// Release every collection held for `hold` on a payment method or a
/// destination account; returns how many moved.
pub async fn release(
    tx: &mut Tx,
    cfg: &AchConfig,
    hold: HoldCode,
    payment_method: Option<&PaymentMethodId>,
    account: Option<&AccountId>,
    why: &str,
    now: DateTime<Utc>,
) -> Result<usize, AchError> {
    let held = tx
        .held_ach_collections(hold, payment_method, account)
        .await?;
    let mut moved = 0;
    for mut c in held {
        if hold == HoldCode::PrenotePending && destination_blocked(tx, &c).await? {
            // Still held, now for the destination.
            let reason = format!("{why}; destination account is blocked");
            c.hold = Some(HoldCode::DestinationBlocked);
            c.status_reason = Some(reason.clone());
            c.status_history.push(StatusChange {
                status: c.status,
                reason: Some(reason),
                at: now,
            });
            c.updated_at = now;
        } else {
            replan(cfg, &mut c, why, now)?;
        }
        if tx
            .update_ach_collection_if(&c, CollectionStatus::OnHold)
            .await?
        {
            status_event(tx, &c, now).await?;
            moved += 1;
        }
    }
    Ok(moved)
}

async fn destination_blocked(tx: &mut Tx, c: &AchCollection) -> Result<bool, AchError> {
    let account = tx
        .get_account(&c.customer_id, &c.destination_account_id)
        .await?;
    Ok(account.status == AccountStatus::Blocked)
}

/// Fail every collection held for `hold` on a payment method or a
/// destination account (a returned prenote, a closed account).
pub async fn fail(
    tx: &mut Tx,
    hold: HoldCode,
    payment_method: Option<&PaymentMethodId>,
    account: Option<&AccountId>,
    why: &str,
    now: DateTime<Utc>,
) -> Result<usize, AchError> {
    let held = tx
        .held_ach_collections(hold, payment_method, account)
        .await?;
    let mut moved = 0;
    for mut c in held {
        c.transition(CollectionStatus::Failed, Some(why.to_owned()), now)?;
        if tx
            .update_ach_collection_if(&c, CollectionStatus::OnHold)
            .await?
        {
            status_event(tx, &c, now).await?;
            moved += 1;
        }
    }
    Ok(moved)
}

/// Plan `c` again from `now` and move it to `pending` (or `scheduled` when
/// its effective date is still some banking days away).
fn replan(
    cfg: &AchConfig,
    c: &mut AchCollection,
    why: &str,
    now: DateTime<Utc>,
) -> Result<(), AchError> {
    let plan_for = |date| {
        plan_entry(
            &cfg.calendar,
            &cfg.cutoffs,
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
                c.transition(
                    CollectionStatus::Failed,
                    Some(format!("{why}, but it can no longer be scheduled: {e}")),
                    now,
                )?;
                return Ok(());
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
    c.transition(to, Some(format!("{why}{note}")), now)?;
    Ok(())
}
