//! The schedule resource as integrators see it: in API responses and as the
//! `data.object` of `schedule.*` events.

use chrono::{DateTime, Utc};
use inflow_core::calendar::BankingCalendar;
use inflow_core::collection::{AchCollection, CollectionStatus, PaymentType, SecCode};
use inflow_core::model::Metadata;
use inflow_core::schedule::{DayOfMonth, Frequency, Schedule, ScheduleEnd, ScheduleStatus};
use serde::Serialize;
use utoipa::ToSchema;

use crate::view::{AuthorizationView, MoneyView};

/// How many upcoming run dates a schedule shows.
pub const NEXT_RUN_DATES: usize = 5;

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleStatusChangeView {
    pub status: ScheduleStatus,
    pub reason: Option<String>,
    pub at: String,
}

/// A change of the amount (the originator's record of the notice it owes the payer).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AmountChangeView {
    pub from: MoneyView,
    pub to: MoneyView,
    pub changed_at: String,
    /// The first occurrence created with the new amount.
    pub from_occurrence: u32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RetryPolicyView {
    pub max_retries: u32,
    pub days_after_return: u32,
}

/// A collection made for an occurrence (its first presentment or a retry).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OccurrenceCollectionView {
    pub id: String,
    /// 0 for the first presentment, 1 and 2 for retries.
    pub retry: u32,
    pub status: CollectionStatus,
    pub amount: MoneyView,
    pub effective_date: String,
    pub company_entry_description: String,
    pub ach_return_code: Option<String>,
}

/// One occurrence that has come due: the collections made for it, or none
/// when it was skipped (its run date passed while the schedule was paused).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OccurrenceView {
    pub occurrence: u32,
    /// The date the recurrence gives (YYYY-MM-DD).
    pub scheduled_date: Option<String>,
    /// That date moved to a banking day: the effective entry date.
    pub run_date: Option<String>,
    /// `created` or `skipped`.
    pub status: &'static str,
    pub collections: Vec<OccurrenceCollectionView>,
}

/// A recurring ACH debit schedule.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleView {
    #[schema(example = "sch_0195f0c8a3c47d1e8a8b5f3e2d1c0b9a")]
    pub id: String,
    /// Always `schedule`.
    pub object: &'static str,
    pub customer_id: String,
    pub status: ScheduleStatus,
    pub status_reason: Option<String>,
    pub status_history: Vec<ScheduleStatusChangeView>,
    pub payment_method_id: String,
    pub destination_account_id: String,
    /// The amount of occurrences created from now on.
    pub amount: MoneyView,
    /// When the amount last changed (NACHA: the payer must be notified in advance).
    pub amount_changed_at: Option<String>,
    pub amount_history: Vec<AmountChangeView>,
    pub sec_code: SecCode,
    /// `recurring` for WEB and TEL entries.
    pub payment_type: Option<PaymentType>,
    pub authorization: AuthorizationView,
    pub frequency: Frequency,
    pub start_date: String,
    /// Set when the schedule ends by date.
    pub end_date: Option<String>,
    /// Set when the schedule ends after a number of occurrences.
    pub occurrences: Option<u32>,
    /// A day 1–28 (a number) or `"last"`, when given.
    #[schema(schema_with = inflow_core::schedule::recurrence::day_of_month_schema)]
    pub day_of_month: Option<serde_json::Value>,
    /// How many occurrences the schedule has in all.
    pub total_occurrences: u32,
    pub company_entry_description: Option<String>,
    pub reference: Option<String>,
    pub external_id: Option<String>,
    #[schema(value_type = Object)]
    pub metadata: Metadata,
    pub retry_policy: Option<RetryPolicyView>,
    /// The next occurrence to be created, while the schedule is active or paused.
    pub next_occurrence: Option<u32>,
    /// The next run dates (already moved to banking days), while active or paused.
    pub next_run_dates: Vec<String>,
    /// The occurrences that have come due, oldest first, with their collections.
    pub occurrence_list: Vec<OccurrenceView>,
    pub created_at: String,
    pub updated_at: String,
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn money(currency: inflow_core::money::Currency, minor: i64) -> MoneyView {
    match inflow_core::money::Money::new(currency, minor) {
        Ok(m) => m.into(),
        Err(_) => MoneyView {
            currency: currency.code().to_owned(),
            value: minor.to_string(),
            exponent: currency.exponent(),
            display_value: String::new(),
        },
    }
}

