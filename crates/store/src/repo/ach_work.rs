//! The queries of the ACH workers (release, cutoff, settlement) over
//! `collections`: which collections are due, and a status change that only
//! applies when the row is still in the status the worker read, so two
//! workers never both move (or file) the same collection.

use chrono::NaiveDate;
use inflow_core::collection::{AchCollection, CollectionStatus};
use inflow_core::ids::CollectionId;

use crate::codec::ts;
use crate::{on_db, StoreError, Tx};

/// Which pending collections a cutoff takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CutoffSelection {
    /// A same-day window of `date`: same-day entries effective that day and released by then.
    SameDay { date: NaiveDate },
    /// The standard cutoff of `date`: every entry released by then.
    Standard { date: NaiveDate },
}

fn ids(v: Vec<String>) -> Vec<CollectionId> {
    v.into_iter().map(CollectionId::from_trusted).collect()
}

impl Tx {
    /// `scheduled` ACH collections whose release date is `today` or earlier, by id.
    pub async fn ach_collections_due_for_release(
        &mut self,
        today: NaiveDate,
        limit: i64,
    ) -> Result<Vec<CollectionId>, StoreError> {
        let v: Vec<String> = on_db!(self, conn => sqlx::query_scalar(
            "SELECT id FROM collections WHERE status = 'scheduled' AND rail = 'ach' AND release_date <= $1 \
             ORDER BY id LIMIT $2")
            .bind(today.to_string())
            .bind(limit)
            .fetch_all(conn)
            .await)?;
        Ok(ids(v))
    }

    /// `pending` ACH collections a cutoff takes, by id.
    pub async fn ach_collections_due_at_cutoff(
        &mut self,
        selection: CutoffSelection,
    ) -> Result<Vec<CollectionId>, StoreError> {
        let v: Vec<String> = match selection {
            CutoffSelection::SameDay { date } => on_db!(self, conn => sqlx::query_scalar(
                "SELECT id FROM collections WHERE status = 'pending' AND rail = 'ach' \
                 AND processing_mode = 'same_day' AND effective_date = $1 AND release_date <= $1 ORDER BY id")
                .bind(date.to_string())
                .fetch_all(conn)
                .await)?,
            CutoffSelection::Standard { date } => on_db!(self, conn => sqlx::query_scalar(
                "SELECT id FROM collections WHERE status = 'pending' AND rail = 'ach' \
                 AND release_date <= $1 ORDER BY id")
                .bind(date.to_string())
                .fetch_all(conn)
                .await)?,
        };
        Ok(ids(v))
    }

    /// ACH collections in `status` effective on or before `date`, by id,
    /// after `after_id` (empty: from the start), at most `limit`.
    pub async fn ach_collections_effective_by(
        &mut self,
        status: CollectionStatus,
        date: NaiveDate,
        after_id: &str,
        limit: i64,
    ) -> Result<Vec<CollectionId>, StoreError> {
        let v: Vec<String> = on_db!(self, conn => sqlx::query_scalar(
            "SELECT id FROM collections WHERE status = $1 AND rail = 'ach' AND effective_date <= $2 \
             AND id > $3 ORDER BY id LIMIT $4")
            .bind(status.as_str())
            .bind(date.to_string())
            .bind(after_id)
            .bind(limit)
            .fetch_all(conn)
            .await)?;
        Ok(ids(v))
    }

    /// The collections filed in `file_id`, in trace-number order.
    pub async fn ach_file_collection_ids(
        &mut self,
        file_id: &str,
    ) -> Result<Vec<CollectionId>, StoreError> {
        let v: Vec<String> = on_db!(self, conn => sqlx::query_scalar(
            "SELECT id FROM collections WHERE file_id = $1 AND trace_number IS NOT NULL ORDER BY trace_number")
            .bind(file_id)
            .fetch_all(conn)
            .await)?;
        Ok(ids(v))
    }

    /// Load collections by id, in the order given.
    pub async fn load_ach_collections(
        &mut self,
        ids: &[CollectionId],
    ) -> Result<Vec<AchCollection>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(self.get_ach_collection(None, id).await?);
        }
        Ok(out)
    }

    /// Write back `c` (as [`Tx::update_ach_collection`] does) only if the
    /// stored row is still in status `expected`. `false` means another
    /// worker moved it first and nothing was written.
    pub async fn update_ach_collection_if(
        &mut self,
        c: &AchCollection,
        expected: CollectionStatus,
    ) -> Result<bool, StoreError> {
        let history = serde_json::to_string(&c.status_history)
            .map_err(|e| StoreError::Corrupt(format!("status_history: {e}")))?;
        let done = on_db!(self, conn => sqlx::query(
            "UPDATE collections SET status = $2, status_reason = $3, status_history = $4, effective_date = $5, \
             release_date = $6, trace_number = $7, file_id = $8, return_code = $9, return_trace = $10, noc_code = $11, \
             noc_corrected_data = $12, updated_at = $13, submitted_at = $14, completed_at = $15, returned_at = $16 \
             WHERE id = $1 AND status = $17")
            .bind(c.id.as_str())
            .bind(c.status.as_str())
            .bind(&c.status_reason)
            .bind(history)
            .bind(c.effective_date.to_string())
            .bind(c.release_date.to_string())
            .bind(&c.trace_number)
            .bind(&c.file_id)
            .bind(&c.return_code)
            .bind(&c.return_trace)
            .bind(&c.noc_code)
            .bind(&c.noc_corrected_data)
            .bind(ts(c.updated_at))
            .bind(c.submitted_at.map(ts))
            .bind(c.completed_at.map(ts))
            .bind(c.returned_at.map(ts))
            .bind(expected.as_str())
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }
}
