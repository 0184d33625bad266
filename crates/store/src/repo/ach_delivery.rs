//! The delivery state of outbound NACHA files: whether the ODFI has them.
//!
//! `built → uploading → uploaded → acknowledged`, or `upload_failed`
//! (see migration 0016). Every move is conditional on the state it comes
//! from, so two nodes (or a retry racing the job) cannot both move a file.

use chrono::{DateTime, Utc};

use crate::codec::{opt_dt, ts};
use crate::{on_db, StoreError, Tx};

/// Recorded, not yet sent.
pub const BUILT: &str = "built";
/// An upload attempt started (and may have finished before a crash).
pub const UPLOADING: &str = "uploading";
/// The ODFI has the file.
pub const UPLOADED: &str = "uploaded";
/// The ODFI's acknowledgement matched the file.
pub const ACKNOWLEDGED: &str = "acknowledged";
/// Retries ran out, or the error cannot be retried: an operator acts.
pub const UPLOAD_FAILED: &str = "upload_failed";

/// An outbound file's delivery columns.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileDelivery {
    pub file_id: String,
    pub odfi_id: Option<String>,
    /// One of the constants of this module.
    pub status: String,
    /// Upload attempts made so far.
    pub attempts: i64,
    pub last_error: Option<String>,
    /// When the next automatic attempt is due (`built` files only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub uploaded_at: Option<DateTime<Utc>>,
    /// `delivery-job`, `sandbox-bank`, or the operator key that marked it
    /// uploaded by hand.
    pub uploaded_by: Option<String>,
    /// Where the file went (`sftp://user@host:port/dir/name`).
    pub location: Option<String>,
    pub acknowledged_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    odfi_id: Option<String>,
    delivery_status: Option<String>,
    delivery_attempts: i64,
    delivery_error: Option<String>,
    next_attempt_at: Option<i64>,
    uploaded_at: Option<i64>,
    uploaded_by: Option<String>,
    upload_location: Option<String>,
    acknowledged_at: Option<i64>,
}

impl TryFrom<Row> for FileDelivery {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self, StoreError> {
        Ok(FileDelivery {
            status: r.delivery_status.ok_or_else(|| {
                StoreError::Corrupt(format!("file {} has no delivery state", r.id))
            })?,
            file_id: r.id,
            odfi_id: r.odfi_id,
            attempts: r.delivery_attempts,
            last_error: r.delivery_error,
            next_attempt_at: opt_dt(r.next_attempt_at)?,
            uploaded_at: opt_dt(r.uploaded_at)?,
            uploaded_by: r.uploaded_by,
            location: r.upload_location,
            acknowledged_at: opt_dt(r.acknowledged_at)?,
        })
    }
}

const COLUMNS: &str = "id, odfi_id, delivery_status, delivery_attempts, delivery_error, \
    next_attempt_at, uploaded_at, uploaded_by, upload_location, acknowledged_at";

/// The outcome of an upload attempt, recorded by [`Tx::finish_ach_upload`].
#[derive(Debug, Clone)]
pub enum UploadOutcome {
    Uploaded {
        at: DateTime<Utc>,
        by: String,
        location: String,
    },
    /// Try again at `next_attempt_at` (state back to `built`).
    Retry {
        error: String,
        next_attempt_at: DateTime<Utc>,
    },
    Failed {
        error: String,
    },
}

