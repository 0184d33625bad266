//! Daily reconciliation files (`daily_files`, migration 0021): the row
//! source (every ledger transaction of a day with what it moved on each
//! kind of ledger account, and the ACH or card details of its collection),
//! and the stored files with their versions.
//!
//! The row source is generic over ledger transaction kinds: a new kind
//! appears in the files without a change here. Details live in the LEFT
//! JOINs of [`Tx::daily_file_rows`]; a kind whose details are in another
//! table adds its join there (as ACH refunds and reversals by credit do:
//! `ach_credit_entries`).

use chrono::{DateTime, NaiveDate, Utc};

use crate::codec::{dt, ts};
use crate::repo::ledger::kind;
use crate::{on_db, ListQuery, Page, StoreError, Tx};

/// The ledger transaction kinds whose reference is an ACH credit entry's
/// id (`ach_credit_entries`, migration 0020).
pub const CREDIT_ENTRY_KINDS: [&str; 4] = [
    "ach_refund",
    "ach_refund_returned",
    "ach_refund_cancelled",
    "ach_reversal_returned",
];

/// One ledger transaction of the day, with its movements and details.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DailyRowSource {
    pub transaction_id: String,
    pub kind: String,
    /// Unique per kind: the collection id for ACH postings, the refund id
    /// for card refunds, the processor's dispute id for disputes, the
    /// trace number for an offset entry.
    pub reference: String,
    pub collection_id: Option<String>,
    pub account_id: Option<String>,
    /// The destination account's customer.
    pub customer_id: Option<String>,
    pub currency: String,
    pub gross_amount: i64,
    /// Credits − debits on the account's `destination_pending`.
    pub pending_change: i64,
    /// Credits − debits on the account's `destination_available`.
    pub available_change: i64,
    /// Credits − debits on `fee_revenue`.
    pub fee_change: i64,
    /// Unix microseconds.
    pub created_at: i64,
    /// The collection's (ACH or card) external id.
    pub external_id: Option<String>,
    pub trace_number: Option<String>,
    pub sec_code: Option<String>,
    pub effective_date: Option<String>,
    pub return_code: Option<String>,
    /// The outbound NACHA file the ACH collection was filed in.
    pub ach_file_id: Option<String>,
    pub ach_file_name: Option<String>,
    pub processor_ref: Option<String>,
    pub batch_id: Option<String>,
    /// Card capture and batch close (settlement), unix microseconds.
    pub captured_at: Option<i64>,
    pub settled_at: Option<i64>,
    /// The ACH credit entry (`rfd_…` refund or `rvs_…` reversal) the
    /// transaction posts for: `ach_refund`, `ach_refund_returned`,
    /// `ach_refund_cancelled`, `ach_reversal_returned` (by reference) and
    /// `ach_reversed` of a `reversed` collection (its reversal).
    pub credit_entry_id: Option<String>,
    /// `refund` or `reversal`.
    pub credit_entry_kind: Option<String>,
}

/// A destination account and its customer.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AccountOwner {
    pub account_id: String,
    pub customer_id: String,
    pub currency: String,
}

/// A row of `daily_files` (without its content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyFile {
    /// `dfl_…`
    pub id: String,
    pub business_date: NaiveDate,
    /// `operator`, `customer` or `account`.
    pub scope: String,
    pub customer_id: Option<String>,
    pub account_id: Option<String>,
    pub version: i64,
    pub superseded_by: Option<String>,
    pub currency: String,
    pub row_count: i64,
    pub total_net: i64,
    pub ledger_movement: i64,
    pub ties_out: bool,
    pub sha256: String,
    /// `scheduled` or `on_demand`.
    pub trigger: String,
    pub created_at: DateTime<Utc>,
}

impl DailyFile {
    /// A new file id (`dfl_` + a time-ordered UUIDv7).
    pub fn new_id(now: DateTime<Utc>) -> String {
        format!("dfl_{}", inflow_core::ids::new_id_body(now))
    }

