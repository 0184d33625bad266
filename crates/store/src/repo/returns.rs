//! Inbound ACH: the files Inflow receives from its bank (returns and
//! notifications of change), each return/NOC entry in them (`ach_returns`),
//! and the sandbox bank's delivery log.
//!
//! Every insert here is idempotent (`ON CONFLICT DO NOTHING`) and says
//! whether it inserted: the unique index on an inbound file's SHA-256 and the
//! unique key of a return entry are what make ingesting the same file, or the
//! same return in another file, change nothing the second time. (A failed
//! insert would abort a PostgreSQL transaction; `DO NOTHING` does not.)

use chrono::{DateTime, NaiveDate, Utc};
use inflow_core::ids::{CollectionId, ReturnId};

use crate::codec::{dt, ts};
use crate::{on_db, StoreError, Tx};

/// An inbound file as recorded in `ach_files` (direction `inbound`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundFile {
    /// `fil_…`
    pub id: String,
    /// `processed` once its entries are applied (in the same transaction).
    pub status: String,
    /// Where it came from: the uploaded or picked-up file name.
    pub file_name: String,
    /// The file header's creation date.
    pub creation_date: NaiveDate,
    pub batch_count: i64,
    pub entry_count: i64,
    pub total_debit: i64,
    pub total_credit: i64,
    /// Hex SHA-256 of the bytes as received (unique among inbound files).
    pub sha256: String,
    /// JSON text: the ingestion report.
    pub summary: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// What a return/NOC entry is.
pub mod kind {
    pub const RETURN: &str = "return";
    pub const NOC: &str = "noc";
    pub const DISHONORED_RETURN: &str = "dishonored_return";
    pub const CONTESTED_RETURN: &str = "contested_return";
    pub const REFUSED_NOC: &str = "refused_noc";
}

/// One received return or NOC entry (`ach_returns`), matched to a collection or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AchReturn {
    pub id: ReturnId,
    pub inbound_file_id: String,
    /// One of [`kind`].
    pub kind: String,
    /// `R01`, `C03`, …
    pub code: String,
    /// Trace number of Inflow's forward entry, as the bank sent it.
    pub original_trace: String,
    /// Trace number of the return/NOC entry itself.
    pub entry_trace: String,
    /// Minor units (0 for NOCs).
    pub amount: i64,
    /// NOCs: the corrected data as received (trimmed), any account number
    /// in it masked (`****0001`).
    pub corrected_data: Option<String>,
    /// NOCs: the corrected data as received, sealed with
    /// [`inflow_core::noc::return_seal_context`] of the row id.
    pub corrected_data_sealed: Option<Vec<u8>>,
    pub collection_id: Option<CollectionId>,
    pub matched: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct AchReturnRow {
    id: String,
    inbound_file_id: String,
    kind: String,
    code: String,
    original_trace: String,
    entry_trace: String,
    amount: i64,
    corrected_data: Option<String>,
    corrected_data_sealed: Option<Vec<u8>>,
    collection_id: Option<String>,
    matched: bool,
    created_at: i64,
}

impl TryFrom<AchReturnRow> for AchReturn {
    type Error = StoreError;
    fn try_from(r: AchReturnRow) -> Result<Self, StoreError> {
        Ok(AchReturn {
            id: ReturnId::from_trusted(r.id),
            inbound_file_id: r.inbound_file_id,
            kind: r.kind,
            code: r.code,
            original_trace: r.original_trace,
            entry_trace: r.entry_trace,
            amount: r.amount,
            corrected_data: r.corrected_data,
            corrected_data_sealed: r.corrected_data_sealed,
            collection_id: r.collection_id.map(CollectionId::from_trusted),
            matched: r.matched,
            created_at: dt(r.created_at)?,
        })
    }
}

const RETURN_COLUMNS: &str =
    "id, inbound_file_id, kind, code, original_trace, entry_trace, amount, \
                              corrected_data, collection_id, matched, created_at, corrected_data_sealed";

