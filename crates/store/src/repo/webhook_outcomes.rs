//! Recording the outcomes of a claimed batch of webhook deliveries in a
//! fixed number of statements, whatever the batch's size: one `UPDATE` of
//! every delivery, then one `INSERT` of the attempt rows of those that were
//! written. PostgreSQL gets one array per column (`UNNEST`); SQLite one
//! JSON array (`json_each`).
//!
//! As for a single attempt, a delivery is written only while the claim is
//! still `token`'s and the delivery still `pending`; the others (their claim
//! lapsed and another dispatcher owns them now) are left alone, attempt row
//! included.

use std::collections::HashSet;

use inflow_core::ids::WebhookDeliveryId;

use crate::codec::ts;
use crate::repo::webhook_deliveries::{Attempt, NextStep};
use crate::{StoreError, Tx};

/// Rows per statement (a claimed batch is far smaller; this bounds a
/// caller that passes more).
const CHUNK: usize = 1_000;

/// The columns written for one outcome.
struct Row<'a> {
    id: &'a str,
    status: &'static str,
    next_at: Option<i64>,
    attempted_at: i64,
    status_code: Option<i64>,
    latency_ms: i64,
    error: Option<&'a str>,
    delivered_at: Option<i64>,
    number: i64,
    succeeded: bool,
}

impl<'a> Row<'a> {
    fn of(attempt: &'a Attempt, next: NextStep) -> Self {
        let attempted_at = ts(attempt.attempted_at);
        let (status, next_at, delivered_at) = match next {
            NextStep::Succeeded => ("succeeded", None, Some(attempted_at)),
            NextStep::RetryAt(t) => ("pending", Some(ts(t)), None),
            NextStep::Failed => ("failed", None, None),
        };
        Row {
            id: attempt.delivery_id.as_str(),
            status,
            next_at,
            attempted_at,
            status_code: attempt.status_code.map(i64::from),
            latency_ms: i64::try_from(attempt.latency_ms).unwrap_or(i64::MAX),
            error: attempt.error.as_deref(),
            delivered_at,
            number: i64::from(attempt.number),
            succeeded: attempt.succeeded,
        }
    }

    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id, "status": self.status, "next_at": self.next_at,
            "attempted_at": self.attempted_at, "status_code": self.status_code,
            "latency_ms": self.latency_ms, "error": self.error,
            "delivered_at": self.delivered_at, "number": self.number,
            "succeeded": self.succeeded,
        })
    }
}

fn col<'r, 'a, T>(rows: &'r [Row<'a>], f: impl Fn(&'r Row<'a>) -> T) -> Vec<T> {
    rows.iter().map(f).collect()
}

impl Tx {
    /// Record attempts of deliveries claimed by `token` (at most one per
    /// delivery), each moving its delivery to its [`NextStep`]. Returns the
    /// deliveries written; the others' claims are no longer `token`'s.
    pub async fn record_attempts(
        &mut self,
        token: &str,
        outcomes: &[(Attempt, NextStep)],
    ) -> Result<HashSet<WebhookDeliveryId>, StoreError> {
        let mut written = HashSet::with_capacity(outcomes.len());
        for chunk in outcomes.chunks(CHUNK) {
            let rows: Vec<Row<'_>> = chunk.iter().map(|(a, n)| Row::of(a, *n)).collect();
            let ids = self.update_deliveries(token, &rows).await?;
            let kept: Vec<Row<'_>> = rows.into_iter().filter(|r| ids.contains(r.id)).collect();
            self.insert_attempt_rows(&kept).await?;
            written.extend(ids.into_iter().map(WebhookDeliveryId::from_trusted));
        }
        Ok(written)
    }

    /// The deliveries' new state, where the claim is still `token`'s.
    async fn update_deliveries(
        &mut self,
        token: &str,
        rows: &[Row<'_>],
    ) -> Result<HashSet<String>, StoreError> {
        const SET: &str = "status = u.status, next_attempt_at = u.next_at, \
            last_attempt_at = u.attempted_at, last_status_code = u.status_code, \
            last_latency_ms = u.latency_ms, last_error = u.error, \
            delivered_at = COALESCE(webhook_deliveries.delivered_at, u.delivered_at), \
            claimed_by = NULL, claimed_until = NULL";
        const MINE: &str = "webhook_deliveries.id = u.id AND webhook_deliveries.claimed_by = $1 \
            AND webhook_deliveries.status = 'pending' RETURNING webhook_deliveries.id";
        let ids: Vec<String> = match self {
            Tx::Postgres(t, ..) => {
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "UPDATE webhook_deliveries SET {SET} \
                     FROM UNNEST($2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], \
                     $7::bigint[], $8::text[], $9::bigint[]) \
                     AS u(id, status, next_at, attempted_at, status_code, latency_ms, error, delivered_at) \
                     WHERE {MINE}"
                )))
                .bind(token)
                .bind(col(rows, |r| r.id))
                .bind(col(rows, |r| r.status))
                .bind(col(rows, |r| r.next_at))
                .bind(col(rows, |r| r.attempted_at))
                .bind(col(rows, |r| r.status_code))
                .bind(col(rows, |r| r.latency_ms))
                .bind(col(rows, |r| r.error))
                .bind(col(rows, |r| r.delivered_at))
                .fetch_all(&mut **t)
                .await?
            }
            Tx::Sqlite(t, ..) => {
                // The JSON rows drive the join: each delivery is found by
                // its primary key.
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "UPDATE webhook_deliveries SET {SET} FROM (SELECT j.value->>'id' AS id, \
                     j.value->>'status' AS status, j.value->>'next_at' AS next_at, \
                     j.value->>'attempted_at' AS attempted_at, j.value->>'status_code' AS status_code, \
                     j.value->>'latency_ms' AS latency_ms, j.value->>'error' AS error, \
                     j.value->>'delivered_at' AS delivered_at FROM json_each($2) AS j) AS u \
                     WHERE {MINE}"
                )))
                .bind(token)
                .bind(serde_json::Value::from(col(rows, Row::json)).to_string())
                .fetch_all(&mut **t)
                .await?
            }
        };
        Ok(ids.into_iter().collect())
    }

    /// The attempt rows of `rows`.
    async fn insert_attempt_rows(&mut self, rows: &[Row<'_>]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        const INSERT: &str = "INSERT INTO webhook_attempts \
            (delivery_id, number, attempted_at, status_code, latency_ms, error, succeeded)";
        match self {
            Tx::Postgres(t, ..) => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "{INSERT} SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::bigint[], \
                     $4::bigint[], $5::bigint[], $6::text[], $7::boolean[])"
                )))
                .bind(col(rows, |r| r.id))
                .bind(col(rows, |r| r.number))
                .bind(col(rows, |r| r.attempted_at))
                .bind(col(rows, |r| r.status_code))
                .bind(col(rows, |r| r.latency_ms))
                .bind(col(rows, |r| r.error))
                .bind(col(rows, |r| r.succeeded))
                .execute(&mut **t)
                .await?;
            }
            Tx::Sqlite(t, ..) => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "{INSERT} SELECT j.value->>'id', j.value->>'number', j.value->>'attempted_at', \
                     j.value->>'status_code', j.value->>'latency_ms', j.value->>'error', \
                     j.value->>'succeeded' FROM json_each($1) AS j"
                )))
                .bind(serde_json::Value::from(col(rows, Row::json)).to_string())
                .execute(&mut **t)
                .await?;
            }
        }
        Ok(())
    }
}
