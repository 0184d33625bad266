//! The queries of the ACH workers (release, cutoff, settlement) over
//! `collections`: which collections are due, and a status change that only
//! applies when the row is still in the status the worker read, so two
//! workers never both move (or file) the same collection.

use chrono::NaiveDate;
use std::collections::{HashMap, HashSet};

use inflow_core::collection::{AchCollection, CollectionStatus, HoldCode};
use inflow_core::ids::{AccountId, CollectionId, CustomerId, PaymentMethodId};

use crate::codec::ts;
use crate::repo::collections::{history_json, CollectionRow, COLUMNS};
use crate::{on_db, StoreError, Tx};

/// Which pending collections a cutoff takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CutoffSelection {
    /// A same-day window of `date`: same-day entries effective that day and released by then.
    SameDay { date: NaiveDate },
    /// The standard cutoff of `date`: every entry released by then.
    Standard { date: NaiveDate },
}

/// A due row that cannot be read back into a collection (corrupt data, such
/// as an amount beyond the entry field): what the cutoff needs to fail it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableCollection {
    pub id: CollectionId,
    pub customer_id: CustomerId,
    /// The stored status history, as stored (it may be the unreadable part).
    pub status_history: String,
    /// Why the row could not be read.
    pub reason: String,
}

/// The collections a cutoff takes.
#[derive(Debug, Default)]
pub struct DueCollections {
    /// In id order.
    pub collections: Vec<AchCollection>,
    /// Rows that could not be read; the cutoff fails them one by one.
    pub unreadable: Vec<UnreadableCollection>,
    /// The id of the last row read (readable or not), where the next page starts.
    pub last_id: Option<String>,
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

