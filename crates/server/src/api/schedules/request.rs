//! The request bodies of `/v1/schedules`, and their field-level checks.

use chrono::NaiveDate;
use inflow_core::collection::SecCode;
use inflow_core::ids::PaymentMethodId;
use inflow_core::model::Metadata;
use inflow_core::schedule::{DayOfMonth, Frequency, Recurrence, RetryPolicy, ScheduleEnd};
use inflow_engine::collections::destination::DestinationRef;
use inflow_engine::schedules::{NewSchedule, SchedulePatch};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::api::collections::AuthorizationInput;
use crate::api::common::MoneyInput;
use crate::error::{ApiError, ApiResult};

/// Re-present R01/R09 returns (NACHA reinitiation).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RetryPolicyInput {
    /// 1 or 2 retries per occurrence.
    pub max_retries: i64,
    /// Calendar days after the return arrives (moved to a banking day); 1–30, default 3.
    pub days_after_return: Option<i64>,
}

/// Create a recurring ACH debit schedule.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateScheduleRequest {
    /// The saved bank account debited (`pm_…`).
    pub payment_method_id: String,
    /// The customer's account the money goes to (`acc_…`)…
    pub destination_account_id: Option<String>,
    /// …or the same addressed by your `externalId` (exactly one of the two).
    pub destination_account_external_id: Option<String>,
    pub amount: MoneyInput,
    /// Default as for single debits: CCD for business accounts; WEB, TEL or PPD for individuals by authorization type.
    pub sec_code: Option<SecCode>,
    /// The payer's authorization of the recurring debits.
    pub authorization: AuthorizationInput,
    pub frequency: Frequency,
    /// The first date the schedule may run (YYYY-MM-DD).
    #[schema(example = "2026-12-01")]
    pub start_date: String,
    /// The last date a run may fall on (YYYY-MM-DD); give this or `occurrences`.
    #[schema(example = "2027-11-30")]
    pub end_date: Option<String>,
    /// How many times the schedule runs (1–1000); give this or `endDate`.
    pub occurrences: Option<i64>,
    /// Monthly, quarterly, annual: a day 1–28, or `"last"`. Default: the day of `startDate`.
    #[schema(schema_with = inflow_core::schedule::recurrence::day_of_month_schema)]
    pub day_of_month: Option<serde_json::Value>,
    /// Statement text (≤ 10 characters); default `PAYMENT`.
    pub company_entry_description: Option<String>,
    pub reference: Option<String>,
    /// Your id for this schedule; unique per customer.
    pub external_id: Option<String>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub metadata: Metadata,
    /// Retry R01/R09 returns; no retries without it.
    pub retry_policy: Option<RetryPolicyInput>,
}

fn date(field: &str, s: &str) -> ApiResult<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
        ApiError::invalid(
            "invalid_date",
            format!("{field} must be a date like 2026-12-01"),
            field,
        )
    })
}

fn day_of_month(v: &serde_json::Value) -> ApiResult<DayOfMonth> {
    match v {
        serde_json::Value::String(s) if s == "last" => Ok(DayOfMonth::Last),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(d) => Ok(DayOfMonth::day("dayOfMonth", d)?),
            None => Err(ApiError::invalid(
                "invalid_day_of_month",
                "dayOfMonth must be a whole number 1 to 28 or \"last\"",
                "dayOfMonth",
            )),
        },
        _ => Err(ApiError::invalid(
            "invalid_day_of_month",
            "dayOfMonth must be a number 1 to 28 or \"last\"",
            "dayOfMonth",
        )),
    }
}

impl CreateScheduleRequest {
    /// Field-level checks that need no database.
    pub fn into_new(self) -> ApiResult<NewSchedule> {
        let payment_method_id = PaymentMethodId::parse("paymentMethodId", &self.payment_method_id)?;
        let amount = self.amount.parse("amount")?;
        let start = date("startDate", &self.start_date)?;
        let end = match (self.end_date.as_deref(), self.occurrences) {
            (Some(d), None) => ScheduleEnd::EndDate(date("endDate", d)?),
            (None, Some(n)) => ScheduleEnd::Occurrences(u32::try_from(n).map_err(|_| {
                ApiError::invalid(
                    "invalid_occurrences",
                    format!(
                        "occurrences must be 1 to {}",
                        inflow_core::schedule::MAX_OCCURRENCES
                    ),
                    "occurrences",
                )
            })?),
            (Some(_), Some(_)) => {
                return Err(ApiError::invalid(
                    "invalid_schedule_end",
                    "give endDate or occurrences, not both",
                    "occurrences",
                ))
            }
            (None, None) => {
                return Err(ApiError::invalid(
                    "missing_field",
                    "a schedule needs an end: endDate or occurrences",
                    "endDate",
                ))
            }
        };
        let dom = self.day_of_month.as_ref().map(day_of_month).transpose()?;
        let recurrence = Recurrence::new(self.frequency, start, dom, end)?;
        let retry_policy = self
            .retry_policy
            .map(|p| {
                let max = u32::try_from(p.max_retries).unwrap_or(u32::MAX);
                let days = p
                    .days_after_return
                    .map(|d| u32::try_from(d).unwrap_or(u32::MAX));
                RetryPolicy::new(max, days)
            })
            .transpose()?;
        Ok(NewSchedule {
            payment_method_id,
            destination: DestinationRef::from_fields(
                self.destination_account_id,
                self.destination_account_external_id,
            )?,
            amount,
            sec_code: self.sec_code,
            authorization: self.authorization.into_domain("authorization")?,
            recurrence,
            company_entry_description: self.company_entry_description,
            reference: self.reference,
            external_id: self.external_id,
            metadata: self.metadata,
            retry_policy,
        })
    }
}

/// Change future occurrences (those not created yet).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateScheduleRequest {
    /// The new amount. NACHA requires advance notice to the consumer of a
    /// change in amount; `amountChangedAt` records when it was made.
    pub amount: Option<MoneyInput>,
    /// Another saved bank account (`pm_…`).
    pub payment_method_id: Option<String>,
}

impl UpdateScheduleRequest {
    pub fn into_patch(self) -> ApiResult<SchedulePatch> {
        if self.amount.is_none() && self.payment_method_id.is_none() {
            return Err(ApiError::invalid(
                "nothing_to_change",
                "give amount and/or paymentMethodId",
                "amount",
            ));
        }
        Ok(SchedulePatch {
            amount: self.amount.map(|a| a.parse("amount")).transpose()?,
            payment_method_id: self
                .payment_method_id
                .as_deref()
                .map(|p| PaymentMethodId::parse("paymentMethodId", p))
                .transpose()?,
        })
    }
}

/// Pause or cancel, with an optional reason.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScheduleActionRequest {
    /// Why (kept in the status history).
    pub reason: Option<String>,
}