    /// What versions are counted per: `operator`, the customer or the account id.
    pub fn scope_key(&self) -> &str {
        self.account_id
            .as_deref()
            .or(self.customer_id.as_deref())
            .unwrap_or("operator")
    }
}

/// A file to store (see [`Tx::insert_daily_file`]).
#[derive(Debug, Clone)]
pub struct NewDailyFile {
    pub file: DailyFile,
    /// JSON lines.
    pub content: String,
}

#[derive(sqlx::FromRow)]
struct DailyFileRow {
    id: String,
    business_date: String,
    scope: String,
    customer_id: Option<String>,
    account_id: Option<String>,
    version: i64,
    superseded_by: Option<String>,
    currency: String,
    row_count: i64,
    total_net: i64,
    ledger_movement: i64,
    ties_out: bool,
    sha256: String,
    trigger: String,
    created_at: i64,
}

impl TryFrom<DailyFileRow> for DailyFile {
    type Error = StoreError;
    fn try_from(r: DailyFileRow) -> Result<Self, StoreError> {
        Ok(Self {
            business_date: r
                .business_date
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("business_date {:?}", r.business_date)))?,
            id: r.id,
            scope: r.scope,
            customer_id: r.customer_id,
            account_id: r.account_id,
            version: r.version,
            superseded_by: r.superseded_by,
            currency: r.currency,
            row_count: r.row_count,
            total_net: r.total_net,
            ledger_movement: r.ledger_movement,
            ties_out: r.ties_out,
            sha256: r.sha256,
            trigger: r.trigger,
            created_at: dt(r.created_at)?,
        })
    }
}

const COLUMNS: &str = "id, business_date, scope, customer_id, account_id, version, superseded_by, \
    currency, row_count, total_net, ledger_movement, ties_out, sha256, trigger, created_at";

fn rows_to_files(rows: Vec<DailyFileRow>) -> Result<Vec<DailyFile>, StoreError> {
    rows.into_iter().map(DailyFile::try_from).collect()
}

