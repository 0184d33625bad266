//! Creating and changing recurring ACH debit schedules, and building their
//! occurrences.
//!
//! A schedule is checked with the **same** rules as a single ACH debit
//! ([`build_ach_collection`]): creating or changing one builds (and throws
//! away) the collection its next occurrence would be, so a schedule that is
//! accepted can run. The schedules job builds each occurrence through
//! [`ScheduleRules`], the same function again.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use inflow_core::calendar::{local_date, plan_entry, ProcessingMode};
use inflow_core::collection::{AchCollection, AchEntryType, Authorization, PaymentType, SecCode};
use inflow_core::ids::{PaymentMethodId, ScheduleId};
use inflow_core::model::{validate_external_id, validate_metadata, Customer, Metadata};
use inflow_core::money::Money;
use inflow_core::schedule::{
    AmountChange, Recurrence, RetryPolicy, Schedule, ScheduleStatus, ScheduleStatusChange,
};
use inflow_core::text::{bounded_text, validate_entry_description};
use inflow_engine::schedules::{schedule_event, OccurrenceFactory, OccurrenceRequest, Refusal};
use inflow_store::{StoreError, Tx, WriteFuture};

use crate::app::collections::{build_ach_collection, NewAchCollection, Rules, Source};
use crate::app::destination::DestinationRef;
use crate::error::ApiError;
use crate::state::AppState;

/// The collection rules with the operator's settings.
pub fn collection_rules(state: &AppState) -> Rules<'_> {
    Rules {
        ach: &state.ach,
        vault: &state.vault,
        default_company_name: &state.config.ach.default_company_name,
        default_company_id: &state.config.ach.default_company_id,
        duplicate_window: Duration::hours(i64::from(state.config.ach.duplicate_window_hours)),
    }
}

/// A schedule request after JSON parsing.
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

/// What `PATCH /v1/schedules/{id}` may change.
#[derive(Debug, Clone, Default)]
pub struct SchedulePatch {
    pub amount: Option<Money>,
    pub payment_method_id: Option<PaymentMethodId>,
}

/// The single debit an occurrence of a schedule with these settings is.
#[allow(clippy::too_many_arguments)]
fn occurrence_debit(
    destination: DestinationRef,
    payment_method_id: PaymentMethodId,
    amount: Money,
    sec_code: Option<SecCode>,
    authorization: Authorization,
    company_entry_description: Option<String>,
    reference: Option<String>,
    metadata: Metadata,
    effective_date: NaiveDate,
) -> NewAchCollection {
    NewAchCollection {
        destination,
        source: Source::PaymentMethod(payment_method_id),
        counterparty_id: None,
        entry_type: AchEntryType::Debit,
        amount,
        sec_code,
        processing_mode: ProcessingMode::Standard,
        effective_date: Some(effective_date),
        payment_type: sec_code
            .filter(|s| s.has_payment_type())
            .map(|_| PaymentType::Recurring),
        authorization: Some(authorization),
        company_name: None,
        company_entry_description,
        addenda: None,
        reference,
        purpose: None,
        external_id: None,
        metadata,
        // A schedule collects the same amount from the same account by design.
        allow_duplicate: true,
    }
}

fn schedule_debit(s: &Schedule, effective_date: NaiveDate, amount: Money) -> NewAchCollection {
    occurrence_debit(
        DestinationRef::Id(s.destination_account_id.clone()),
        s.payment_method_id.clone(),
        amount,
        Some(s.sec_code),
        s.authorization.clone(),
        s.company_entry_description.clone(),
        s.reference.clone(),
        s.metadata.clone(),
        effective_date,
    )
}

/// Errors of the dry run name the schedule's fields, not a collection's.
fn as_schedule_error(mut e: ApiError) -> ApiError {
    if e.param.as_deref() == Some("effectiveDate") {
        e.param = Some("startDate".into());
    }
    e
}

/// The earliest effective date of a standard debit made at `now`.
fn earliest_effective_date(rules: &Rules<'_>, now: DateTime<Utc>) -> Result<NaiveDate, ApiError> {
    plan_entry(
        &rules.ach.calendar,
        &rules.ach.cutoffs,
        now,
        ProcessingMode::Standard,
        None,
        rules.ach.effective_date_horizon_days,
    )
    .map(|p| p.effective_date)
    .map_err(|e| ApiError::invalid(e.code(), e.to_string(), "startDate"))
}

