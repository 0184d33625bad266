//! A customer's ACH debit limits, checked when a debit is created (single
//! debits and schedule occurrences alike):
//!
//! - **per entry**: the debit's amount;
//! - **daily / monthly**: the debit plus every ACH debit of the customer
//!   *created* in the same US/Eastern day / calendar month, in any status
//!   but `failed` and `cancelled` (held, scheduled, filed, completed and
//!   returned debits count; prenotes carry no amount).
//!
//! Each limit is the customer's own (`Customer::ach_limits`) or else the
//! operator's default ([`crate::config::AchConfig::debit_limits`]); `None`
//! after both means no limit. The totals are read under a per-customer lock
//! taken in the creating transaction (an advisory lock on PostgreSQL;
//! SQLite has a single writer), so two concurrent debits cannot both fit
//! under a limit that only one of them fits.

use chrono::{DateTime, Datelike, NaiveTime, Utc};
use inflow_core::calendar::{eastern_instant, local_date};
use inflow_core::model::{AchLimits, Customer};
use inflow_store::{StoreError, Tx};

/// A debit a limit refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitExceeded {
    /// The limit's field on the customer: `perEntryMax`, `dailyDebitMax`
    /// or `monthlyDebitMax`.
    pub limit: &'static str,
    /// Says which limit, its value and what the debit would have made of it.
    pub message: String,
}

/// A limit's refusal: `limit_exceeded`, a conflict with what the customer
/// already debited (or may debit), about `amount.value`.
impl From<LimitExceeded> for inflow_core::Refusal {
    fn from(e: LimitExceeded) -> Self {
        inflow_core::Refusal::conflict("limit_exceeded", e.message).with_field("amount.value")
    }
}

/// Why a debit could not be checked or was refused.
#[derive(Debug, thiserror::Error)]
pub enum LimitError {
    #[error("{}", .0.message)]
    Exceeded(LimitExceeded),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `minor` as dollars: `1234.56 USD`.
fn usd(minor: i64) -> String {
    format!("{}.{:02} USD", minor / 100, minor % 100)
}

/// The per-entry maximum for a debit of `amount` minor units.
pub fn check_per_entry(
    customer: &Customer,
    defaults: AchLimits,
    amount: i64,
) -> Result<(), LimitExceeded> {
    match customer.ach_limits.or(defaults).per_entry_max {
        Some(max) if amount > max => Err(LimitExceeded {
            limit: "perEntryMax",
            message: format!(
                "a debit of {} is over the customer's per-entry maximum (achLimits.perEntryMax) of {}",
                usd(amount),
                usd(max)
            ),
        }),
        _ => Ok(()),
    }
}

/// The daily and monthly maximums for a new debit of `amount` minor units
/// created at `now`, in the transaction that will store it. Takes the
/// customer's limit lock when either limit applies.
pub async fn check_debit_totals(
    tx: &mut Tx,
    customer: &Customer,
    defaults: AchLimits,
    amount: i64,
    now: DateTime<Utc>,
) -> Result<(), LimitError> {
    let limits = customer.ach_limits.or(defaults);
    if limits.daily_debit_max.is_none() && limits.monthly_debit_max.is_none() {
        return Ok(());
    }
    tx.lock_ach_debit_limits(&customer.id).await?;
    let today = local_date(now);
    let day_start = eastern_instant(today, NaiveTime::MIN);
    let month_start = eastern_instant(today.with_day(1).unwrap_or(today), NaiveTime::MIN);
    let (day, month) = tx
        .ach_debit_totals_since(&customer.id, day_start, month_start)
        .await?;
    let checks = [
        (
            limits.daily_debit_max,
            day,
            "dailyDebitMax",
            "daily",
            "today",
        ),
        (
            limits.monthly_debit_max,
            month,
            "monthlyDebitMax",
            "monthly",
            "this month",
        ),
    ];
    for (max, used, limit, name, period) in checks {
        if let Some(max) = max {
            if used.saturating_add(amount) > max {
                return Err(LimitError::Exceeded(LimitExceeded {
                    limit,
                    message: format!(
                        "a debit of {} would bring the customer's ACH debits created {period} (US/Eastern) \
                         to {}, over its {name} debit maximum (achLimits.{limit}) of {}",
                        usd(amount),
                        usd(used.saturating_add(amount)),
                        usd(max)
                    ),
                }));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn customer(limits: AchLimits) -> Customer {
        let now = Utc::now();
        Customer {
            id: inflow_core::ids::CustomerId::generate(now),
            name: "c".into(),
            kind: inflow_core::model::CustomerKind::Business,
            email: None,
            status: inflow_core::model::CustomerStatus::Active,
            allow_one_time_source: false,
            require_signed_requests: false,
            ach_company_name: None,
            ach_company_id: None,
            allowed_company_names: Vec::new(),
            ach_policy: Default::default(),
            card_daily_limit: 0,
            can_manage_api_keys: false,
            odfi_id: None,
            ach_limits: limits,
            metadata: Default::default(),
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn the_customers_per_entry_maximum_wins_over_the_default() {
        let defaults = AchLimits {
            per_entry_max: Some(1_000),
            ..Default::default()
        };
        let own = customer(AchLimits {
            per_entry_max: Some(5_000),
            ..Default::default()
        });
        assert!(check_per_entry(&own, defaults, 5_000).is_ok());
        let e = check_per_entry(&own, defaults, 5_001).unwrap_err();
        assert_eq!(e.limit, "perEntryMax");
        assert!(e.message.contains("50.00 USD"), "{}", e.message);
        let plain = customer(AchLimits::default());
        assert!(check_per_entry(&plain, defaults, 1_001).is_err());
        assert!(check_per_entry(&plain, AchLimits::default(), i64::MAX).is_ok());
    }
}
