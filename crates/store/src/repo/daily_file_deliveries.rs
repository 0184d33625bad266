//! The push of daily files to customers' own folders
//! (`daily_file_deliveries`, migration 0021): one row per file to push,
//! `pending → uploaded`, or `failed` when the attempts run out or the error
//! is permanent.

use chrono::{DateTime, Utc};

use crate::codec::{opt_dt, ts};
use crate::{on_db, StoreError, Tx};

/// `status` of a file waiting for its (next) attempt.
pub const PENDING: &str = "pending";
/// `status` of a file in the customer's folder.
pub const UPLOADED: &str = "uploaded";
/// `status` of a file Inflow gave up on.
pub const FAILED: &str = "failed";

/// A row of `daily_file_deliveries`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyFileDelivery {
    pub file_id: String,
    pub customer_id: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// Where the file is (`sftp://…/name`), once uploaded.
    pub location: Option<String>,
    pub uploaded_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct Row {
    file_id: String,
    customer_id: String,
    status: String,
    attempts: i64,
    next_attempt_at: Option<i64>,
    last_error: Option<String>,
    location: Option<String>,
    uploaded_at: Option<i64>,
}

impl TryFrom<Row> for DailyFileDelivery {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self, StoreError> {
        Ok(Self {
            file_id: r.file_id,
            customer_id: r.customer_id,
            status: r.status,
            attempts: r.attempts,
            next_attempt_at: opt_dt(r.next_attempt_at)?,
            last_error: r.last_error,
            location: r.location,
            uploaded_at: opt_dt(r.uploaded_at)?,
        })
    }
}

const COLUMNS: &str =
    "file_id, customer_id, status, attempts, next_attempt_at, last_error, location, uploaded_at";

impl Tx {
    /// Queue file `file_id` for its customer's folder, due at once.
    pub async fn queue_daily_file_delivery(
        &mut self,
        file_id: &str,
        customer_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_db!(self, conn => sqlx::query(
            "INSERT INTO daily_file_deliveries (file_id, customer_id, status, attempts, next_attempt_at, created_at) \
             VALUES ($1, $2, 'pending', 0, $3, $3) ON CONFLICT (file_id) DO NOTHING")
            .bind(file_id)
            .bind(customer_id)
            .bind(ts(now))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Pending pushes due by `now`, oldest file first, at most `limit`.
    pub async fn due_daily_file_deliveries(
        &mut self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<DailyFileDelivery>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM daily_file_deliveries WHERE status = 'pending' \
             AND next_attempt_at <= $1 ORDER BY file_id LIMIT $2"
        ));
        let rows: Vec<Row> = on_db!(self, conn => sqlx::query_as(sql)
            .bind(ts(now))
            .bind(limit)
            .fetch_all(conn)
            .await)?;
        rows.into_iter().map(DailyFileDelivery::try_from).collect()
    }

    /// The push state of file `file_id`, if it is pushed anywhere.
    pub async fn get_daily_file_delivery(
        &mut self,
        file_id: &str,
    ) -> Result<Option<DailyFileDelivery>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM daily_file_deliveries WHERE file_id = $1"
        ));
        let row: Option<Row> = on_db!(self, conn => sqlx::query_as(sql)
            .bind(file_id)
            .fetch_optional(conn)
            .await)?;
        row.map(DailyFileDelivery::try_from).transpose()
    }

    /// Record an attempt before any byte is sent: attempts + 1, and the
    /// next attempt due at `retry_at` should this one never report back.
    /// `false` if the push is no longer pending (another node did it).
    pub async fn start_daily_file_attempt(
        &mut self,
        file_id: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let n = on_db!(self, conn => sqlx::query(
            "UPDATE daily_file_deliveries SET attempts = attempts + 1, next_attempt_at = $2 \
             WHERE file_id = $1 AND status = 'pending'")
            .bind(file_id)
            .bind(ts(retry_at))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// The file is in the customer's folder at `location`.
    pub async fn record_daily_file_uploaded(
        &mut self,
        file_id: &str,
        location: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_db!(self, conn => sqlx::query(
            "UPDATE daily_file_deliveries SET status = 'uploaded', location = $2, uploaded_at = $3, \
             next_attempt_at = NULL, last_error = NULL WHERE file_id = $1")
            .bind(file_id)
            .bind(location)
            .bind(ts(now))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// An attempt failed: due again at `retry_at`, or `failed` when `None`.
    pub async fn record_daily_file_attempt_failed(
        &mut self,
        file_id: &str,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let status = if retry_at.is_some() { PENDING } else { FAILED };
        on_db!(self, conn => sqlx::query(
            "UPDATE daily_file_deliveries SET status = $2, last_error = $3, next_attempt_at = $4 \
             WHERE file_id = $1")
            .bind(file_id)
            .bind(status)
            .bind(error)
            .bind(retry_at.map(ts))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }
}