impl Tx {
    /// Record an inbound file. `false` if a file with the same content was
    /// recorded before (nothing is written then).
    ///
    /// The file ID modifier is not stored: `(direction, creation_date,
    /// file_id_modifier)` is unique for the files Inflow originates, but
    /// banks send several files a day with the same modifier.
    pub async fn insert_inbound_file(&mut self, f: &InboundFile) -> Result<bool, StoreError> {
        let n = on_db!(self, conn => sqlx::query(
            "INSERT INTO ach_files (id, direction, status, file_name, creation_date, file_id_modifier, cutoff_at, \
             batch_count, entry_count, total_debit, total_credit, sha256, summary, created_at, written_at) \
             VALUES ($1, 'inbound', $2, $3, $4, NULL, NULL, $5, $6, $7, $8, $9, $10, $11, NULL) \
             ON CONFLICT DO NOTHING")
            .bind(&f.id)
            .bind(&f.status)
            .bind(&f.file_name)
            .bind(f.creation_date.to_string())
            .bind(f.batch_count)
            .bind(f.entry_count)
            .bind(f.total_debit)
            .bind(f.total_credit)
            .bind(&f.sha256)
            .bind(&f.summary)
            .bind(ts(f.created_at))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// The id of the inbound file with this content, if it was received before.
    pub async fn inbound_file_by_sha256(
        &mut self,
        sha256: &str,
    ) -> Result<Option<String>, StoreError> {
        let id: Option<String> = on_db!(self, conn => sqlx::query_scalar(
            "SELECT id FROM ach_files WHERE direction = 'inbound' AND sha256 = $1")
            .bind(sha256)
            .fetch_optional(conn)
            .await)?;
        Ok(id)
    }

    /// Replace an inbound file's summary (the ingestion report).
    pub async fn set_inbound_file_summary(
        &mut self,
        id: &str,
        summary: &str,
    ) -> Result<(), StoreError> {
        let n = on_db!(self, conn => sqlx::query(
            "UPDATE ach_files SET summary = $2 WHERE id = $1 AND direction = 'inbound'")
            .bind(id)
            .bind(summary)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// The summary stored with an inbound file.
    pub async fn inbound_file_summary(&mut self, id: &str) -> Result<Option<String>, StoreError> {
        let row: Option<Option<String>> = on_db!(self, conn => sqlx::query_scalar(
            "SELECT summary FROM ach_files WHERE id = $1 AND direction = 'inbound'")
            .bind(id)
            .fetch_optional(conn)
            .await)?;
        row.ok_or(StoreError::NotFound)
    }

    /// Record a return/NOC entry. `false` if the same entry (kind, original
    /// trace, entry trace, code) was recorded before, from any file.
    pub async fn insert_ach_return(&mut self, r: &AchReturn) -> Result<bool, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO ach_returns ({RETURN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT DO NOTHING"
        ));
        let n = on_db!(self, conn => sqlx::query(sql)
            .bind(r.id.as_str())
            .bind(&r.inbound_file_id)
            .bind(&r.kind)
            .bind(&r.code)
            .bind(&r.original_trace)
            .bind(&r.entry_trace)
            .bind(r.amount)
            .bind(&r.corrected_data)
            .bind(r.collection_id.as_ref().map(|c| c.as_str()))
            .bind(r.matched)
            .bind(ts(r.created_at))
            .bind(&r.corrected_data_sealed)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Every return/NOC recorded from one inbound file, in id order.
    pub async fn ach_returns_of_file(
        &mut self,
        file_id: &str,
    ) -> Result<Vec<AchReturn>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {RETURN_COLUMNS} FROM ach_returns WHERE inbound_file_id = $1 ORDER BY id"
        ));
        let rows: Vec<AchReturnRow> = on_db!(self, conn => sqlx::query_as(sql)
            .bind(file_id)
            .fetch_all(conn)
            .await)?;
        rows.into_iter().map(AchReturn::try_from).collect()
    }

    /// Every return/NOC matched to one collection, oldest first.
    pub async fn ach_returns_of_collection(
        &mut self,
        collection: &CollectionId,
    ) -> Result<Vec<AchReturn>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {RETURN_COLUMNS} FROM ach_returns WHERE collection_id = $1 ORDER BY id"
        ));
        let rows: Vec<AchReturnRow> = on_db!(self, conn => sqlx::query_as(sql)
            .bind(collection.as_str())
            .fetch_all(conn)
            .await)?;
        rows.into_iter().map(AchReturn::try_from).collect()
    }

    /// Returns/NOCs that matched no collection (nor a balanced file's
    /// offset entry), newest first (for operators).
    pub async fn unmatched_ach_returns(
        &mut self,
        limit: i64,
    ) -> Result<Vec<AchReturn>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {RETURN_COLUMNS} FROM ach_returns WHERE matched = $1 AND offset_file_id IS NULL \
             ORDER BY id DESC LIMIT $2"
        ));
        let rows: Vec<AchReturnRow> = on_db!(self, conn => sqlx::query_as(sql)
            .bind(false)
            .bind(limit)
            .fetch_all(conn)
            .await)?;
        rows.into_iter().map(AchReturn::try_from).collect()
    }

    /// The ACH collection whose entry carried this trace number. Trace
    /// sequences wrap after 9,999,999 entries, so the newest entry wins: a
    /// return refers to an entry of the last 60 days.
    pub async fn collection_id_by_trace(
        &mut self,
        trace: &str,
    ) -> Result<Option<CollectionId>, StoreError> {
        let id: Option<String> = on_db!(self, conn => sqlx::query_scalar(
            "SELECT id FROM collections WHERE trace_number = $1 AND rail = 'ach' \
             ORDER BY submitted_at DESC, id DESC LIMIT 1")
            .bind(trace)
            .fetch_optional(conn)
            .await)?;
        Ok(id.map(CollectionId::from_trusted))
    }

    /// Has the sandbox bank delivered the answer named `key`?
    pub async fn sandbox_answer_delivered(&mut self, key: &str) -> Result<bool, StoreError> {
        let found: Option<String> = on_db!(self, conn => sqlx::query_scalar(
            "SELECT value FROM settings WHERE name = $1")
            .bind(delivery_setting(key))
            .fetch_optional(conn)
            .await)?;
        Ok(found.is_some())
    }

    /// Record that the sandbox bank delivered the answer named `key` (as
    /// `file_name`). `false` if it was recorded before.
    pub async fn mark_sandbox_answer_delivered(
        &mut self,
        key: &str,
        file_name: &str,
    ) -> Result<bool, StoreError> {
        let n = on_db!(self, conn => sqlx::query(
            "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(delivery_setting(key))
            .bind(file_name)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }
}

fn delivery_setting(key: &str) -> String {
    format!("sandbox_bank.delivered.{key}")
}
