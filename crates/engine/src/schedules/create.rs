//! Creating and changing recurring ACH debit schedules, and creating their
//! occurrences.
//!
//! A schedule is checked with the **same** rules as a single ACH debit
//! ([`build_ach_collection`]): creating or changing one builds (and throws
//! away) the collection its next occurrence would be, so a schedule that is
//! accepted can run. The schedules job creates each occurrence with
//! [`create_occurrence`], which is [`create_ach_collection`], the function
//! behind `POST /v1/collections/ach`.
//!
//! A collection rule's refusal names a collection's request field; here it
//! is renamed to the schedule's field it comes from ([`schedule_field`]).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use inflow_core::calendar::{local_date, plan_entry, ProcessingMode};
use inflow_core::collection::{AchCollection, AchEntryType, Authorization, PaymentType, SecCode};
use inflow_core::ids::{PaymentMethodId, ScheduleId};
use inflow_core::model::{validate_external_id, validate_metadata, Customer, Metadata};
use inflow_core::money::Money;
use inflow_core::schedule::{
    AmountChange, Recurrence, RetryPolicy, Schedule, ScheduleLink, ScheduleStatus,
    ScheduleStatusChange,
};
use inflow_core::text::{bounded_text, validate_entry_description};
use inflow_core::Refusal;
use inflow_store::{StoreError, Tx};

use super::{schedule_event, ScheduleError};
use crate::collections::ach::{
    build_ach_collection, create_ach_collection, CollectionRules, NewAchCollection, Source,
};
use crate::collections::destination::DestinationRef;
use crate::usecase::{UseCaseError, UseCaseResult};

/// A schedule request after parsing.
#[derive(Debug, Clone)]
pub struct NewSchedule {
    pub payment_method_id: PaymentMethodId,
    pub destination: DestinationRef,
    pub amount: Money,
    pub sec_code: Option<SecCode>,
    pub authorization: Authorization,
    pub recurrence: Recurrence,
    pub company_entry_description: Option<String>,
    pub reference: Option<String>,
    pub external_id: Option<String>,
    pub metadata: Metadata,
    pub retry_policy: Option<RetryPolicy>,
}

/// What a change of a schedule may change.
#[derive(Debug, Clone, Default)]
pub struct SchedulePatch {
    pub amount: Option<Money>,
    pub payment_method_id: Option<PaymentMethodId>,
}

/// Which request a dry run of the collection rules checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Probe {
    Create,
    Change,
}

/// The schedule's request field a collection rule's refusal of the dry run
/// is about: the occurrence's `effectiveDate` is the schedule's run date
/// (`startDate`); on a change, the SEC code follows the (new) payment
/// method's holder, so a `secCode` refusal is about `paymentMethodId`.
fn schedule_field(collection_field: &str, probe: Probe) -> Option<&'static str> {
    match (collection_field, probe) {
        ("effectiveDate", _) => Some("startDate"),
        ("secCode", Probe::Change) => Some("paymentMethodId"),
        _ => None,
    }
}

fn as_schedule_refusal(probe: Probe) -> impl FnOnce(UseCaseError) -> UseCaseError {
    move |e| {
        e.map_refusal(|mut r| {
            if let Some(f) = r.field.as_deref().and_then(|f| schedule_field(f, probe)) {
                r.field = Some(f.to_owned());
            }
            r
        })
    }
}

/// The single debit an occurrence of a schedule with these settings is.
struct Occurrence {
    destination: DestinationRef,
    payment_method_id: PaymentMethodId,
    amount: Money,
    sec_code: Option<SecCode>,
    authorization: Authorization,
    company_entry_description: Option<String>,
    reference: Option<String>,
    metadata: Metadata,
    effective_date: NaiveDate,
}

impl Occurrence {
    fn of(s: &Schedule, effective_date: NaiveDate, amount: Money) -> Self {
        Self {
            destination: DestinationRef::Id(s.destination_account_id.clone()),
            payment_method_id: s.payment_method_id.clone(),
            amount,
            sec_code: Some(s.sec_code),
            authorization: s.authorization.clone(),
            company_entry_description: s.company_entry_description.clone(),
            reference: s.reference.clone(),
            metadata: s.metadata.clone(),
            effective_date,
        }
    }

