//! Recurring ACH debit schedules, and the collections created for them.

use chrono::NaiveDate;
use inflow_core::collection::{AchCollection, Authorization, SecCode};
use inflow_core::ids::{AccountId, CustomerId, PaymentMethodId, ScheduleId};
use inflow_core::money::{Currency, Money};
use inflow_core::schedule::{
    AmountChange, DayOfMonth, Frequency, Recurrence, RetryPolicy, Schedule, ScheduleEnd,
    ScheduleStatus, ScheduleStatusChange,
};

use crate::codec::{dt, metadata_from, metadata_json, opt_dt, ts};
use crate::repo::collections::{fetch_collections, COLLECTION_COLUMNS};
use crate::{on_db, ListQuery, Page, StoreError, Tx};

#[derive(sqlx::FromRow)]
struct ScheduleRow {
    id: String,
    customer_id: String,
    status: String,
    status_reason: Option<String>,
    status_history: String,
    payment_method_id: String,
    destination_account_id: String,
    amount: i64,
    currency: String,
    amount_changed_at: Option<i64>,
    amount_history: String,
    sec_code: String,
    authorization_json: String,
    frequency: String,
    start_date: String,
    end_date: Option<String>,
    occurrences: Option<i64>,
    day_of_month: Option<String>,
    company_entry_description: Option<String>,
    reference: Option<String>,
    external_id: Option<String>,
    metadata: String,
    retry_max: Option<i64>,
    retry_days_after_return: Option<i64>,
    next_occurrence: i64,
    next_run_date: Option<String>,
    created_at: i64,
    updated_at: i64,
}

const COLUMNS: &str = "id, customer_id, status, status_reason, status_history, payment_method_id, \
    destination_account_id, amount, currency, amount_changed_at, amount_history, sec_code, authorization_json, \
    frequency, start_date, end_date, occurrences, day_of_month, company_entry_description, reference, external_id, \
    metadata, retry_max, retry_days_after_return, next_occurrence, next_run_date, created_at, updated_at";

fn date(s: &str) -> Result<NaiveDate, StoreError> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| StoreError::Corrupt(format!("date {s}")))
}

fn json<T: serde::de::DeserializeOwned>(s: &str, what: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

fn to_json<T: serde::Serialize>(v: &T, what: &str) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

fn small(v: i64, what: &str) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("{what} {v}")))
}

impl TryFrom<ScheduleRow> for Schedule {
    type Error = StoreError;
    fn try_from(r: ScheduleRow) -> Result<Self, StoreError> {
        let currency = Currency::parse("currency", &r.currency)?;
        let end = match (r.end_date.as_deref(), r.occurrences) {
            (Some(d), None) => ScheduleEnd::EndDate(date(d)?),
            (None, Some(n)) => ScheduleEnd::Occurrences(small(n, "occurrences")?),
            _ => return Err(StoreError::Corrupt(format!("schedule {}: end", r.id))),
        };
        let recurrence = Recurrence::new(
            Frequency::parse("frequency", &r.frequency)?,
            date(&r.start_date)?,
            r.day_of_month
                .as_deref()
                .map(|d| DayOfMonth::parse("dayOfMonth", d))
                .transpose()?,
            end,
        )?;
        let retry_policy = match (r.retry_max, r.retry_days_after_return) {
            (Some(m), Some(d)) => Some(RetryPolicy::new(
                small(m, "retry_max")?,
                Some(small(d, "retry_days_after_return")?),
            )?),
            _ => None,
        };
        Ok(Schedule {
            id: ScheduleId::from_trusted(r.id),
            customer_id: CustomerId::from_trusted(r.customer_id),
            status: ScheduleStatus::parse("status", &r.status)?,
            status_reason: r.status_reason,
            status_history: json::<Vec<ScheduleStatusChange>>(&r.status_history, "status_history")?,
            payment_method_id: PaymentMethodId::from_trusted(r.payment_method_id),
            destination_account_id: AccountId::from_trusted(r.destination_account_id),
            amount: Money::new(currency, r.amount)?,
            amount_changed_at: opt_dt(r.amount_changed_at)?,
            amount_history: json::<Vec<AmountChange>>(&r.amount_history, "amount_history")?,
            sec_code: SecCode::parse("secCode", &r.sec_code)?,
            authorization: json::<Authorization>(&r.authorization_json, "authorization")?,
            recurrence,
            company_entry_description: r.company_entry_description,
            reference: r.reference,
            external_id: r.external_id,
            metadata: metadata_from(&r.metadata)?,
            retry_policy,
            next_occurrence: small(r.next_occurrence, "next_occurrence")?,
            next_run_date: r.next_run_date.as_deref().map(date).transpose()?,
            created_at: dt(r.created_at)?,
            updated_at: dt(r.updated_at)?,
        })
    }
}

