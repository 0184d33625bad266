//! The amount rules of a new ACH entry: a debit is more than zero and within
//! the customer's per-entry maximum, a prenote is zero, the amount covers the
//! fees charged on it, and a Same Day entry is within the NACHA per-entry
//! limit. Returns the fees the collection is charged.

use inflow_core::calendar::timing::SAME_DAY_ENTRY_LIMIT_MINOR;
use inflow_core::collection::{AchEntryType, ProcessingMode};
use inflow_core::fees::CollectionFees;
use inflow_core::model::Customer;
use inflow_core::Refusal;
use inflow_store::Tx;

use super::{CollectionRules, NewAchCollection};
use crate::usecase::UseCaseResult;

/// The request field every amount refusal is about.
const AMOUNT: &str = "amount.value";

/// Check the amount; the fees it is charged.
pub(super) async fn check(
    tx: &mut Tx,
    customer: &Customer,
    req: &NewAchCollection,
    rules: &CollectionRules,
) -> UseCaseResult<CollectionFees> {
    let minor = req.amount.minor();
    match req.entry_type {
        AchEntryType::Debit if req.amount.is_zero() => {
            return Err(Refusal::invalid(
                "invalid_amount",
                "a debit's amount must be greater than zero",
                AMOUNT,
            )
            .into())
        }
        AchEntryType::Prenote if !req.amount.is_zero() => {
            return Err(Refusal::invalid(
                "invalid_amount",
                "a prenote's amount must be zero",
                AMOUNT,
            )
            .into())
        }
        AchEntryType::Debit => {
            crate::limits::check_per_entry(customer, rules.ach.debit_limits, minor)?
        }
        _ => {}
    }
    let fees = tx
        .effective_fee_schedule(&customer.id)
        .await?
        .ach_fees(minor, req.processing_mode);
    if fees.total() > minor {
        return Err(Refusal::invalid(
            "amount_below_fees",
            format!(
                "the amount must cover the fees charged on it ({} minor units)",
                fees.total()
            ),
            AMOUNT,
        )
        .into());
    }
    if req.processing_mode == ProcessingMode::SameDay && minor > SAME_DAY_ENTRY_LIMIT_MINOR {
        return Err(Refusal::invalid(
            "same_day_limit_exceeded",
            "Same Day ACH entries are limited to $1,000,000.00; use standard processing",
            AMOUNT,
        )
        .into());
    }
    Ok(fees)
}