    fn debit(self) -> NewAchCollection {
        let sec_code = self.sec_code;
        NewAchCollection {
            destination: self.destination,
            source: Source::PaymentMethod(self.payment_method_id),
            counterparty_id: None,
            entry_type: AchEntryType::Debit,
            amount: self.amount,
            sec_code,
            processing_mode: ProcessingMode::Standard,
            effective_date: Some(self.effective_date),
            payment_type: sec_code
                .filter(|s| s.has_payment_type())
                .map(|_| PaymentType::Recurring),
            authorization: Some(self.authorization),
            company_name: None,
            company_entry_description: self.company_entry_description,
            addenda: None,
            reference: self.reference,
            purpose: None,
            external_id: None,
            metadata: self.metadata,
            // A schedule collects the same amount from the same account by design.
            allow_duplicate: true,
            schedule: None,
        }
    }
}

/// The earliest effective date of a standard debit made at `now`.
fn earliest_effective_date(
    rules: &CollectionRules,
    now: DateTime<Utc>,
) -> Result<NaiveDate, Refusal> {
    plan_entry(
        &rules.ach.calendar,
        &rules.ach.cutoffs,
        now,
        ProcessingMode::Standard,
        None,
        rules.ach.effective_date_horizon_days,
    )
    .map(|p| p.effective_date)
    .map_err(|e| Refusal::invalid(e.code(), e.to_string(), "startDate"))
}

/// The first run date, refused when it is before the earliest possible
/// effective date or beyond the horizon.
fn first_run_date(
    recurrence: &Recurrence,
    rules: &CollectionRules,
    now: DateTime<Utc>,
) -> Result<NaiveDate, Refusal> {
    let first_run = recurrence.run_date(&rules.ach.calendar, 1).ok_or_else(|| {
        Refusal::invalid("invalid_date", "startDate is out of range", "startDate")
    })?;
    let earliest = earliest_effective_date(rules, now)?;
    if first_run < earliest {
        return Err(Refusal::invalid(
            "start_date_too_soon",
            format!(
                "the first run date would be {first_run}, but the earliest possible effective date is {earliest}; choose a later startDate"
            ),
            "startDate",
        ));
    }
    let horizon =
        local_date(now) + Duration::days(i64::from(rules.ach.effective_date_horizon_days));
    if first_run > horizon {
        return Err(Refusal::invalid(
            "start_date_beyond_horizon",
            format!("the first run date would be {first_run}; schedules must start by {horizon}"),
            "startDate",
        ));
    }
    Ok(first_run)
}

/// Check every rule and build the schedule (not yet stored).
pub async fn build_schedule(
    tx: &mut Tx,
    customer: &Customer,
    req: NewSchedule,
    rules: &CollectionRules,
    now: DateTime<Utc>,
) -> UseCaseResult<Schedule> {
    validate_metadata("metadata", &req.metadata)?;
    let external_id = req
        .external_id
        .as_deref()
        .map(|e| validate_external_id("externalId", e))
        .transpose()?;
    let reference = req
        .reference
        .as_deref()
        .map(|r| bounded_text("reference", r, 1, 100))
        .transpose()?;
    let description = req
        .company_entry_description
        .as_deref()
        .map(|d| validate_entry_description("companyEntryDescription", d))
        .transpose()?;
    let first_run = first_run_date(&req.recurrence, rules, now)?;
    // The first occurrence, built and thrown away: every collection rule.
    let probe = Occurrence {
        destination: req.destination.clone(),
        payment_method_id: req.payment_method_id.clone(),
        amount: req.amount,
        sec_code: req.sec_code,
        authorization: req.authorization.clone(),
        company_entry_description: description.clone(),
        reference: reference.clone(),
        metadata: req.metadata.clone(),
        effective_date: first_run,
    };
    let probe = build_ach_collection(tx, customer, probe.debit(), rules, now)
        .await
        .map_err(as_schedule_refusal(Probe::Create))?;
    Ok(Schedule {
        id: ScheduleId::generate(now),
        customer_id: customer.id.clone(),
        status: ScheduleStatus::Active,
        status_reason: None,
        status_history: vec![ScheduleStatusChange {
            status: ScheduleStatus::Active,
            reason: Some("created".into()),
            at: now,
        }],
        payment_method_id: req.payment_method_id,
        destination_account_id: probe.destination_account_id,
        amount: req.amount,
        amount_changed_at: None,
        amount_history: Vec::new(),
        sec_code: probe.sec_code,
        authorization: req.authorization,
        recurrence: req.recurrence,
        company_entry_description: description,
        reference,
        external_id,
        metadata: req.metadata,
        retry_policy: req.retry_policy,
        next_occurrence: 1,
        next_run_date: Some(first_run),
        created_at: now,
        updated_at: now,
    })
}

