//! Outbound ACH credit entries (migration 0020): refunds of ACH
//! collections by credit and NACHA reversing entries, filed by the cutoff
//! in credit files of their own. Status moves are compare-and-set on the
//! status read, like the collections'.

use chrono::{DateTime, NaiveDate, Utc};
use inflow_core::ids::{AccountId, CollectionId, CustomerId};
use inflow_core::model::Metadata;
use inflow_core::money::{Currency, Money};

use crate::codec::{dt, metadata_from, metadata_json, opt_dt, ts};
use crate::{on_db, ListQuery, Page, StoreError, Tx};

/// `kind` of a refund by credit.
pub const KIND_REFUND: &str = "refund";
/// `kind` of a NACHA reversing entry.
pub const KIND_REVERSAL: &str = "reversal";

/// What an outbound file holds (`ach_files.contents`).
pub mod contents {
    pub const DEBITS: &str = "debits";
    pub const CREDITS: &str = "credits";
    pub const CREDIT_OFFSETS: &str = "credit_offsets";
}

/// A row of `ach_credit_entries`.
#[derive(Debug, Clone, PartialEq)]
pub struct AchCreditEntry {
    /// `rfd_…` (refund) or `rvs_…` (reversal).
    pub id: String,
    /// [`KIND_REFUND`] or [`KIND_REVERSAL`].
    pub kind: String,
    pub customer_id: CustomerId,
    pub collection_id: CollectionId,
    pub destination_account_id: AccountId,
    pub amount: Money,
    /// `pending`, `batched`, `submitted`, `completed`, `returned`, `cancelled`.
    pub status: String,
    pub status_reason: Option<String>,
    /// The SEC code of the credit (see the engine's `credits` module).
    pub sec_code: String,
    pub company_entry_description: String,
    pub reason: Option<String>,
    pub metadata: Metadata,
    /// A refund the operator allowed before the debit completed.
    pub before_completion: bool,
    /// The file a reversal reverses whole (`POST /v1/ach/files/{id}/reversal`).
    pub reversal_of_file_id: Option<String>,
    pub effective_date: Option<NaiveDate>,
    pub trace_number: Option<String>,
    pub file_id: Option<String>,
    pub return_code: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub returned_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, kind, customer_id, collection_id, destination_account_id, amount, currency, \
    status, status_reason, sec_code, company_entry_description, reason, metadata, before_completion, \
    reversal_of_file_id, effective_date, trace_number, file_id, return_code, created_at, updated_at, \
    submitted_at, completed_at, returned_at";

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    kind: String,
    customer_id: String,
    collection_id: String,
    destination_account_id: String,
    amount: i64,
    currency: String,
    status: String,
    status_reason: Option<String>,
    sec_code: String,
    company_entry_description: String,
    reason: Option<String>,
    metadata: String,
    before_completion: bool,
    reversal_of_file_id: Option<String>,
    effective_date: Option<String>,
    trace_number: Option<String>,
    file_id: Option<String>,
    return_code: Option<String>,
    created_at: i64,
    updated_at: i64,
    submitted_at: Option<i64>,
    completed_at: Option<i64>,
    returned_at: Option<i64>,
}

