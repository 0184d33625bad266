//! The double-entry ledger: posting balanced transactions (one or many at
//! once), balances per destination account, entries, and the consistency
//! check.
//!
//! A posting writes its entries first and then the transaction row that
//! seals them; the database refuses a transaction whose totals differ from
//! its entries or whose debits differ from its credits, entries added to a
//! sealed transaction, entries without a transaction (deferred foreign key)
//! and any UPDATE or DELETE of either (`0007_ledger.sql`). The balance of
//! each touched ledger account moves by `balance = balance + delta` in the
//! same transaction, in account-id order (no deadlocks between postings on
//! PostgreSQL; the row lock serialises concurrent postings exactly).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use inflow_core::ids::{AccountId, CollectionId, LedgerTransactionId};
use inflow_core::money::Currency;

use crate::codec::{dt, ts};
use crate::repo::ach_work::json_rows_source;
use crate::{on_db, ListQuery, Page, StoreError, Tx};

/// Ledger account kinds (the `kind` column).
pub mod kind {
    pub const DESTINATION_PENDING: &str = "destination_pending";
    pub const DESTINATION_AVAILABLE: &str = "destination_available";
    pub const ACH_CLEARING: &str = "ach_clearing";
    pub const CARD_CLEARING: &str = "card_clearing";
    pub const FEE_REVENUE: &str = "fee_revenue";
    pub const RETURNS_LOSSES: &str = "returns_losses";
    /// The operator's settlement account at the ODFI, credited by the
    /// offset entries of balanced files (migration 0018).
    pub const ACH_SETTLEMENT: &str = "ach_settlement";
}

/// A ledger account, named deterministically so postings never look it up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerAccount {
    pub kind: &'static str,
    pub account_id: Option<AccountId>,
    pub currency: Currency,
}

impl LedgerAccount {
    /// Funds of `account` not yet through the good-funds period.
    pub fn pending(account: &AccountId, currency: Currency) -> Self {
        Self::destination(kind::DESTINATION_PENDING, account, currency)
    }

    /// Funds of `account` that are available.
    pub fn available(account: &AccountId, currency: Currency) -> Self {
        Self::destination(kind::DESTINATION_AVAILABLE, account, currency)
    }

    fn destination(kind: &'static str, account: &AccountId, currency: Currency) -> Self {
        Self {
            kind,
            account_id: Some(account.clone()),
            currency,
        }
    }

    /// One of the operator's accounts (`kind::ACH_CLEARING`, …).
    pub fn operator(kind: &'static str, currency: Currency) -> Self {
        Self {
            kind,
            account_id: None,
            currency,
        }
    }

    /// The row id: `kind:currency` or `kind:currency:acc_…`.
    pub fn id(&self) -> String {
        match &self.account_id {
            Some(a) => format!("{}:{}:{}", self.kind, self.currency.code(), a),
            None => format!("{}:{}", self.kind, self.currency.code()),
        }
    }
}

/// Debit or credit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Debit,
    Credit,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Debit => "debit",
            Direction::Credit => "credit",
        }
    }
}

/// One line of a posting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    pub account: LedgerAccount,
    pub direction: Direction,
    /// Minor units, > 0.
    pub amount: i64,
}

/// A balanced posting: what it is, what it is for, and its entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLedgerTransaction {
    pub id: LedgerTransactionId,
    /// `ach_submitted`, `ach_completed`, `ach_returned`, `ach_return_fee`,
    /// `card_captured`, `card_refunded`, `adjustment`, `ach_offset`.
    pub kind: &'static str,
    /// Unique per kind (the collection id for ACH postings).
    pub reference: String,
    pub collection_id: Option<CollectionId>,
    /// The destination account it concerns.
    pub account_id: Option<AccountId>,
    pub currency: Currency,
    pub posted_on: NaiveDate,
    pub gross_amount: i64,
    pub created_at: DateTime<Utc>,
    pub entries: Vec<NewEntry>,
}

impl NewLedgerTransaction {
    /// At least two entries, every amount positive, debits equal to credits:
    /// what the store and the database require of a posting.
    pub fn is_balanced(&self) -> bool {
        let (d, c) = self.totals();
        d == c && d > 0 && self.entries.len() >= 2 && self.entries.iter().all(|e| e.amount > 0)
    }