/// Store a new schedule and its `schedule.created` event.
pub async fn insert_schedule(
    tx: &mut Tx,
    rules: &CollectionRules,
    s: &Schedule,
) -> Result<(), ScheduleError> {
    tx.insert_schedule(s).await.map_err(|e| match e {
        StoreError::Conflict(_) => ScheduleError::Refused(
            Refusal::conflict(
                "external_id_taken",
                "another schedule of this customer already has this externalId",
            )
            .with_field("externalId"),
        ),
        other => other.into(),
    })?;
    schedule_event(tx, &rules.ach, "schedule.created", s, s.created_at).await
}

/// `s` with the patch applied; a new amount is recorded with its time
/// (`amountChangedAt`, `amountHistory`).
fn patched(s: &Schedule, patch: SchedulePatch, now: DateTime<Utc>) -> Schedule {
    let mut changed = s.clone();
    if let Some(pm) = patch.payment_method_id {
        changed.payment_method_id = pm;
    }
    if let Some(amount) = patch.amount {
        if amount != s.amount {
            changed.amount_history.push(AmountChange {
                from_minor: s.amount.minor(),
                to_minor: amount.minor(),
                changed_at: now,
                from_occurrence: s.next_occurrence,
            });
            changed.amount_changed_at = Some(now);
            changed.amount = amount;
        }
    }
    changed
}

/// Change the amount and/or payment method of a schedule's future
/// occurrences (those not created yet), after checking the next occurrence
/// against every collection rule.
pub async fn patch_schedule(
    tx: &mut Tx,
    rules: &CollectionRules,
    customer: &Customer,
    s: &mut Schedule,
    patch: SchedulePatch,
    now: DateTime<Utc>,
) -> Result<(), ScheduleError> {
    if !matches!(s.status, ScheduleStatus::Active | ScheduleStatus::Paused) {
        return Err(Refusal::conflict(
            "schedule_not_changeable",
            format!("a {} schedule can no longer be changed", s.status),
        )
        .into());
    }
    let read_next = s.next_occurrence;
    let mut changed = patched(s, patch, now);
    let date = s
        .next_run_date
        .unwrap_or(local_date(now))
        .max(earliest_effective_date(rules, now)?);
    let mut probe = Occurrence::of(&changed, date, changed.amount);
    if changed.payment_method_id != s.payment_method_id {
        // The SEC code follows the new account holder (CCD for a business, …).
        probe.sec_code = None;
    }
    let built = build_ach_collection(tx, customer, probe.debit(), rules, now)
        .await
        .map_err(as_schedule_refusal(Probe::Change))?;
    changed.sec_code = built.sec_code;
    changed.updated_at = now;
    if !tx.update_schedule_if(&changed, read_next).await? {
        return Err(Refusal::conflict(
            "schedule_changed",
            "the schedule changed while this request ran; retry",
        )
        .into());
    }
    *s = changed;
    schedule_event(tx, &rules.ach, "schedule.updated", s, now).await
}

/// Create occurrence `occurrence` of `s` as an ACH collection collected on
/// `effective_date`, through [`create_ach_collection`] (every collection
/// rule, the debit limits, the insert and its event). A refusal is the
/// reason the schedule pauses; a store conflict means the occurrence exists.
pub async fn create_occurrence(
    tx: &mut Tx,
    rules: &CollectionRules,
    s: &Schedule,
    occurrence: u32,
    effective_date: NaiveDate,
    now: DateTime<Utc>,
) -> UseCaseResult<AchCollection> {
    let customer = tx.get_customer(&s.customer_id).await?;
    let mut debit = Occurrence::of(s, effective_date, s.amount).debit();
    debit.schedule = Some(ScheduleLink {
        schedule_id: s.id.clone(),
        occurrence,
        retry: 0,
        retry_of: None,
    });
    create_ach_collection(tx, &customer, debit, rules, now).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dry_runs_effective_date_is_the_schedules_start_date() {
        assert_eq!(
            schedule_field("effectiveDate", Probe::Create),
            Some("startDate")
        );
        assert_eq!(
            schedule_field("effectiveDate", Probe::Change),
            Some("startDate")
        );
        assert_eq!(schedule_field("secCode", Probe::Create), None);
        assert_eq!(
            schedule_field("secCode", Probe::Change),
            Some("paymentMethodId")
        );
        assert_eq!(schedule_field("amount.value", Probe::Change), None);
    }
}
