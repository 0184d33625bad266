//! The offset entries of balanced files (`ach_offset_entries`): which file
//! carried the offset credit with a trace number, so that a return of it
//! is matched to that file rather than recorded as unmatched.

use chrono::{DateTime, Utc};

use crate::codec::ts;
use crate::{on_db, StoreError, Tx};

/// An offset entry a file carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetEntryRow {
    pub trace_number: String,
    /// The outbound file whose bytes hold the entry (the companion file of
    /// offsets when debits and credits are in separate files).
    pub file_id: String,
    /// Minor units.
    pub amount: i64,
}

impl Tx {
    /// Record the offset entries of file `file_id` (`(trace, amount)`).
    pub async fn insert_ach_offset_entries(
        &mut self,
        file_id: &str,
        entries: &[(String, i64)],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        for (trace, amount) in entries {
            on_db!(self, conn => sqlx::query(
                "INSERT INTO ach_offset_entries (trace_number, file_id, amount, created_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
                .bind(trace)
                .bind(file_id)
                .bind(*amount)
                .bind(ts(now))
                .execute(conn).await.map(|_| ()))?;
        }
        Ok(())
    }

    /// Whether any balanced file was ever built (any offset entry recorded).
    pub async fn any_ach_offset_entries(&mut self) -> Result<bool, StoreError> {
        let one: Option<i32> = on_db!(self, conn => sqlx::query_scalar(
            "SELECT 1 FROM ach_offset_entries LIMIT 1")
            .fetch_optional(conn)
            .await)?;
        Ok(one.is_some())
    }

    /// The newest offset entry with trace number `trace`, if any.
    pub async fn ach_offset_entry_by_trace(
        &mut self,
        trace: &str,
    ) -> Result<Option<OffsetEntryRow>, StoreError> {
        let row: Option<(String, String, i64)> = on_db!(self, conn => sqlx::query_as(
            "SELECT trace_number, file_id, amount FROM ach_offset_entries \
             WHERE trace_number = $1 ORDER BY created_at DESC, file_id DESC LIMIT 1")
            .bind(trace)
            .fetch_optional(conn)
            .await)?;
        Ok(row.map(|(trace_number, file_id, amount)| OffsetEntryRow {
            trace_number,
            file_id,
            amount,
        }))
    }

    /// Record that return `return_id` returns the offset entry of file `file_id`.
    pub async fn set_ach_return_offset_file(
        &mut self,
        return_id: &str,
        file_id: &str,
    ) -> Result<(), StoreError> {
        on_db!(self, conn => sqlx::query("UPDATE ach_returns SET offset_file_id = $2 WHERE id = $1")
            .bind(return_id)
            .bind(file_id)
            .execute(conn).await.map(|_| ()))?;
        Ok(())
    }
}
