//! The set-based queries behind applying a large return file: matching a
//! few thousand original trace numbers to collections in one statement,
//! recording a few thousand return entries in one statement, and reading
//! what is posted to the ledger for a few thousand collections at once.
//!
//! Every list travels as one parameter — a JSON array, or on PostgreSQL a
//! text array where the list is compared with an index (`= ANY($1)` is
//! planned as index lookups even on tables without statistics): a
//! statement with thousands of bind parameters binds in quadratic time in
//! sqlx's SQLite driver, and one statement per row costs a round trip each.

use std::collections::{BTreeMap, HashMap, HashSet};

use inflow_core::ids::CollectionId;

use crate::codec::ts;
use crate::repo::ach_work::json_rows_source;
use crate::repo::returns::AchReturn;
use crate::{on_db, StoreError, Tx};

fn json_text<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

impl Tx {
    /// [`Tx::collection_id_by_trace`] for many trace numbers in one
    /// statement: the newest ACH collection that carried each trace (trace
    /// sequences wrap). Traces no collection carried are absent.
    pub async fn collection_ids_by_traces(
        &mut self,
        traces: &[&str],
    ) -> Result<HashMap<String, CollectionId>, StoreError> {
        let mut out = HashMap::with_capacity(traces.len());
        if traces.is_empty() {
            return Ok(out);
        }
        let rows: Vec<(String, String)> = match self {
            Tx::Postgres(t, ..) => sqlx::query_as(
                "SELECT trace_number, id FROM collections WHERE rail = 'ach' AND trace_number = ANY($1) \
                 ORDER BY trace_number, submitted_at DESC, id DESC",
            )
            .bind(traces)
            .fetch_all(&mut **t)
            .await?,
            Tx::Sqlite(t, ..) => sqlx::query_as(
                "SELECT trace_number, id FROM collections WHERE rail = 'ach' \
                 AND trace_number IN (SELECT value FROM json_each($1)) \
                 ORDER BY trace_number, submitted_at DESC, id DESC",
            )
            .bind(json_text(&traces)?)
            .fetch_all(&mut **t)
            .await?,
        };
        for (trace, id) in rows {
            // The first row of each trace is the newest.
            out.entry(trace)
                .or_insert_with(|| CollectionId::from_trusted(id));
        }
        Ok(out)
    }

    /// [`Tx::insert_ach_return`] for many entries without sealed corrected
    /// data (returns), in one statement. Returns the ids inserted; an entry
    /// recorded before (same kind, original trace, entry trace and code) is
    /// left out.
    pub async fn insert_ach_returns(
        &mut self,
        rows: &[AchReturn],
    ) -> Result<HashSet<String>, StoreError> {
        if rows.is_empty() {
            return Ok(HashSet::new());
        }
        if rows.iter().any(|r| r.corrected_data_sealed.is_some()) {
            return Err(StoreError::Corrupt(
                "insert_ach_returns takes entries without sealed corrected data".into(),
            ));
        }
        let src = json_rows_source(self, "$1");
        let sql = format!(
            // `WHERE true`: without it SQLite reads `ON CONFLICT` as a join condition.
            "INSERT INTO ach_returns (id, inbound_file_id, kind, code, original_trace, entry_trace, amount, \
             corrected_data, collection_id, matched, created_at) \
             SELECT j.value->>0, j.value->>1, j.value->>2, j.value->>3, j.value->>4, j.value->>5, \
             CAST(j.value->>6 AS BIGINT), j.value->>7, j.value->>8, {matched}, CAST(j.value->>10 AS BIGINT) \
             FROM {src} WHERE true ON CONFLICT DO NOTHING RETURNING id",
            matched = match self {
                Tx::Postgres(..) => "(j.value->>9) = '1'",
                Tx::Sqlite(..) => "CAST(j.value->>9 AS INTEGER)",
            }
        );
        let values: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!([
                    r.id.as_str(),
                    r.inbound_file_id,
                    r.kind,
                    r.code,
                    r.original_trace,
                    r.entry_trace,
                    r.amount,
                    r.corrected_data,
                    r.collection_id.as_ref().map(|c| c.as_str()),
                    if r.matched { 1 } else { 0 },
                    ts(r.created_at),
                ])
            })
            .collect();
        let payload = json_text(&values)?;
        let ids: Vec<String> = on_db!(self, conn => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
            .bind(payload.clone())
            .fetch_all(conn)
            .await)?;
        Ok(ids.into_iter().collect())
    }

    /// [`Tx::ledger_nets_for_collection`] for many collections: net
    /// (credits − debits) per ledger account, per collection id.
    /// Collections with nothing posted are absent. Two statements, each by
    /// index whatever the statistics: the collections' transactions, then
    /// their entries.
    pub async fn ledger_nets_for_collections(
        &mut self,
        ids: &[&str],
    ) -> Result<HashMap<String, BTreeMap<String, i64>>, StoreError> {
        let mut out: HashMap<String, BTreeMap<String, i64>> = HashMap::with_capacity(ids.len());
        if ids.is_empty() {
            return Ok(out);
        }
        let transactions: Vec<(String, String)> = match self {
            Tx::Postgres(t, ..) => sqlx::query_as(
                "SELECT id, collection_id FROM ledger_transactions WHERE collection_id = ANY($1)",
            )
            .bind(ids)
            .fetch_all(&mut **t)
            .await?,
            Tx::Sqlite(t, ..) => {
                sqlx::query_as(
                    "SELECT id, collection_id FROM ledger_transactions \
                 WHERE collection_id IN (SELECT value FROM json_each($1))",
                )
                .bind(json_text(&ids)?)
                .fetch_all(&mut **t)
                .await?
            }
        };
        let owner: HashMap<&str, &str> = transactions
            .iter()
            .map(|(t, c)| (t.as_str(), c.as_str()))
            .collect();
        let tx_ids: Vec<&str> = owner.keys().copied().collect();
        let sum =
            "CAST(SUM(CASE WHEN direction = 'credit' THEN amount ELSE -amount END) AS BIGINT)";
        let rows: Vec<(String, String, i64)> = match self {
            Tx::Postgres(t, ..) => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT transaction_id, ledger_account_id, {sum} FROM ledger_entries \
                 WHERE transaction_id = ANY($1) GROUP BY transaction_id, ledger_account_id"
                )))
                .bind(&tx_ids)
                .fetch_all(&mut **t)
                .await?
            }
            Tx::Sqlite(t, ..) => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT transaction_id, ledger_account_id, {sum} FROM ledger_entries \
                 WHERE transaction_id IN (SELECT value FROM json_each($1)) \
                 GROUP BY transaction_id, ledger_account_id"
                )))
                .bind(json_text(&tx_ids)?)
                .fetch_all(&mut **t)
                .await?
            }
        };
        for (transaction, account, net) in rows {
            if let Some(collection) = owner.get(transaction.as_str()) {
                *out.entry((*collection).to_owned())
                    .or_default()
                    .entry(account)
                    .or_default() += net;
            }
        }
        Ok(out)
    }
}