/// Filters for listing schedules.
#[derive(Debug, Default, Clone)]
pub struct ScheduleFilter {
    pub status: Option<ScheduleStatus>,
    pub payment_method_id: Option<PaymentMethodId>,
    pub external_id: Option<String>,
}

fn opt(s: Option<&str>) -> String {
    s.unwrap_or("").to_owned()
}

impl Tx {
    pub async fn insert_schedule(&mut self, s: &Schedule) -> Result<(), StoreError> {
        let (end_date, occurrences) = match s.recurrence.end() {
            ScheduleEnd::EndDate(d) => (Some(d.to_string()), None),
            ScheduleEnd::Occurrences(n) => (None, Some(i64::from(n))),
        };
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO schedules ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
             $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28)"
        ));
        let history = to_json(&s.status_history, "status_history")?;
        let amounts = to_json(&s.amount_history, "amount_history")?;
        let authorization = to_json(&s.authorization, "authorization")?;
        on_db!(self, conn => sqlx::query(sql)
            .bind(s.id.as_str())
            .bind(s.customer_id.as_str())
            .bind(s.status.as_str())
            .bind(&s.status_reason)
            .bind(&history)
            .bind(s.payment_method_id.as_str())
            .bind(s.destination_account_id.as_str())
            .bind(s.amount.minor())
            .bind(s.amount.currency().code())
            .bind(s.amount_changed_at.map(ts))
            .bind(&amounts)
            .bind(s.sec_code.as_str())
            .bind(&authorization)
            .bind(s.recurrence.frequency().as_str())
            .bind(s.recurrence.start_date().to_string())
            .bind(&end_date)
            .bind(occurrences)
            .bind(s.recurrence.day_of_month().map(|d| d.as_string()))
            .bind(&s.company_entry_description)
            .bind(&s.reference)
            .bind(&s.external_id)
            .bind(metadata_json(&s.metadata))
            .bind(s.retry_policy.map(|p| i64::from(p.max_retries)))
            .bind(s.retry_policy.map(|p| i64::from(p.days_after_return)))
            .bind(i64::from(s.next_occurrence))
            .bind(s.next_run_date.map(|d| d.to_string()))
            .bind(ts(s.created_at))
            .bind(ts(s.updated_at))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Write back what changes over a schedule's life, only if its
    /// `next_occurrence` is still `expected_next` (what the caller read):
    /// `false` means someone else moved it first and nothing was written.
    pub async fn update_schedule_if(
        &mut self,
        s: &Schedule,
        expected_next: u32,
    ) -> Result<bool, StoreError> {
        let history = to_json(&s.status_history, "status_history")?;
        let amounts = to_json(&s.amount_history, "amount_history")?;
        let done = on_db!(self, conn => sqlx::query(
            "UPDATE schedules SET status = $2, status_reason = $3, status_history = $4, payment_method_id = $5, \
             amount = $6, amount_changed_at = $7, amount_history = $8, sec_code = $9, next_occurrence = $10, \
             next_run_date = $11, updated_at = $12 WHERE id = $1 AND next_occurrence = $13")
            .bind(s.id.as_str())
            .bind(s.status.as_str())
            .bind(&s.status_reason)
            .bind(&history)
            .bind(s.payment_method_id.as_str())
            .bind(s.amount.minor())
            .bind(s.amount_changed_at.map(ts))
            .bind(&amounts)
            .bind(s.sec_code.as_str())
            .bind(i64::from(s.next_occurrence))
            .bind(s.next_run_date.map(|d| d.to_string()))
            .bind(ts(s.updated_at))
            .bind(i64::from(expected_next))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// A schedule of `customer` (or of anyone, with `None`: engine use).
    pub async fn get_schedule(
        &mut self,
        customer: Option<&CustomerId>,
        id: &ScheduleId,
    ) -> Result<Schedule, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM schedules WHERE id = $1 AND ($2 = '' OR customer_id = $2)"
        ));
        let row: ScheduleRow = on_db!(self, conn => sqlx::query_as(sql)
            .bind(id.as_str())
            .bind(customer.map(|c| c.as_str()).unwrap_or(""))
            .fetch_optional(conn)
            .await)?
        .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    /// Take the schedule's row lock until the transaction ends (a no-op
    /// update), so concurrent changes to one schedule queue up.
    pub async fn lock_schedule(&mut self, id: &ScheduleId) -> Result<(), StoreError> {
        let done = on_db!(self, conn => sqlx::query(
            "UPDATE schedules SET next_occurrence = next_occurrence WHERE id = $1")
            .bind(id.as_str())
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn list_schedules(
        &mut self,
        customer: &CustomerId,
        f: &ScheduleFilter,
        q: &ListQuery,
    ) -> Result<Page<Schedule>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM schedules WHERE customer_id = $1 AND ($2 = '' OR id < $2) \
             AND ($3 = '' OR status = $3) AND ($4 = '' OR payment_method_id = $4) AND ($5 = '' OR external_id = $5) \
             ORDER BY id DESC LIMIT $6"
        ));
        let rows: Vec<ScheduleRow> = on_db!(self, conn => sqlx::query_as(sql)
            .bind(customer.as_str())
            .bind(&q.starting_after)
            .bind(opt(f.status.map(|s| s.as_str())))
            .bind(opt(f.payment_method_id.as_ref().map(|p| p.as_str())))
            .bind(opt(f.external_id.as_deref()))
            .bind(q.fetch())
            .fetch_all(conn)
            .await)?;
        let rows = rows
            .into_iter()
            .map(Schedule::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_rows(rows, q))
    }

    /// Active schedules whose next run date is `through` or earlier, by id.
    pub async fn schedules_due(
        &mut self,
        through: NaiveDate,
        limit: i64,
    ) -> Result<Vec<ScheduleId>, StoreError> {
        let v: Vec<String> = on_db!(self, conn => sqlx::query_scalar(
            "SELECT id FROM schedules WHERE status = 'active' AND next_run_date IS NOT NULL \
             AND next_run_date <= $1 ORDER BY next_run_date, id LIMIT $2")
            .bind(through.to_string())
            .bind(limit)
            .fetch_all(conn)
            .await)?;
        Ok(v.into_iter().map(ScheduleId::from_trusted).collect())
    }

    /// Active schedules debiting `pm`, by id.
    pub async fn active_schedules_for_payment_method(
        &mut self,
        pm: &PaymentMethodId,
    ) -> Result<Vec<ScheduleId>, StoreError> {
        let v: Vec<String> = on_db!(self, conn => sqlx::query_scalar(
            "SELECT id FROM schedules WHERE payment_method_id = $1 AND status = 'active' ORDER BY id")
            .bind(pm.as_str())
            .fetch_all(conn)
            .await)?;
        Ok(v.into_iter().map(ScheduleId::from_trusted).collect())
    }

    /// Active schedules crediting destination account `account`, by id.
    pub async fn active_schedules_for_account(
        &mut self,
        account: &AccountId,
    ) -> Result<Vec<ScheduleId>, StoreError> {
        let v: Vec<String> = on_db!(self, conn => sqlx::query_scalar(
            "SELECT id FROM schedules WHERE destination_account_id = $1 AND status = 'active' ORDER BY id")
            .bind(account.as_str())
            .fetch_all(conn)
            .await)?;
        Ok(v.into_iter().map(ScheduleId::from_trusted).collect())
    }

    /// Active schedules of `customer`, by id.
    pub async fn active_schedules_for_customer(
        &mut self,
        customer: &CustomerId,
    ) -> Result<Vec<ScheduleId>, StoreError> {
        let v: Vec<String> = on_db!(self, conn => sqlx::query_scalar(
            "SELECT id FROM schedules WHERE customer_id = $1 AND status = 'active' ORDER BY id")
            .bind(customer.as_str())
            .fetch_all(conn)
            .await)?;
        Ok(v.into_iter().map(ScheduleId::from_trusted).collect())
    }

    /// Every collection created for `schedule`, by occurrence and retry.
    pub async fn schedule_collections(
        &mut self,
        schedule: &ScheduleId,
    ) -> Result<Vec<AchCollection>, StoreError> {
        fetch_collections(
            self,
            format!(
                "SELECT {COLLECTION_COLUMNS} FROM collections WHERE schedule_id = $1 \
                 ORDER BY occurrence, retry_number"
            ),
            &[schedule.as_str()],
        )
        .await
    }
}