    /// Load collections by id, in the order given (a few hundred per query).
    pub async fn load_ach_collections(
        &mut self,
        ids: &[CollectionId],
    ) -> Result<Vec<AchCollection>, StoreError> {
        const CHUNK: usize = 500;
        let mut by_id: HashMap<String, AchCollection> = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT {COLUMNS} FROM collections WHERE id IN ({})",
                placeholders.join(", ")
            );
            let rows: Vec<CollectionRow> = on_db!(self, conn => {
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
                for id in chunk {
                    q = q.bind(id.as_str());
                }
                q.fetch_all(conn).await
            })?;
            for row in rows {
                let c = AchCollection::try_from(row)?;
                by_id.insert(c.id.to_string(), c);
            }
        }
        ids.iter()
            .map(|id| by_id.remove(id.as_str()).ok_or(StoreError::NotFound))
            .collect()
    }

    /// `on_hold` collections waiting for `hold`, narrowed to a payment method
    /// and/or a destination account when given.
    pub async fn held_ach_collections(
        &mut self,
        hold: HoldCode,
        payment_method: Option<&PaymentMethodId>,
        account: Option<&AccountId>,
    ) -> Result<Vec<AchCollection>, StoreError> {
        let v: Vec<String> = on_db!(self, conn => sqlx::query_scalar(
            "SELECT id FROM collections WHERE status = 'on_hold' AND hold_code = $1 \
             AND ($2 = '' OR payment_method_id = $2) AND ($3 = '' OR destination_account_id = $3) ORDER BY id")
            .bind(hold.as_str())
            .bind(payment_method.map(|p| p.as_str()).unwrap_or(""))
            .bind(account.map(|a| a.as_str()).unwrap_or(""))
            .fetch_all(conn)
            .await)?;
        self.load_ach_collections(&ids(v)).await
    }

    /// The pending collections a cutoff takes, whole, in id order, after
    /// `after_id` (empty: from the start), at most `limit` rows: a cutoff
    /// reads its due rows a page at a time. A row that cannot be read is
    /// set aside instead of failing the query.
    pub async fn ach_collections_due_page(
        &mut self,
        selection: CutoffSelection,
        after_id: &str,
        limit: i64,
    ) -> Result<DueCollections, StoreError> {
        let (same_day, date) = match selection {
            CutoffSelection::SameDay { date } => (true, date),
            CutoffSelection::Standard { date } => (false, date),
        };
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM collections WHERE status = 'pending' AND rail = 'ach' AND release_date <= $1 \
             AND ($2 = 0 OR (processing_mode = 'same_day' AND effective_date = $1)) AND id > $3 \
             ORDER BY id LIMIT $4"
        ));
        let rows: Vec<CollectionRow> = on_db!(self, conn => sqlx::query_as(sql)
            .bind(date.to_string())
            .bind(i64::from(same_day))
            .bind(after_id)
            .bind(limit)
            .fetch_all(conn)
            .await)?;
        let mut due = DueCollections {
            collections: Vec::with_capacity(rows.len()),
            unreadable: Vec::new(),
            last_id: None,
        };
        for row in rows {
            let (id, customer_id, status_history) = row.identity();
            due.last_id = Some(id.clone());
            match AchCollection::try_from(row) {
                Ok(c) => due.collections.push(c),
                Err(e) => due.unreadable.push(UnreadableCollection {
                    id: CollectionId::from_trusted(id),
                    customer_id: CustomerId::from_trusted(customer_id),
                    status_history,
                    reason: e.to_string(),
                }),
            }
        }
        Ok(due)
    }

    /// Fail a pending collection whose row cannot be read, writing only
    /// its status, reason, history (`history_json`) and `updated_at`.
    /// `false` if it was no longer pending.
    pub async fn fail_unreadable_collection(
        &mut self,
        id: &CollectionId,
        reason: &str,
        history_json: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, StoreError> {
        let n = on_db!(self, conn => sqlx::query(
            "UPDATE collections SET status = 'failed', status_reason = $2, status_history = $3, updated_at = $4 \
             WHERE id = $1 AND status = 'pending'")
            .bind(id.as_str())
            .bind(reason)
            .bind(history_json)
            .bind(ts(now))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// [`Tx::update_ach_collection_if`] for many collections in a few
    /// statements. Returns the ids that were still in `expected` and were
    /// written; the others were moved by another worker and are left alone.
    ///
    /// The rows travel as one JSON array per statement: a statement with
    /// thousands of bind parameters is slow to bind, and one statement per
    /// row costs a round trip each.
    pub async fn update_ach_collections_if(
        &mut self,
        collections: &[AchCollection],
        expected: CollectionStatus,
    ) -> Result<HashSet<String>, StoreError> {
        const CHUNK: usize = 2_000;
        let rows_source = json_rows_source(self, "$2");
        let sql = format!(
            "UPDATE collections SET status = j.value->>'status', status_reason = j.value->>'status_reason', \
             status_history = j.value->>'status_history', effective_date = j.value->>'effective_date', \
             release_date = j.value->>'release_date', trace_number = j.value->>'trace_number', \
             file_id = j.value->>'file_id', return_code = j.value->>'return_code', \
             return_trace = j.value->>'return_trace', noc_code = j.value->>'noc_code', \
             noc_corrected_data = j.value->>'noc_corrected_data', \
             updated_at = CAST(j.value->>'updated_at' AS BIGINT), \
             submitted_at = CAST(j.value->>'submitted_at' AS BIGINT), \
             completed_at = CAST(j.value->>'completed_at' AS BIGINT), \
             returned_at = CAST(j.value->>'returned_at' AS BIGINT), hold_code = j.value->>'hold_code' \
             FROM {rows_source} WHERE collections.id = j.value->>'id' AND collections.status || '' = $1 \
             RETURNING collections.id"
        );
        // `status || ''` keeps SQLite from driving the join by the status
        // index (a scan of every pending row per JSON element); with it the
        // plan walks the JSON rows and finds each collection by id.
        let mut written = HashSet::with_capacity(collections.len());
        if let Tx::Postgres(t, ..) = self {
            // Arrays per column: nothing for the server to parse.
            for chunk in collections.chunks(CHUNK) {
                written.extend(update_unnest(t, chunk, expected).await?);
            }
            return Ok(written);
        }
        for chunk in collections.chunks(CHUNK) {
            let rows: Vec<serde_json::Value> = chunk
                .iter()
                .map(|c| {
                    serde_json::json!({
                        "id": c.id.as_str(),
                        "status": c.status.as_str(),
                        "status_reason": c.status_reason,
                        "status_history": history_json(c),
                        "effective_date": c.effective_date.to_string(),
                        "release_date": c.release_date.to_string(),
                        "trace_number": c.trace_number,
                        "file_id": c.file_id,
                        "return_code": c.return_code,
                        "return_trace": c.return_trace,
                        "noc_code": c.noc_code,
                        "noc_corrected_data": c.noc_corrected_data,
                        "updated_at": ts(c.updated_at),
                        "submitted_at": c.submitted_at.map(ts),
                        "completed_at": c.completed_at.map(ts),
                        "returned_at": c.returned_at.map(ts),
                        "hold_code": c.hold.map(|h| h.as_str()),
                    })
                })
                .collect();
            let payload = serde_json::Value::Array(rows).to_string();
            let ids: Vec<String> = on_db!(self, conn => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
                .bind(expected.as_str())
                .bind(payload)
                .fetch_all(conn)
                .await)?;
            written.extend(ids);
        }
        Ok(written)
    }
}

/// `FROM` source yielding one row `j` per element of the JSON array bound
/// at `param`, with the element in `j.value` on both backends.
pub(crate) fn json_rows_source(tx: &Tx, param: &str) -> String {
    match tx {
        Tx::Sqlite(..) => format!("json_each({param}) AS j"),
        Tx::Postgres(..) => format!("json_array_elements(CAST({param} AS json)) AS j(value)"),
    }
}

/// [`Tx::update_ach_collections_if`] on PostgreSQL: the changed columns as
/// one array each (`UNNEST`); the ids updated.
async fn update_unnest(
    t: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    chunk: &[AchCollection],
    expected: CollectionStatus,
) -> Result<Vec<String>, StoreError> {
    fn col<'a, T>(chunk: &'a [AchCollection], f: impl Fn(&'a AchCollection) -> T) -> Vec<T> {
        chunk.iter().map(f).collect()
    }
    let ids: Vec<String> = sqlx::query_scalar(
        "UPDATE collections SET status = u.status, status_reason = u.status_reason, \
         status_history = u.status_history, effective_date = u.effective_date, \
         release_date = u.release_date, trace_number = u.trace_number, file_id = u.file_id, \
         return_code = u.return_code, return_trace = u.return_trace, noc_code = u.noc_code, \
         noc_corrected_data = u.noc_corrected_data, updated_at = u.updated_at, \
         submitted_at = u.submitted_at, completed_at = u.completed_at, returned_at = u.returned_at, \
         hold_code = u.hold_code \
         FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], \
         $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::bigint[], \
         $15::bigint[], $16::bigint[], $17::bigint[], $18::text[]) \
         AS u(id, status, status_reason, status_history, effective_date, release_date, trace_number, \
         file_id, return_code, return_trace, noc_code, noc_corrected_data, updated_at, submitted_at, \
         completed_at, returned_at, hold_code) \
         WHERE collections.id = u.id AND collections.status = $1 RETURNING collections.id",
    )
    .bind(expected.as_str())
    .bind(col(chunk, |c| c.id.as_str()))
    .bind(col(chunk, |c| c.status.as_str()))
    .bind(col(chunk, |c| c.status_reason.as_deref()))
    .bind(col(chunk, history_json))
    .bind(col(chunk, |c| c.effective_date.to_string()))
    .bind(col(chunk, |c| c.release_date.to_string()))
    .bind(col(chunk, |c| c.trace_number.as_deref()))
    .bind(col(chunk, |c| c.file_id.as_deref()))
    .bind(col(chunk, |c| c.return_code.as_deref()))
    .bind(col(chunk, |c| c.return_trace.as_deref()))
    .bind(col(chunk, |c| c.noc_code.as_deref()))
    .bind(col(chunk, |c| c.noc_corrected_data.as_deref()))
    .bind(col(chunk, |c| ts(c.updated_at)))
    .bind(col(chunk, |c| c.submitted_at.map(ts)))
    .bind(col(chunk, |c| c.completed_at.map(ts)))
    .bind(col(chunk, |c| c.returned_at.map(ts)))
    .bind(col(chunk, |c| c.hold.map(|h| h.as_str())))
    .fetch_all(&mut **t)
    .await?;
    Ok(ids)
}