impl Tx {
    /// The delivery state of outbound file `id` (`None` for an inbound file).
    pub async fn get_ach_file_delivery(
        &mut self,
        id: &str,
    ) -> Result<Option<FileDelivery>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM ach_files WHERE id = $1"));
        let row: Row = on_db!(self, conn => sqlx::query_as(sql)
            .bind(id)
            .fetch_optional(conn)
            .await)?
        .ok_or(StoreError::NotFound)?;
        if row.delivery_status.is_none() {
            return Ok(None);
        }
        row.try_into().map(Some)
    }

    /// Record which ODFI an outbound file goes to (the cutoff, right after
    /// inserting it).
    pub async fn set_ach_file_odfi(&mut self, id: &str, odfi_id: &str) -> Result<(), StoreError> {
        on_db!(self, conn => sqlx::query("UPDATE ach_files SET odfi_id = $2 WHERE id = $1")
            .bind(id)
            .bind(odfi_id)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Record the ODFI of a file that has none yet (files of a single-ODFI
    /// node get the default ODFI when first delivered).
    pub async fn set_ach_file_odfi_if_unset(
        &mut self,
        id: &str,
        odfi_id: &str,
    ) -> Result<(), StoreError> {
        on_db!(self, conn => sqlx::query(
            "UPDATE ach_files SET odfi_id = $2 WHERE id = $1 AND odfi_id IS NULL")
            .bind(id)
            .bind(odfi_id)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Outbound files the delivery job should try now: written to disk,
    /// `built` with no attempt scheduled later than `now`, or `uploading`
    /// (an attempt a crash interrupted), oldest first.
    pub async fn ach_files_due_for_upload(
        &mut self,
        now: DateTime<Utc>,
    ) -> Result<Vec<FileDelivery>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM ach_files WHERE direction = 'outbound' AND status = 'written' \
             AND (delivery_status = 'uploading' OR (delivery_status = 'built' \
                  AND (next_attempt_at IS NULL OR next_attempt_at <= $1))) ORDER BY id"
        ));
        let rows: Vec<Row> = on_db!(self, conn => sqlx::query_as(sql)
            .bind(ts(now))
            .fetch_all(conn)
            .await)?;
        rows.into_iter().map(FileDelivery::try_from).collect()
    }

    /// Start an attempt: `built`/`uploading` → `uploading`, attempts + 1.
    /// `false` when the file is in neither state (someone else moved it).
    pub async fn start_ach_upload(&mut self, id: &str) -> Result<bool, StoreError> {
        let n = on_db!(self, conn => sqlx::query(
            "UPDATE ach_files SET delivery_status = 'uploading', delivery_attempts = delivery_attempts + 1 \
             WHERE id = $1 AND delivery_status IN ('built', 'uploading')")
            .bind(id)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Record an attempt's outcome; only an `uploading` file moves (or,
    /// for a manual `Uploaded`, any file not yet uploaded). `false` when
    /// the file was not in a state the outcome applies to.
    pub async fn finish_ach_upload(
        &mut self,
        id: &str,
        outcome: &UploadOutcome,
    ) -> Result<bool, StoreError> {
        let n = match outcome {
            UploadOutcome::Uploaded { at, by, location } => on_db!(self, conn => sqlx::query(
                "UPDATE ach_files SET delivery_status = 'uploaded', uploaded_at = $2, uploaded_by = $3, \
                 upload_location = $4, delivery_error = NULL, next_attempt_at = NULL \
                 WHERE id = $1 AND delivery_status IN ('built', 'uploading', 'upload_failed')")
                .bind(id)
                .bind(ts(*at))
                .bind(by)
                .bind(location)
                .execute(conn)
                .await
                .map(|r| r.rows_affected()))?,
            UploadOutcome::Retry {
                error,
                next_attempt_at,
            } => on_db!(self, conn => sqlx::query(
                "UPDATE ach_files SET delivery_status = 'built', delivery_error = $2, next_attempt_at = $3 \
                 WHERE id = $1 AND delivery_status = 'uploading'")
                .bind(id)
                .bind(error)
                .bind(ts(*next_attempt_at))
                .execute(conn)
                .await
                .map(|r| r.rows_affected()))?,
            UploadOutcome::Failed { error } => on_db!(self, conn => sqlx::query(
                "UPDATE ach_files SET delivery_status = 'upload_failed', delivery_error = $2, next_attempt_at = NULL \
                 WHERE id = $1 AND delivery_status = 'uploading'")
                .bind(id)
                .bind(error)
                .execute(conn)
                .await
                .map(|r| r.rows_affected()))?,
        };
        Ok(n == 1)
    }

    /// An operator's retry: `upload_failed` → `built`, due now, attempts
    /// counted afresh. `false` when the file is not `upload_failed`.
    pub async fn reset_ach_upload(&mut self, id: &str) -> Result<bool, StoreError> {
        let n = on_db!(self, conn => sqlx::query(
            "UPDATE ach_files SET delivery_status = 'built', delivery_attempts = 0, next_attempt_at = NULL \
             WHERE id = $1 AND delivery_status = 'upload_failed'")
            .bind(id)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// The id and delivery state of the outbound file named `file_name`.
    pub async fn outbound_file_by_name(
        &mut self,
        file_name: &str,
    ) -> Result<Option<FileDelivery>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM ach_files WHERE direction = 'outbound' AND file_name = $1 ORDER BY id LIMIT 1"
        ));
        let row: Option<Row> = on_db!(self, conn => sqlx::query_as(sql)
            .bind(file_name)
            .fetch_optional(conn)
            .await)?;
        row.map(FileDelivery::try_from).transpose()
    }

    /// The delivery of the outbound file created on `date` with File ID
    /// Modifier `modifier` (unique among outbound files), if any.
    pub async fn outbound_file_by_modifier(
        &mut self,
        date: chrono::NaiveDate,
        modifier: &str,
    ) -> Result<Option<FileDelivery>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM ach_files WHERE direction = 'outbound' AND creation_date = $1 \
             AND file_id_modifier = $2 ORDER BY id LIMIT 1"
        ));
        let row: Option<Row> = on_db!(self, conn => sqlx::query_as(sql)
            .bind(date.to_string())
            .bind(modifier)
            .fetch_optional(conn)
            .await)?;
        row.map(FileDelivery::try_from).transpose()
    }

    /// `uploaded` → `acknowledged`. `false` when the file was not `uploaded`.
    pub async fn acknowledge_ach_file(
        &mut self,
        id: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let n = on_db!(self, conn => sqlx::query(
            "UPDATE ach_files SET delivery_status = 'acknowledged', acknowledged_at = $2 \
             WHERE id = $1 AND delivery_status = 'uploaded'")
            .bind(id)
            .bind(ts(at))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }
}
