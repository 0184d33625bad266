//! The reconciliation queries: a day's postings per destination account
//! (from the ledger), the outbound NACHA files of that day, the card
//! postings the batch closes are checked against, and the return
//! counts behind the return-rate report.

use chrono::{DateTime, NaiveDate, Utc};
use inflow_core::ids::CustomerId;

use crate::codec::ts;
use crate::{on_db, StoreError, Tx};

/// Postings of one kind for one destination account on one day.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DayPostings {
    pub account_id: Option<String>,
    pub currency: String,
    pub kind: String,
    pub count: i64,
    pub gross_amount: i64,
}

/// Net movement (credits − debits) of one ledger-account kind for one
/// destination account on one day.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DayMovement {
    pub account_id: Option<String>,
    pub ledger_account_kind: String,
    pub net: i64,
}

/// An outbound file's control totals.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FileTotals {
    pub id: String,
    pub file_name: String,
    pub entry_count: i64,
    pub total_debit: i64,
    pub total_credit: i64,
    /// `debits`, `credits` or `credit_offsets` (migration 0020).
    pub contents: String,
}

impl Tx {
    /// Count and gross amount of the day's postings, per destination account and kind.
    pub async fn day_postings(&mut self, day: NaiveDate) -> Result<Vec<DayPostings>, StoreError> {
        Ok(on_db!(self, conn => sqlx::query_as(
            "SELECT account_id, currency, kind, COUNT(*) AS count, CAST(SUM(gross_amount) AS BIGINT) AS gross_amount \
             FROM ledger_transactions WHERE posted_on = $1 GROUP BY account_id, currency, kind \
             ORDER BY account_id, kind")
            .bind(day.to_string())
            .fetch_all(conn)
            .await)?)
    }

    /// Net movement of each ledger-account kind on the day, per the
    /// destination account each posting concerns.
    pub async fn day_movements(&mut self, day: NaiveDate) -> Result<Vec<DayMovement>, StoreError> {
        Ok(on_db!(self, conn => sqlx::query_as(
            "SELECT t.account_id, a.kind AS ledger_account_kind, \
             CAST(SUM(CASE WHEN e.direction = 'credit' THEN e.amount ELSE -e.amount END) AS BIGINT) AS net \
             FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id \
             JOIN ledger_accounts a ON a.id = e.ledger_account_id WHERE t.posted_on = $1 \
             GROUP BY t.account_id, a.kind ORDER BY t.account_id, a.kind")
            .bind(day.to_string())
            .fetch_all(conn)
            .await)?)
    }

    /// The collection and gross amount of each posting of `kind` on `day`.
    pub async fn day_postings_of_kind(
        &mut self,
        day: NaiveDate,
        kind: &str,
    ) -> Result<Vec<(Option<String>, i64)>, StoreError> {
        Ok(on_db!(self, conn => sqlx::query_as(
            "SELECT collection_id, gross_amount FROM ledger_transactions \
             WHERE posted_on = $1 AND kind = $2 ORDER BY id")
            .bind(day.to_string())
            .bind(kind)
            .fetch_all(conn)
            .await)?)
    }

    /// The outbound NACHA files created on `day`.
    pub async fn outbound_file_totals(
        &mut self,
        day: NaiveDate,
    ) -> Result<Vec<FileTotals>, StoreError> {
        Ok(on_db!(self, conn => sqlx::query_as(
            "SELECT id, file_name, entry_count, total_debit, total_credit, contents FROM ach_files \
             WHERE direction = 'outbound' AND creation_date = $1 ORDER BY id")
            .bind(day.to_string())
            .fetch_all(conn)
            .await)?)
    }

    /// ACH debits of `customer` submitted since `since`.
    pub async fn debits_submitted_since(
        &mut self,
        customer: &CustomerId,
        since: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        Ok(on_db!(self, conn => sqlx::query_scalar(
            "SELECT COUNT(*) FROM collections WHERE customer_id = $1 AND rail = 'ach' AND type = 'debit' \
             AND submitted_at >= $2")
            .bind(customer.as_str())
            .bind(ts(since))
            .fetch_one(conn)
            .await)?)
    }

    /// Returned ACH debits of `customer` since `since`, counted per return code.
    pub async fn returns_by_code_since(
        &mut self,
        customer: &CustomerId,
        since: DateTime<Utc>,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(on_db!(self, conn => sqlx::query_as(
            "SELECT return_code, COUNT(*) FROM collections WHERE customer_id = $1 AND rail = 'ach' \
             AND type = 'debit' AND status = 'returned' AND returned_at >= $2 AND return_code IS NOT NULL \
             GROUP BY return_code ORDER BY return_code")
            .bind(customer.as_str())
            .bind(ts(since))
            .fetch_all(conn)
            .await)?)
    }
}