impl TryFrom<Row> for AchCreditEntry {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self, StoreError> {
        let corrupt = |e: &dyn std::fmt::Display| {
            StoreError::Corrupt(format!("ach_credit_entries {}: {e}", r.id))
        };
        let currency = Currency::parse("currency", &r.currency).map_err(|e| corrupt(&e))?;
        Ok(AchCreditEntry {
            amount: Money::new(currency, r.amount).map_err(|e| corrupt(&e))?,
            effective_date: r
                .effective_date
                .map(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d"))
                .transpose()
                .map_err(|e| corrupt(&e))?,
            id: r.id,
            kind: r.kind,
            customer_id: CustomerId::from_trusted(r.customer_id),
            collection_id: CollectionId::from_trusted(r.collection_id),
            destination_account_id: AccountId::from_trusted(r.destination_account_id),
            status: r.status,
            status_reason: r.status_reason,
            sec_code: r.sec_code,
            company_entry_description: r.company_entry_description,
            reason: r.reason,
            metadata: metadata_from(&r.metadata)?,
            before_completion: r.before_completion,
            reversal_of_file_id: r.reversal_of_file_id,
            trace_number: r.trace_number,
            file_id: r.file_id,
            return_code: r.return_code,
            created_at: dt(r.created_at)?,
            updated_at: dt(r.updated_at)?,
            submitted_at: opt_dt(r.submitted_at)?,
            completed_at: opt_dt(r.completed_at)?,
            returned_at: opt_dt(r.returned_at)?,
        })
    }
}

fn rows(rows: Vec<Row>) -> Result<Vec<AchCreditEntry>, StoreError> {
    rows.into_iter().map(AchCreditEntry::try_from).collect()
}

impl Tx {
    pub async fn insert_ach_credit_entry(&mut self, e: &AchCreditEntry) -> Result<(), StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO ach_credit_entries ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
             $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)"
        ));
        on_db!(self, conn => sqlx::query(sql)
            .bind(&e.id)
            .bind(&e.kind)
            .bind(e.customer_id.as_str())
            .bind(e.collection_id.as_str())
            .bind(e.destination_account_id.as_str())
            .bind(e.amount.minor())
            .bind(e.amount.currency().code())
            .bind(&e.status)
            .bind(&e.status_reason)
            .bind(&e.sec_code)
            .bind(&e.company_entry_description)
            .bind(&e.reason)
            .bind(metadata_json(&e.metadata))
            .bind(e.before_completion)
            .bind(&e.reversal_of_file_id)
            .bind(e.effective_date.map(|d| d.to_string()))
            .bind(&e.trace_number)
            .bind(&e.file_id)
            .bind(&e.return_code)
            .bind(ts(e.created_at))
            .bind(ts(e.updated_at))
            .bind(e.submitted_at.map(ts))
            .bind(e.completed_at.map(ts))
            .bind(e.returned_at.map(ts))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Write back `e` if its row is still in status `from`; whether it was.
    pub async fn update_ach_credit_entry_if(
        &mut self,
        e: &AchCreditEntry,
        from: &str,
    ) -> Result<bool, StoreError> {
        let n = on_db!(self, conn => sqlx::query(
            "UPDATE ach_credit_entries SET status = $2, status_reason = $3, effective_date = $4, \
             trace_number = $5, file_id = $6, return_code = $7, updated_at = $8, submitted_at = $9, \
             completed_at = $10, returned_at = $11 WHERE id = $1 AND status = $12")
            .bind(&e.id)
            .bind(&e.status)
            .bind(&e.status_reason)
            .bind(e.effective_date.map(|d| d.to_string()))
            .bind(&e.trace_number)
            .bind(&e.file_id)
            .bind(&e.return_code)
            .bind(ts(e.updated_at))
            .bind(e.submitted_at.map(ts))
            .bind(e.completed_at.map(ts))
            .bind(e.returned_at.map(ts))
            .bind(from)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    pub async fn get_ach_credit_entry(&mut self, id: &str) -> Result<AchCreditEntry, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM ach_credit_entries WHERE id = $1"
        ));
        let row: Row = on_db!(self, conn => sqlx::query_as(sql)
            .bind(id)
            .fetch_optional(conn)
            .await)?
        .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    /// Every credit entry of a collection (refunds and reversal), oldest first.
    pub async fn ach_credit_entries_of(
        &mut self,
        collection: &CollectionId,
    ) -> Result<Vec<AchCreditEntry>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM ach_credit_entries WHERE collection_id = $1 ORDER BY id"
        ));
        rows(on_db!(self, conn => sqlx::query_as(sql)
            .bind(collection.as_str())
            .fetch_all(conn)
            .await)?)
    }

    /// One page of `customer`'s refunds by credit of `collection`, newest first.
    pub async fn list_ach_refunds_page(
        &mut self,
        customer: &CustomerId,
        collection: &CollectionId,
        q: &ListQuery,
    ) -> Result<Page<AchCreditEntry>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM ach_credit_entries WHERE customer_id = $1 AND collection_id = $2 \
             AND kind = 'refund' AND ($3 = '' OR id < $3) ORDER BY id DESC LIMIT $4"
        ));
        let found: Vec<Row> = on_db!(self, conn => sqlx::query_as(sql)
            .bind(customer.as_str())
            .bind(collection.as_str())
            .bind(&q.starting_after)
            .bind(q.fetch())
            .fetch_all(conn)
            .await)?;
        Ok(Page::from_rows(rows(found)?, q))
    }

    /// The credit entries in `status`, oldest first (at most `limit`).
    pub async fn ach_credit_entries_in(
        &mut self,
        status: &str,
        limit: i64,
    ) -> Result<Vec<AchCreditEntry>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM ach_credit_entries WHERE status = $1 ORDER BY id LIMIT $2"
        ));
        rows(on_db!(self, conn => sqlx::query_as(sql)
            .bind(status)
            .bind(limit)
            .fetch_all(conn)
            .await)?)
    }

    /// The credit entries of outbound file `file_id`, in trace order.
    pub async fn ach_credit_entries_in_file(
        &mut self,
        file_id: &str,
    ) -> Result<Vec<AchCreditEntry>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM ach_credit_entries WHERE file_id = $1 ORDER BY trace_number"
        ));
        rows(on_db!(self, conn => sqlx::query_as(sql)
            .bind(file_id)
            .fetch_all(conn)
            .await)?)
    }

    /// The filed credit entry with trace number `trace`, if any.
    pub async fn ach_credit_entry_by_trace(
        &mut self,
        trace: &str,
    ) -> Result<Option<AchCreditEntry>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM ach_credit_entries WHERE trace_number = $1 ORDER BY id DESC LIMIT 1"
        ));
        let row: Option<Row> = on_db!(self, conn => sqlx::query_as(sql)
            .bind(trace)
            .fetch_optional(conn)
            .await)?;
        row.map(AchCreditEntry::try_from).transpose()
    }

    /// Record what outbound file `id` holds ([`contents`]).
    pub async fn set_ach_file_contents(&mut self, id: &str, what: &str) -> Result<(), StoreError> {
        on_db!(self, conn => sqlx::query("UPDATE ach_files SET contents = $2 WHERE id = $1")
            .bind(id)
            .bind(what)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// What outbound file `id` holds ([`contents`]).
    pub async fn ach_file_contents(&mut self, id: &str) -> Result<String, StoreError> {
        let v: Option<String> = on_db!(self, conn => sqlx::query_scalar(
            "SELECT contents FROM ach_files WHERE id = $1")
            .bind(id)
            .fetch_optional(conn)
            .await)?;
        v.ok_or(StoreError::NotFound)
    }

    /// The ODFI profile id recorded on file `id` (`None`: the default ODFI).
    pub async fn ach_file_odfi_id(&mut self, id: &str) -> Result<Option<String>, StoreError> {
        let v: Option<Option<String>> = on_db!(self, conn => sqlx::query_scalar(
            "SELECT odfi_id FROM ach_files WHERE id = $1")
            .bind(id)
            .fetch_optional(conn)
            .await)?;
        v.ok_or(StoreError::NotFound)
    }

    /// Whether the operator lets `account`'s available balance go negative.
    pub async fn account_allows_negative(
        &mut self,
        account: &AccountId,
    ) -> Result<bool, StoreError> {
        let v: Option<bool> = on_db!(self, conn => sqlx::query_scalar(
            "SELECT allow_negative_balance FROM accounts WHERE id = $1")
            .bind(account.as_str())
            .fetch_optional(conn)
            .await)?;
        v.ok_or(StoreError::NotFound)
    }

    pub async fn set_account_allows_negative(
        &mut self,
        account: &AccountId,
        allow: bool,
    ) -> Result<(), StoreError> {
        on_db!(self, conn => sqlx::query(
            "UPDATE accounts SET allow_negative_balance = $2 WHERE id = $1")
            .bind(account.as_str())
            .bind(allow)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Lock collection `id`'s row until the transaction ends (PostgreSQL
    /// `FOR UPDATE`; SQLite write transactions are already serialised), so
    /// two refunds or reversals of one collection never interleave.
    pub async fn lock_collection_row(&mut self, id: &CollectionId) -> Result<(), StoreError> {
        if let Tx::Postgres(t, ..) = self {
            sqlx::query("SELECT id FROM collections WHERE id = $1 FOR UPDATE")
                .bind(id.as_str())
                .fetch_optional(&mut **t)
                .await?;
        }
        Ok(())
    }

    /// [`Tx::ach_credit_entry_by_trace`] for many traces in one statement
    /// (the newest entry per trace); traces no credit entry carries are absent.
    pub async fn ach_credit_entries_by_traces(
        &mut self,
        traces: &[&str],
    ) -> Result<std::collections::HashMap<String, AchCreditEntry>, StoreError> {
        let mut out = std::collections::HashMap::new();
        if traces.is_empty() {
            return Ok(out);
        }
        let found: Vec<Row> = match self {
            Tx::Postgres(t, ..) => {
                let sql = sqlx::AssertSqlSafe(format!(
                    "SELECT {COLUMNS} FROM ach_credit_entries WHERE trace_number = ANY($1) ORDER BY id DESC"
                ));
                sqlx::query_as(sql).bind(traces).fetch_all(&mut **t).await?
            }
            Tx::Sqlite(t, ..) => {
                let sql = sqlx::AssertSqlSafe(format!(
                    "SELECT {COLUMNS} FROM ach_credit_entries \
                     WHERE trace_number IN (SELECT value FROM json_each($1)) ORDER BY id DESC"
                ));
                let list = serde_json::to_string(traces)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                sqlx::query_as(sql).bind(list).fetch_all(&mut **t).await?
            }
        };
        for e in rows(found)? {
            if let Some(trace) = e.trace_number.clone() {
                out.entry(trace).or_insert(e);
            }
        }
        Ok(out)
    }
}
