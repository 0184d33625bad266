//! The daily and monthly ACH debit limits at creation: the last check
//! before a new debit (single or a schedule's occurrence) is stored, in the
//! same transaction (see `inflow_engine::limits`). The per-entry maximum is
//! one of the collection rules (`app::collections`).

use chrono::{DateTime, Utc};
use inflow_core::collection::{AchCollection, AchEntryType};
use inflow_core::model::Customer;
use inflow_engine::config::AchConfig;
use inflow_store::Tx;

use crate::error::ApiError;

/// Refuse `c` with `409 limit_exceeded` when it would take the customer's
/// debits of the day or month over a limit. Prenotes carry no amount.
pub async fn check_debit_totals(
    tx: &mut Tx,
    customer: &Customer,
    ach: &AchConfig,
    c: &AchCollection,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    if c.entry_type != AchEntryType::Debit {
        return Ok(());
    }
    inflow_engine::limits::check_debit_totals(
        tx,
        customer,
        ach.debit_limits,
        c.amount.minor(),
        now,
    )
    .await?;
    Ok(())
}
