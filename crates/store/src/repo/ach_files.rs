//! NACHA files: outbound files Inflow builds at each cutoff and inbound
//! (return/NOC) files it receives. An outbound file is `created` in the
//! cutoff's transaction (with its collections moved to `submitted`) and
//! becomes `written` once its bytes are durably on disk. Its delivery to the
//! ODFI starts `built` ([`crate::repo::ach_delivery`]).

use chrono::{DateTime, NaiveDate, Utc};

use crate::codec::{dt, opt_dt, ts};
use crate::{on_db, ListQuery, Page, StoreError, Tx};

/// `direction` of a file Inflow originates.
pub const OUTBOUND: &str = "outbound";
/// `direction` of a file Inflow receives.
pub const INBOUND: &str = "inbound";
/// Outbound: recorded with its entries, bytes not yet on disk.
pub const STATUS_CREATED: &str = "created";
/// Outbound: bytes on disk, `sha256` and `written_at` set.
pub const STATUS_WRITTEN: &str = "written";

/// A row of `ach_files`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AchFile {
    /// `fil_…`
    pub id: String,
    /// [`OUTBOUND`] or [`INBOUND`].
    pub direction: String,
    /// For outbound files [`STATUS_CREATED`] or [`STATUS_WRITTEN`].
    pub status: String,
    pub file_name: String,
    /// The file header's creation date (US/Eastern).
    pub creation_date: NaiveDate,
    /// `A`–`Z` or `0`–`9`; unique per direction and creation date.
    pub file_id_modifier: Option<String>,
    /// The cutoff that built an outbound file.
    pub cutoff_at: Option<DateTime<Utc>>,
    pub batch_count: i64,
    pub entry_count: i64,
    /// Minor units.
    pub total_debit: i64,
    pub total_credit: i64,
    /// Hex SHA-256 of the bytes, once written (outbound) or as received (inbound).
    pub sha256: Option<String>,
    /// JSON text with details (e.g. the cutoff kind); free-form.
    pub summary: Option<String>,
    pub created_at: DateTime<Utc>,
    pub written_at: Option<DateTime<Utc>>,
}

impl AchFile {
    /// A new file id (`fil_` + a time-ordered UUIDv7).
    pub fn new_id(now: DateTime<Utc>) -> String {
        format!("fil_{}", inflow_core::ids::new_id_body(now))
    }
}

#[derive(sqlx::FromRow)]
struct AchFileRow {
    id: String,
    direction: String,
    status: String,
    file_name: String,
    creation_date: String,
    file_id_modifier: Option<String>,
    cutoff_at: Option<i64>,
    batch_count: i64,
    entry_count: i64,
    total_debit: i64,
    total_credit: i64,
    sha256: Option<String>,
    summary: Option<String>,
    created_at: i64,
    written_at: Option<i64>,
}

impl TryFrom<AchFileRow> for AchFile {
    type Error = StoreError;
    fn try_from(r: AchFileRow) -> Result<Self, StoreError> {
        Ok(AchFile {
            creation_date: NaiveDate::parse_from_str(&r.creation_date, "%Y-%m-%d")
                .map_err(|_| StoreError::Corrupt(format!("date {}", r.creation_date)))?,
            id: r.id,
            direction: r.direction,
            status: r.status,
            file_name: r.file_name,
            file_id_modifier: r.file_id_modifier,
            cutoff_at: opt_dt(r.cutoff_at)?,
            batch_count: r.batch_count,
            entry_count: r.entry_count,
            total_debit: r.total_debit,
            total_credit: r.total_credit,
            sha256: r.sha256,
            summary: r.summary,
            created_at: dt(r.created_at)?,
            written_at: opt_dt(r.written_at)?,
        })
    }
}

const COLUMNS: &str =
    "id, direction, status, file_name, creation_date, file_id_modifier, cutoff_at, \
    batch_count, entry_count, total_debit, total_credit, sha256, summary, created_at, written_at";

impl Tx {
    pub async fn insert_ach_file(&mut self, f: &AchFile) -> Result<(), StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO ach_files ({COLUMNS}, delivery_status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
             CASE WHEN $2 = 'outbound' THEN 'built' END)"
        ));
        on_db!(self, conn => sqlx::query(sql)
            .bind(&f.id)
            .bind(&f.direction)
            .bind(&f.status)
            .bind(&f.file_name)
            .bind(f.creation_date.to_string())
            .bind(&f.file_id_modifier)
            .bind(f.cutoff_at.map(ts))
            .bind(f.batch_count)
            .bind(f.entry_count)
            .bind(f.total_debit)
            .bind(f.total_credit)
            .bind(&f.sha256)
            .bind(&f.summary)
            .bind(ts(f.created_at))
            .bind(f.written_at.map(ts))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn get_ach_file(&mut self, id: &str) -> Result<AchFile, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM ach_files WHERE id = $1"));
        let row: AchFileRow = on_db!(self, conn => sqlx::query_as(sql)
            .bind(id)
            .fetch_optional(conn)
            .await)?
        .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    /// Files newest first, optionally of one direction (`None`: both).
    pub async fn list_ach_files(
        &mut self,
        direction: Option<&str>,
        q: &ListQuery,
    ) -> Result<Page<AchFile>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM ach_files WHERE ($1 = '' OR id < $1) AND ($2 = '' OR direction = $2) \
             ORDER BY id DESC LIMIT $3"
        ));
        let rows: Vec<AchFileRow> = on_db!(self, conn => sqlx::query_as(sql)
            .bind(&q.starting_after)
            .bind(direction.unwrap_or(""))
            .bind(q.fetch())
            .fetch_all(conn)
            .await)?;
        let rows = rows
            .into_iter()
            .map(AchFile::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_rows(rows, q))
    }

    /// Every file of `direction` in `status`, oldest first.
    pub async fn ach_files_in_status(
        &mut self,
        direction: &str,
        status: &str,
    ) -> Result<Vec<AchFile>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM ach_files WHERE direction = $1 AND status = $2 ORDER BY id"
        ));
        let rows: Vec<AchFileRow> = on_db!(self, conn => sqlx::query_as(sql)
            .bind(direction)
            .bind(status)
            .fetch_all(conn)
            .await)?;
        rows.into_iter().map(AchFile::try_from).collect()
    }

    /// The File ID Modifiers already used by files of `direction` created on `date`.
    pub async fn used_file_id_modifiers(
        &mut self,
        direction: &str,
        date: NaiveDate,
    ) -> Result<Vec<String>, StoreError> {
        let used: Vec<Option<String>> = on_db!(self, conn => sqlx::query_scalar(
            "SELECT file_id_modifier FROM ach_files WHERE direction = $1 AND creation_date = $2")
            .bind(direction)
            .bind(date.to_string())
            .fetch_all(conn)
            .await)?;
        Ok(used.into_iter().flatten().collect())
    }

    /// Record that an outbound file's bytes are on disk. Only a `created`
    /// file moves; `false` when it was not `created` (already written).
    pub async fn mark_ach_file_written(
        &mut self,
        id: &str,
        sha256: &str,
        written_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = on_db!(self, conn => sqlx::query(
            "UPDATE ach_files SET status = 'written', sha256 = $2, written_at = $3 \
             WHERE id = $1 AND status = 'created'")
            .bind(id)
            .bind(sha256)
            .bind(ts(written_at))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }
}
