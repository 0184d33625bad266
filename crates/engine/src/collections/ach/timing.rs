//! When a new ACH entry settles and when it is released to a cutoff: planned
//! with the windows of the ODFI that will file it (the destination
//! account's, else the customer's, else the default).

use chrono::{DateTime, Utc};
use inflow_core::calendar::{plan_entry, EntryPlan, TimingError};
use inflow_core::model::{Account, Customer};
use inflow_core::Refusal;

use super::{CollectionRules, NewAchCollection};

/// A timing rule's refusal, naming the request field it is about.
pub fn timing_refusal(e: TimingError) -> Refusal {
    let field = match e {
        TimingError::SameDayNotOffered => "processingMode",
        _ => "effectiveDate",
    };
    Refusal::invalid(e.code(), e.to_string(), field)
}

pub(super) fn plan(
    rules: &CollectionRules,
    customer: &Customer,
    destination: &Account,
    req: &NewAchCollection,
    now: DateTime<Utc>,
) -> Result<EntryPlan, Refusal> {
    let odfi = rules
        .ach
        .effective_odfi(destination.odfi_id.as_deref(), customer.odfi_id.as_deref());
    plan_entry(
        &rules.ach.calendar,
        rules.ach.cutoffs_for(odfi),
        now,
        req.processing_mode,
        req.effective_date,
        rules.ach.effective_date_horizon_days,
    )
    .map_err(timing_refusal)
}