/// Check every rule and build the schedule (not yet stored).
pub async fn build_schedule(
    tx: &mut Tx,
    customer: &Customer,
    req: NewSchedule,
    rules: &Rules<'_>,
    now: DateTime<Utc>,
) -> Result<Schedule, ApiError> {
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
    let cal = &rules.ach.calendar;
    let first_run = req.recurrence.run_date(cal, 1).ok_or_else(|| {
        ApiError::invalid("invalid_date", "startDate is out of range", "startDate")
    })?;
    let earliest = earliest_effective_date(rules, now)?;
    if first_run < earliest {
        return Err(ApiError::invalid(
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
        return Err(ApiError::invalid(
            "start_date_beyond_horizon",
            format!("the first run date would be {first_run}; schedules must start by {horizon}"),
            "startDate",
        ));
    }
    // The first occurrence, built and thrown away: every collection rule.
    let probe = occurrence_debit(
        req.destination.clone(),
        req.payment_method_id.clone(),
        req.amount,
        req.sec_code,
        req.authorization.clone(),
        description.clone(),
        reference.clone(),
        req.metadata.clone(),
        first_run,
    );
    let probe = build_ach_collection(tx, customer, probe, rules, now)
        .await
        .map_err(as_schedule_error)?;
    let id = ScheduleId::generate(now);
    Ok(Schedule {
        id,
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
pub async fn insert_schedule(tx: &mut Tx, state: &AppState, s: &Schedule) -> Result<(), ApiError> {
    tx.insert_schedule(s).await.map_err(|e| match e {
        StoreError::Conflict(_) => ApiError::conflict(
            "external_id_taken",
            "another schedule of this customer already has this externalId",
        )
        .with_param("externalId"),
        other => other.into(),
    })?;
    schedule_event(tx, &state.ach, "schedule.created", s, s.created_at).await?;
    Ok(())
}

/// Change the amount and/or payment method of a schedule's future
/// occurrences (those not created yet), after checking the next occurrence
/// against every collection rule. A new amount is recorded with its time
/// (`amountChangedAt`, `amountHistory`).
pub async fn patch_schedule(
    tx: &mut Tx,
    state: &AppState,
    customer: &Customer,
    s: &mut Schedule,
    patch: SchedulePatch,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    if !matches!(s.status, ScheduleStatus::Active | ScheduleStatus::Paused) {
        return Err(ApiError::conflict(
            "schedule_not_changeable",
            format!("a {} schedule can no longer be changed", s.status),
        ));
    }
    let read_next = s.next_occurrence;
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
    let rules = collection_rules(state);
    let date = s
        .next_run_date
        .unwrap_or(local_date(now))
        .max(earliest_effective_date(&rules, now)?);
    let mut probe = schedule_debit(&changed, date, changed.amount);
    if changed.payment_method_id != s.payment_method_id {
        // The SEC code follows the new account holder (CCD for a business, …).
        probe.sec_code = None;
        probe.payment_type = None;
    }
    let built = build_ach_collection(tx, customer, probe, &rules, now)
        .await
        .map_err(|mut e| {
            if e.param.as_deref() == Some("secCode") {
                e.param = Some("paymentMethodId".into());
            }
            as_schedule_error(e)
        })?;
    changed.sec_code = built.sec_code;
    changed.updated_at = now;
    if !tx.update_schedule_if(&changed, read_next).await? {
        return Err(ApiError::conflict(
            "schedule_changed",
            "the schedule changed while this request ran; retry",
        ));
    }
    *s = changed;
    schedule_event(tx, &state.ach, "schedule.updated", s, now).await?;
    Ok(())
}

/// Builds occurrences with the collection rules (the schedules job's factory).
pub struct ScheduleRules {
    state: AppState,
}

impl ScheduleRules {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

impl OccurrenceFactory for ScheduleRules {
    fn build<'t>(
        &'t self,
        tx: &'t mut Tx,
        req: &'t OccurrenceRequest,
        now: DateTime<Utc>,
    ) -> WriteFuture<'t, AchCollection, Refusal> {
        Box::pin(async move {
            let customer = tx.get_customer(&req.schedule.customer_id).await?;
            let debit = schedule_debit(&req.schedule, req.effective_date, req.amount);
            let rules = collection_rules(&self.state);
            let built = match build_ach_collection(tx, &customer, debit, &rules, now).await {
                Ok(c) => crate::app::debit_limits::check_debit_totals(
                    tx,
                    &customer,
                    &self.state.ach,
                    &c,
                    now,
                )
                .await
                .map(|()| c),
                Err(e) => Err(e),
            };
            match built {
                Ok(c) => Ok(c),
                Err(e) if e.status.is_client_error() => Err(Refusal::Refused(e.message)),
                Err(e) => Err(Refusal::Store(StoreError::Corrupt(format!(
                    "occurrence {} of {}: {}",
                    req.occurrence, req.schedule.id, e.message
                )))),
            }
        })
    }
}