/// Render `s` with the collections made for it (any order).
pub fn schedule_view(
    s: &Schedule,
    collections: &[AchCollection],
    cal: &BankingCalendar,
) -> ScheduleView {
    let r = &s.recurrence;
    let (end_date, occurrences) = match r.end() {
        ScheduleEnd::EndDate(d) => (Some(d.to_string()), None),
        ScheduleEnd::Occurrences(n) => (None, Some(n)),
    };
    let live = matches!(s.status, ScheduleStatus::Active | ScheduleStatus::Paused);
    let due_until = collections
        .iter()
        .filter_map(|c| c.schedule.as_ref().map(|l| l.occurrence + 1))
        .max()
        .unwrap_or(1)
        .max(s.next_occurrence);
    let occurrence_list = (1..due_until)
        .map(|n| {
            let mut made: Vec<&AchCollection> = collections
                .iter()
                .filter(|c| c.schedule.as_ref().is_some_and(|l| l.occurrence == n))
                .collect();
            made.sort_by_key(|c| c.schedule.as_ref().map(|l| l.retry));
            OccurrenceView {
                occurrence: n,
                scheduled_date: r.nominal_date(n).map(|d| d.to_string()),
                run_date: r.run_date(cal, n).map(|d| d.to_string()),
                status: if made.is_empty() {
                    "skipped"
                } else {
                    "created"
                },
                collections: made
                    .into_iter()
                    .map(|c| OccurrenceCollectionView {
                        id: c.id.to_string(),
                        retry: c.schedule.as_ref().map(|l| l.retry).unwrap_or(0),
                        status: c.status,
                        amount: c.amount.into(),
                        effective_date: c.effective_date.to_string(),
                        company_entry_description: c.company_entry_description.clone(),
                        ach_return_code: c.return_code.clone(),
                    })
                    .collect(),
            }
        })
        .collect();
    ScheduleView {
        id: s.id.to_string(),
        object: "schedule",
        customer_id: s.customer_id.to_string(),
        status: s.status,
        status_reason: s.status_reason.clone(),
        status_history: s
            .status_history
            .iter()
            .map(|h| ScheduleStatusChangeView {
                status: h.status,
                reason: h.reason.clone(),
                at: time(h.at),
            })
            .collect(),
        payment_method_id: s.payment_method_id.to_string(),
        destination_account_id: s.destination_account_id.to_string(),
        amount: s.amount.into(),
        amount_changed_at: s.amount_changed_at.map(time),
        amount_history: s
            .amount_history
            .iter()
            .map(|a| AmountChangeView {
                from: money(s.amount.currency(), a.from_minor),
                to: money(s.amount.currency(), a.to_minor),
                changed_at: time(a.changed_at),
                from_occurrence: a.from_occurrence,
            })
            .collect(),
        sec_code: s.sec_code,
        payment_type: s
            .sec_code
            .has_payment_type()
            .then_some(PaymentType::Recurring),
        authorization: AuthorizationView {
            kind: s.authorization.kind,
            obtained_at: time(s.authorization.obtained_at),
            ip_address: s.authorization.ip_address.clone(),
            evidence_ref: s.authorization.evidence_ref.clone(),
        },
        frequency: r.frequency(),
        start_date: r.start_date().to_string(),
        end_date,
        occurrences,
        day_of_month: r.day_of_month().map(|d| match d {
            DayOfMonth::Day(n) => serde_json::Value::from(n),
            DayOfMonth::Last => serde_json::Value::from("last"),
        }),
        total_occurrences: r.total(),
        company_entry_description: s.company_entry_description.clone(),
        reference: s.reference.clone(),
        external_id: s.external_id.clone(),
        metadata: s.metadata.clone(),
        retry_policy: s.retry_policy.map(|p| RetryPolicyView {
            max_retries: p.max_retries,
            days_after_return: p.days_after_return,
        }),
        next_occurrence: (live && !s.all_created()).then_some(s.next_occurrence),
        next_run_dates: if live {
            r.run_dates_from(cal, s.next_occurrence, NEXT_RUN_DATES)
                .into_iter()
                .map(|(_, d)| d.to_string())
                .collect()
        } else {
            Vec::new()
        },
        occurrence_list,
        created_at: time(s.created_at),
        updated_at: time(s.updated_at),
    }
}