impl Tx {
    /// Every ledger transaction posted on `day` (US/Eastern banking-calendar
    /// day, as `posted_on`), oldest first, with what it moved on the
    /// destination's pending and available accounts and on fee revenue,
    /// and the details of its collection (ACH: trace number, file, return
    /// code; card: processor reference, batch, capture and settlement).
    ///
    /// ACH refunds and reversals by credit: the kinds in
    /// [`CREDIT_ENTRY_KINDS`] (reference = the credit entry's id) and
    /// `ach_reversed` of a collection whose reversing entry was filed take
    /// the credit entry's trace number, SEC code, effective date, return
    /// code and file (the collection's id and external id too).
    ///
    /// To give a new kind its details, add a LEFT JOIN on its table below
    /// (matching `t.reference` or `t.collection_id`) and COALESCE its
    /// columns into the existing ones.
    pub async fn daily_file_rows(
        &mut self,
        day: NaiveDate,
    ) -> Result<Vec<DailyRowSource>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT m.id AS transaction_id, m.kind, m.reference, \
             COALESCE(m.collection_id, ce.collection_id) AS collection_id, m.account_id, \
             acc.customer_id, m.currency, m.gross_amount, m.pending_change, m.available_change, \
             m.fee_change, m.created_at, \
             COALESCE(c.external_id, ce_c.external_id, k.external_id) AS external_id, \
             COALESCE(ce.trace_number, c.trace_number) AS trace_number, \
             COALESCE(ce.sec_code, c.sec_code) AS sec_code, \
             COALESCE(ce.effective_date, c.effective_date) AS effective_date, \
             COALESCE(ce.return_code, c.return_code) AS return_code, \
             COALESCE(ce.file_id, c.file_id) AS ach_file_id, f.file_name AS ach_file_name, \
             k.processor_ref, k.batch_id, k.captured_at, k.completed_at AS settled_at, \
             ce.id AS credit_entry_id, ce.kind AS credit_entry_kind \
             FROM (SELECT t.id, t.kind, t.reference, t.collection_id, t.account_id, t.currency, \
                   t.gross_amount, t.created_at, \
                   CAST(SUM(CASE WHEN a.kind = '{pending}' THEN {signed} ELSE 0 END) AS BIGINT) AS pending_change, \
                   CAST(SUM(CASE WHEN a.kind = '{available}' THEN {signed} ELSE 0 END) AS BIGINT) AS available_change, \
                   CAST(SUM(CASE WHEN a.kind = '{fees}' THEN {signed} ELSE 0 END) AS BIGINT) AS fee_change \
                   FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.id \
                   JOIN ledger_accounts a ON a.id = e.ledger_account_id \
                   WHERE t.posted_on = $1 \
                   GROUP BY t.id, t.kind, t.reference, t.collection_id, t.account_id, t.currency, \
                   t.gross_amount, t.created_at) m \
             LEFT JOIN accounts acc ON acc.id = m.account_id \
             LEFT JOIN collections c ON c.id = m.collection_id \
             LEFT JOIN ach_credit_entries ce ON \
                 (m.kind IN ({by_reference}) AND ce.id = m.reference) \
                 OR (m.kind = 'ach_reversed' AND c.status = 'reversed' \
                     AND ce.kind = 'reversal' AND ce.collection_id = m.collection_id) \
             LEFT JOIN collections ce_c ON ce_c.id = ce.collection_id \
             LEFT JOIN ach_files f ON f.id = COALESCE(ce.file_id, c.file_id) \
             LEFT JOIN card_collections k ON k.id = m.collection_id \
             ORDER BY m.created_at, m.id",
            pending = kind::DESTINATION_PENDING,
            available = kind::DESTINATION_AVAILABLE,
            fees = kind::FEE_REVENUE,
            by_reference = CREDIT_ENTRY_KINDS
                .iter()
                .map(|k| format!("'{k}'"))
                .collect::<Vec<_>>()
                .join(", "),
            signed = "(CASE WHEN e.direction = 'credit' THEN e.amount ELSE -e.amount END)",
        ));
        Ok(on_db!(self, conn => sqlx::query_as(sql)
            .bind(day.to_string())
            .fetch_all(conn)
            .await)?)
    }

    /// The destination accounts that existed before `until`, with their customer.
    pub async fn account_owners(
        &mut self,
        until: DateTime<Utc>,
    ) -> Result<Vec<AccountOwner>, StoreError> {
        Ok(on_db!(self, conn => sqlx::query_as(
            "SELECT id AS account_id, customer_id, currency FROM accounts WHERE created_at < $1 ORDER BY id")
            .bind(ts(until))
            .fetch_all(conn)
            .await)?)
    }

    /// The earliest day with a ledger posting, if any.
    pub async fn first_posting_day(&mut self) -> Result<Option<NaiveDate>, StoreError> {
        let day: Option<String> = on_db!(self, conn => sqlx::query_scalar(
            "SELECT MIN(posted_on) FROM ledger_transactions")
            .fetch_one(conn)
            .await)?;
        day.map(|d| {
            d.parse()
                .map_err(|_| StoreError::Corrupt(format!("posted_on {d:?}")))
        })
        .transpose()
    }

    /// The current (not superseded) file of `scope_key` on `day` and its SHA-256.
    pub async fn current_daily_file(
        &mut self,
        day: NaiveDate,
        scope_key: &str,
    ) -> Result<Option<DailyFile>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM daily_files WHERE business_date = $1 AND scope_key = $2 \
             AND superseded_by IS NULL ORDER BY version DESC LIMIT 1"
        ));
        let row: Option<DailyFileRow> = on_db!(self, conn => sqlx::query_as(sql)
            .bind(day.to_string())
            .bind(scope_key)
            .fetch_optional(conn)
            .await)?;
        row.map(DailyFile::try_from).transpose()
    }

    /// Store `new` and mark the file it replaces (if any) superseded by it.
    /// `false` (nothing changed) when that version of the scope exists
    /// already: another node or request made it meanwhile.
    pub async fn insert_daily_file(
        &mut self,
        new: &NewDailyFile,
        replaces: Option<&str>,
    ) -> Result<bool, StoreError> {
        let f = &new.file;
        let inserted = on_db!(self, conn => sqlx::query(
            "INSERT INTO daily_files (id, business_date, scope, scope_key, customer_id, account_id, version, \
             superseded_by, currency, row_count, total_net, ledger_movement, ties_out, sha256, content, trigger, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
             ON CONFLICT (business_date, scope_key, version) DO NOTHING")
            .bind(&f.id)
            .bind(f.business_date.to_string())
            .bind(&f.scope)
            .bind(f.scope_key())
            .bind(&f.customer_id)
            .bind(&f.account_id)
            .bind(f.version)
            .bind(&f.currency)
            .bind(f.row_count)
            .bind(f.total_net)
            .bind(f.ledger_movement)
            .bind(f.ties_out)
            .bind(&f.sha256)
            .bind(&new.content)
            .bind(&f.trigger)
            .bind(ts(f.created_at))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        if inserted == 0 {
            return Ok(false);
        }
        if let Some(old) = replaces {
            on_db!(self, conn => sqlx::query(
                "UPDATE daily_files SET superseded_by = $1 WHERE id = $2 AND superseded_by IS NULL")
                .bind(&f.id)
                .bind(old)
                .execute(conn)
                .await
                .map(|r| r.rows_affected()))?;
        }
        Ok(true)
    }

    /// Current files, newest first; only `day`'s when given, only those of
    /// `customer` (its customer and account files) when given.
    pub async fn list_daily_files(
        &mut self,
        day: Option<NaiveDate>,
        customer: Option<&str>,
        q: &ListQuery,
    ) -> Result<Page<DailyFile>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM daily_files WHERE superseded_by IS NULL AND ($1 = '' OR id < $1) \
             AND ($2 = '' OR business_date = $2) AND ($3 = '' OR customer_id = $3) \
             ORDER BY id DESC LIMIT $4"
        ));
        let rows: Vec<DailyFileRow> = on_db!(self, conn => sqlx::query_as(sql)
            .bind(&q.starting_after)
            .bind(day.map(|d| d.to_string()).unwrap_or_default())
            .bind(customer.unwrap_or(""))
            .bind(q.fetch())
            .fetch_all(conn)
            .await)?;
        Ok(Page::from_rows(rows_to_files(rows)?, q))
    }

    /// The current files of `day`, operator first, then by scope key.
    pub async fn daily_files_of_day(
        &mut self,
        day: NaiveDate,
    ) -> Result<Vec<DailyFile>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM daily_files WHERE business_date = $1 AND superseded_by IS NULL \
             ORDER BY CASE scope WHEN 'operator' THEN 0 WHEN 'customer' THEN 1 ELSE 2 END, scope_key"
        ));
        let rows: Vec<DailyFileRow> = on_db!(self, conn => sqlx::query_as(sql)
            .bind(day.to_string())
            .fetch_all(conn)
            .await)?;
        rows_to_files(rows)
    }

    /// File `id` (current or superseded) and its content.
    pub async fn get_daily_file(&mut self, id: &str) -> Result<(DailyFile, String), StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS}, content FROM daily_files WHERE id = $1"
        ));
        #[derive(sqlx::FromRow)]
        struct WithContent {
            #[sqlx(flatten)]
            file: DailyFileRow,
            content: String,
        }
        let row: Option<WithContent> = on_db!(self, conn => sqlx::query_as(sql)
            .bind(id)
            .fetch_optional(conn)
            .await)?;
        let row = row.ok_or(StoreError::NotFound)?;
        Ok((DailyFile::try_from(row.file)?, row.content))
    }
}
