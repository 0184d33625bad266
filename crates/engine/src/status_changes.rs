//! What a status change of a destination account, a payment method or a
//! customer does to the collections and schedules that depend on it — one
//! function per kind of change, called in the transaction that wrote the
//! new status (by the HTTP handlers and by return ingestion):
//!
//! - every collection of it not yet in a file (`scheduled`, `pending`,
//!   `on_hold`) follows the new state ([`crate::holds::follow`]): held with
//!   the code naming the reason, released when every reason has cleared,
//!   failed when the destination account is closed;
//! - a payment method blocked by a return (R02, R03, …) fails them all:
//!   the account cannot be debited ([`payment_method_blocked_by_return`]);
//! - when the thing stops being `active`, its active recurring schedules
//!   **pause** with the reason (`schedule.paused`); resuming them is the
//!   customer's decision (`POST /v1/schedules/{id}/resume`).
//!
//! Order: schedules first (their row locks), then the thing's exclusive
//! party lock ([`Tx::lock_party_changes`]: collections being created for it
//! commit first), then its unfiled collections are read and moved.

use chrono::{DateTime, Utc};
use inflow_core::ids::ScheduleId;
use inflow_core::model::{
    Account, AccountStatus, BankPaymentMethod, Customer, CustomerStatus, PaymentMethodStatus,
};
use inflow_core::schedule::ScheduleStatus;
use inflow_store::repo::eligibility::UnfiledScope;
use inflow_store::Tx;

use crate::config::AchConfig;
use crate::holds;
use crate::schedules::{pause_in_tx, ScheduleError};

/// `account`'s status has just been written; it was `before`. Returns how
/// many collections moved.
pub async fn destination_status_changed(
    tx: &mut Tx,
    cfg: &AchConfig,
    account: &Account,
    before: AccountStatus,
    now: DateTime<Utc>,
) -> Result<usize, ScheduleError> {
    if account.status == before {
        return Ok(0);
    }
    let what = format!("destination account {} is {}", account.id, account.status);
    if account.status != AccountStatus::Active {
        let ids = tx.active_schedules_for_account(&account.id).await?;
        pause_all(tx, cfg, ids, &what, now).await?;
    }
    tx.lock_party_changes(account.id.as_str()).await?;
    let scope = UnfiledScope::Account(&account.id);
    Ok(holds::follow(tx, cfg, scope, &what, now).await?)
}

/// `pm`'s status has just been written (by the customer or the operator);
/// it was `before`.
pub async fn payment_method_status_changed(
    tx: &mut Tx,
    cfg: &AchConfig,
    pm: &BankPaymentMethod,
    before: PaymentMethodStatus,
    now: DateTime<Utc>,
) -> Result<usize, ScheduleError> {
    if pm.status == before {
        return Ok(0);
    }
    let what = format!(
        "payment method {} is {}{}",
        pm.id,
        pm.status,
        pm.status_reason
            .as_deref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default()
    );
    if pm.status != PaymentMethodStatus::Active {
        let ids = tx.active_schedules_for_payment_method(&pm.id).await?;
        pause_all(tx, cfg, ids, &what, now).await?;
    }
    tx.lock_party_changes(pm.id.as_str()).await?;
    let scope = UnfiledScope::PaymentMethod(&pm.id);
    Ok(holds::follow(tx, cfg, scope, &what, now).await?)
}

/// A return (`reason`, e.g. `R03: No account…`) has just blocked `pm`, or
/// found it blocked: every collection on it not yet in a file fails, and
/// its active schedules pause. (Return ingestion applies the schedule
/// rules for the returned collection first, so a schedule the return
/// stops has its collections cancelled, not failed.)
pub async fn payment_method_blocked_by_return(
    tx: &mut Tx,
    cfg: &AchConfig,
    pm: &BankPaymentMethod,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<usize, ScheduleError> {
    let what = format!("payment method {} is blocked: ACH return {reason}", pm.id);
    let ids = tx.active_schedules_for_payment_method(&pm.id).await?;
    pause_all(tx, cfg, ids, &what, now).await?;
    tx.lock_party_changes(pm.id.as_str()).await?;
    let scope = UnfiledScope::PaymentMethod(&pm.id);
    Ok(holds::fail_unfiled(tx, cfg, scope, &what, now).await?)
}

/// `customer`'s status has just been written; it was `before`.
pub async fn customer_status_changed(
    tx: &mut Tx,
    cfg: &AchConfig,
    customer: &Customer,
    before: CustomerStatus,
    now: DateTime<Utc>,
) -> Result<usize, ScheduleError> {
    if customer.status == before {
        return Ok(0);
    }
    let what = format!("customer {} is {}", customer.id, customer.status);
    if customer.status != CustomerStatus::Active {
        let ids = tx.active_schedules_for_customer(&customer.id).await?;
        pause_all(tx, cfg, ids, &what, now).await?;
    }
    tx.lock_party_changes(customer.id.as_str()).await?;
    let scope = UnfiledScope::Customer(&customer.id);
    Ok(holds::follow(tx, cfg, scope, &what, now).await?)
}

/// Pause each schedule of `ids` still active (under its row lock).
async fn pause_all(
    tx: &mut Tx,
    cfg: &AchConfig,
    ids: Vec<ScheduleId>,
    why: &str,
    now: DateTime<Utc>,
) -> Result<(), ScheduleError> {
    for id in ids {
        tx.lock_schedule(&id).await?;
        let mut s = tx.get_schedule(None, &id).await?;
        if s.status == ScheduleStatus::Active {
            pause_in_tx(tx, cfg, &mut s, why.to_owned(), now).await?;
        }
    }
    Ok(())
}