    fn totals(&self) -> (i64, i64) {
        let mut d = 0;
        let mut c = 0;
        for e in &self.entries {
            match e.direction {
                Direction::Debit => d += e.amount,
                Direction::Credit => c += e.amount,
            }
        }
        (d, c)
    }
}

/// Balances of one destination account, in minor units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Balances {
    pub pending: i64,
    pub available: i64,
}

impl Balances {
    pub fn total(&self) -> i64 {
        self.pending + self.available
    }
}

/// An entry as listed for a destination account.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EntryRow {
    pub id: i64,
    pub transaction_id: String,
    pub transaction_kind: String,
    pub ledger_account_id: String,
    pub ledger_account_kind: String,
    pub direction: String,
    pub amount: i64,
    pub currency: String,
    pub collection_id: Option<String>,
    pub posted_on: String,
    pub created_at: i64,
}

impl EntryRow {
    pub fn created(&self) -> Result<DateTime<Utc>, StoreError> {
        dt(self.created_at)
    }
}

/// What `inflow ledger check` found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerCheck {
    pub transactions: i64,
    pub entries: i64,
    pub accounts: i64,
    /// Transactions whose entries do not balance or do not match their totals.
    pub unbalanced: Vec<String>,
    /// `(ledger account, stored balance, sum of entries)` that differ.
    pub balance_mismatches: Vec<(String, i64, i64)>,
}

impl LedgerCheck {
    pub fn is_ok(&self) -> bool {
        self.unbalanced.is_empty() && self.balance_mismatches.is_empty()
    }
}

const CHUNK: usize = 2_000;

impl Tx {
    /// Post `txs`: entries, then the sealing transaction rows, then the
    /// balances — a few statements per 2,000 rows, whatever the count.
    /// Refuses an unbalanced posting before the database would.
    pub async fn post_ledger_transactions(
        &mut self,
        txs: &[NewLedgerTransaction],
    ) -> Result<(), StoreError> {
        if txs.is_empty() {
            return Ok(());
        }
        let mut deltas: BTreeMap<String, (LedgerAccount, i64)> = BTreeMap::new();
        let mut entries = Vec::new();
        let mut headers = Vec::with_capacity(txs.len());
        // The JSON rows are SQLite's; PostgreSQL takes arrays (`post_unnest`).
        let json = matches!(self, Tx::Sqlite(..));
        for t in txs {
            let (d, c) = t.totals();
            if !t.is_balanced() {
                return Err(StoreError::Corrupt(format!(
                    "ledger transaction {} ({}) does not balance: debits {d}, credits {c}",
                    t.id, t.kind
                )));
            }
            for e in &t.entries {
                let id = e.account.id();
                let signed = match e.direction {
                    Direction::Credit => e.amount,
                    Direction::Debit => -e.amount,
                };
                deltas
                    .entry(id.clone())
                    .or_insert_with(|| (e.account.clone(), 0))
                    .1 += signed;
                if !json {
                    continue;
                }
                // [transaction, ledger account, direction, amount, destination]
                entries.push(serde_json::json!([
                    t.id.as_str(),
                    id,
                    e.direction.as_str(),
                    e.amount,
                    e.account.account_id.as_ref().map(|a| a.as_str()),
                ]));
            }
            if !json {
                continue;
            }
            headers.push(serde_json::json!([
                t.id.as_str(),
                t.kind,
                t.reference,
                t.collection_id.as_ref().map(|c| c.as_str()),
                t.account_id.as_ref().map(|a| a.as_str()),
                t.currency.code(),
                t.posted_on.to_string(),
                t.gross_amount,
                t.entries.len(),
                d,
                c,
                ts(t.created_at),
            ]));
        }
        let now = txs[0].created_at;
        for (account, _) in deltas.values() {
            self.ensure_ledger_account(account, now).await?;
        }
        let src = json_rows_source(self, "$1");
        // Compact JSON arrays: positional fields parse faster than objects.
        let entry_sql = format!(
            "INSERT INTO ledger_entries (transaction_id, ledger_account_id, direction, amount, account_id) \
             SELECT j.value->>0, j.value->>1, j.value->>2, CAST(j.value->>3 AS BIGINT), j.value->>4 FROM {src}"
        );
        let header_sql = format!(
            "INSERT INTO ledger_transactions (id, kind, reference, collection_id, account_id, currency, posted_on, \
             gross_amount, entry_count, total_debits, total_credits, created_at) SELECT j.value->>0, \
             j.value->>1, j.value->>2, j.value->>3, j.value->>4, j.value->>5, j.value->>6, \
             CAST(j.value->>7 AS BIGINT), CAST(j.value->>8 AS BIGINT), CAST(j.value->>9 AS BIGINT), \
             CAST(j.value->>10 AS BIGINT), CAST(j.value->>11 AS BIGINT) FROM {src}"
        );
        if let Tx::Postgres(t, ..) = self {
            // Arrays per column: nothing for the server to parse.
            for chunk in txs.chunks(CHUNK) {
                post_unnest(t, chunk).await?;
            }
        } else {
            for chunk in entries.chunks(CHUNK) {
                self.exec_json(&entry_sql, chunk).await?;
            }
            for chunk in headers.chunks(CHUNK) {
                self.exec_json(&header_sql, chunk).await?;
            }
        }
        for (id, (_, delta)) in &deltas {
            if *delta == 0 {
                continue;
            }
            on_db!(self, conn => sqlx::query(
                "UPDATE ledger_accounts SET balance = balance + $1 WHERE id = $2")
                .bind(*delta)
                .bind(id)
                .execute(conn)
                .await
                .map(|r| r.rows_affected()))?;
        }
        Ok(())
    }

    async fn exec_json(&mut self, sql: &str, rows: &[serde_json::Value]) -> Result<(), StoreError> {
        let payload =
            serde_json::to_string(rows).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let sql = sql.to_owned();
        on_db!(self, conn => sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(payload)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    async fn ensure_ledger_account(
        &mut self,
        a: &LedgerAccount,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_db!(self, conn => sqlx::query(
            "INSERT INTO ledger_accounts (id, kind, account_id, currency, balance, created_at) \
             VALUES ($1, $2, $3, $4, 0, $5) ON CONFLICT (id) DO NOTHING")
            .bind(a.id())
            .bind(a.kind)
            .bind(a.account_id.as_ref().map(|x| x.as_str()))
            .bind(a.currency.code())
            .bind(ts(now))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Pending and available balance of destination `account`.
    pub async fn ledger_balances(&mut self, account: &AccountId) -> Result<Balances, StoreError> {
        let rows: Vec<(String, i64)> = on_db!(self, conn => sqlx::query_as(
            "SELECT kind, balance FROM ledger_accounts WHERE account_id = $1")
            .bind(account.as_str())
            .fetch_all(conn)
            .await)?;
        let mut b = Balances::default();
        for (k, v) in rows {
            match k.as_str() {
                kind::DESTINATION_PENDING => b.pending += v,
                kind::DESTINATION_AVAILABLE => b.available += v,
                _ => {}
            }
        }
        Ok(b)
    }

    /// The balance of any ledger account (0 if it has never been posted to).
    pub async fn ledger_account_balance(&mut self, a: &LedgerAccount) -> Result<i64, StoreError> {
        let v: Option<i64> = on_db!(self, conn => sqlx::query_scalar(
            "SELECT balance FROM ledger_accounts WHERE id = $1")
            .bind(a.id())
            .fetch_optional(conn)
            .await)?;
        Ok(v.unwrap_or(0))
    }

    /// Net (credits − debits) per ledger account of the entries posted for
    /// `collection`, read after the collection's row is locked by its update.
    ///
    /// The collection's transaction ids are looked up first and the entries
    /// then by their index: as a join, PostgreSQL without fresh statistics
    /// (tables just filled by a cutoff, not yet analyzed) hashed the whole of
    /// `ledger_entries` for every call — 15 ms per return at 30,000 entries,
    /// growing with the table (`EXPLAIN ANALYZE` in docs/benchmarks.md).
    pub async fn ledger_nets_for_collection(
        &mut self,
        collection: &CollectionId,
    ) -> Result<BTreeMap<String, i64>, StoreError> {
        let transactions = match self {
            Tx::Postgres(..) => {
                "= ANY(ARRAY(SELECT t.id FROM ledger_transactions t WHERE t.collection_id = $1))"
            }
            Tx::Sqlite(..) => {
                "IN (SELECT t.id FROM ledger_transactions t WHERE t.collection_id = $1)"
            }
        };
        let sql = format!(
            "SELECT e.ledger_account_id, \
             CAST(SUM(CASE WHEN e.direction = 'credit' THEN e.amount ELSE -e.amount END) AS BIGINT) \
             FROM ledger_entries e WHERE e.transaction_id {transactions} GROUP BY e.ledger_account_id"
        );
        let rows: Vec<(String, i64)> = on_db!(self, conn => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(collection.as_str())
            .fetch_all(conn)
            .await)?;
        Ok(rows.into_iter().collect())
    }

    /// Entries on destination `account`'s ledger accounts, newest first,
    /// older than entry `before` (0: from the newest). `q.starting_after`
    /// is ignored: entry numbers are integers.
    pub async fn list_ledger_entries(
        &mut self,
        account: &AccountId,
        before: i64,
        q: &ListQuery,
    ) -> Result<Page<EntryRow>, StoreError> {
        let rows: Vec<EntryRow> = on_db!(self, conn => sqlx::query_as(
            "SELECT e.id, e.transaction_id, t.kind AS transaction_kind, e.ledger_account_id, \
             a.kind AS ledger_account_kind, e.direction, e.amount, a.currency, t.collection_id, t.posted_on, \
             t.created_at FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id \
             JOIN ledger_accounts a ON a.id = e.ledger_account_id \
             WHERE e.account_id = $1 AND ($2 = 0 OR e.id < $2) ORDER BY e.id DESC LIMIT $3")
            .bind(account.as_str())
            .bind(before)
            .bind(q.fetch())
            .fetch_all(conn)
            .await)?;
        Ok(Page::from_rows(rows, q))
    }

    /// Every transaction balances and matches its entries; every stored
    /// balance equals the sum of its entries.
    pub async fn check_ledger(&mut self) -> Result<LedgerCheck, StoreError> {
        let mut out = LedgerCheck::default();
        let (t, e, a): (i64, i64, i64) = on_db!(self, conn => sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM ledger_transactions), (SELECT COUNT(*) FROM ledger_entries), \
             (SELECT COUNT(*) FROM ledger_accounts)")
            .fetch_one(conn)
            .await)?;
        (out.transactions, out.entries, out.accounts) = (t, e, a);
        out.unbalanced = on_db!(self, conn => sqlx::query_scalar(
            "SELECT t.id FROM ledger_transactions t LEFT JOIN (SELECT transaction_id, COUNT(*) AS n, \
             SUM(CASE WHEN direction = 'debit' THEN amount ELSE 0 END) AS d, \
             SUM(CASE WHEN direction = 'credit' THEN amount ELSE 0 END) AS c \
             FROM ledger_entries GROUP BY transaction_id) s ON s.transaction_id = t.id \
             WHERE s.transaction_id IS NULL OR s.d <> s.c OR s.n <> t.entry_count OR s.d <> t.total_debits \
             OR s.c <> t.total_credits OR t.total_debits <> t.total_credits \
             UNION ALL SELECT DISTINCT e.transaction_id FROM ledger_entries e \
             LEFT JOIN ledger_transactions t ON t.id = e.transaction_id WHERE t.id IS NULL ORDER BY 1")
            .fetch_all(conn)
            .await)?;
        out.balance_mismatches = on_db!(self, conn => sqlx::query_as(
            "SELECT a.id, a.balance, CAST(COALESCE(s.net, 0) AS BIGINT) FROM ledger_accounts a LEFT JOIN \
             (SELECT ledger_account_id, SUM(CASE WHEN direction = 'credit' THEN amount ELSE -amount END) AS net \
             FROM ledger_entries GROUP BY ledger_account_id) s ON s.ledger_account_id = a.id \
             WHERE a.balance <> COALESCE(s.net, 0) ORDER BY a.id")
            .fetch_all(conn)
            .await)?;
        Ok(out)
    }
}

/// The entries, then the transaction rows, of `txs` (checked balanced) on
/// PostgreSQL: one `INSERT … SELECT FROM UNNEST` of column arrays each.
async fn post_unnest(
    t: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    txs: &[NewLedgerTransaction],
) -> Result<(), StoreError> {
    let (mut e_tx, mut e_account, mut e_dir, mut e_amount, mut e_dest) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for tr in txs {
        for e in &tr.entries {
            e_tx.push(tr.id.as_str());
            e_account.push(e.account.id());
            e_dir.push(e.direction.as_str());
            e_amount.push(e.amount);
            e_dest.push(e.account.account_id.as_ref().map(|a| a.as_str()));
        }
    }
    sqlx::query(
        "INSERT INTO ledger_entries (transaction_id, ledger_account_id, direction, amount, account_id) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[])",
    )
    .bind(e_tx)
    .bind(e_account)
    .bind(e_dir)
    .bind(e_amount)
    .bind(e_dest)
    .execute(&mut **t)
    .await?;
    let totals: Vec<(i64, i64)> = txs.iter().map(NewLedgerTransaction::totals).collect();
    sqlx::query(
        "INSERT INTO ledger_transactions (id, kind, reference, collection_id, account_id, currency, posted_on, \
         gross_amount, entry_count, total_debits, total_credits, created_at) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
         $7::text[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[])",
    )
    .bind(txs.iter().map(|x| x.id.as_str()).collect::<Vec<_>>())
    .bind(txs.iter().map(|x| x.kind).collect::<Vec<_>>())
    .bind(txs.iter().map(|x| x.reference.as_str()).collect::<Vec<_>>())
    .bind(
        txs.iter()
            .map(|x| x.collection_id.as_ref().map(|c| c.as_str()))
            .collect::<Vec<_>>(),
    )
    .bind(
        txs.iter()
            .map(|x| x.account_id.as_ref().map(|a| a.as_str()))
            .collect::<Vec<_>>(),
    )
    .bind(txs.iter().map(|x| x.currency.code()).collect::<Vec<_>>())
    .bind(txs.iter().map(|x| x.posted_on.to_string()).collect::<Vec<_>>())
    .bind(txs.iter().map(|x| x.gross_amount).collect::<Vec<_>>())
    .bind(txs.iter().map(|x| x.entries.len() as i64).collect::<Vec<_>>())
    .bind(totals.iter().map(|t| t.0).collect::<Vec<_>>())
    .bind(totals.iter().map(|t| t.1).collect::<Vec<_>>())
    .bind(txs.iter().map(|x| ts(x.created_at)).collect::<Vec<_>>())
    .execute(&mut **t)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posting(entries: &[(Direction, i64)]) -> NewLedgerTransaction {
        let now = Utc::now();
        let cur = Currency::Usd;
        NewLedgerTransaction {
            id: LedgerTransactionId::generate(now),
            kind: "adjustment",
            reference: "r".into(),
            collection_id: None,
            account_id: None,
            currency: cur,
            posted_on: now.date_naive(),
            gross_amount: 0,
            created_at: now,
            entries: entries
                .iter()
                .map(|&(direction, amount)| NewEntry {
                    account: LedgerAccount::operator(kind::ACH_CLEARING, cur),
                    direction,
                    amount,
                })
                .collect(),
        }
    }

    #[test]
    fn a_posting_is_balanced_only_with_two_positive_entries_and_equal_sides() {
        use Direction::{Credit, Debit};
        assert!(posting(&[(Debit, 5), (Credit, 3), (Credit, 2)]).is_balanced());
        assert!(!posting(&[(Debit, 5), (Credit, 4)]).is_balanced());
        assert!(!posting(&[(Debit, 0), (Credit, 0)]).is_balanced());
        assert!(!posting(&[(Debit, 5), (Credit, 5), (Debit, -1), (Credit, -1)]).is_balanced());
        assert!(!posting(&[]).is_balanced());
    }
}
