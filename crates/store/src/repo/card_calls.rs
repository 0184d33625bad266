//! Card processor calls: committed before the call, answered after it (see
//! [`inflow_core::card::call`]). The table allows one pending call per
//! collection, and one call per idempotency key.

use chrono::{DateTime, Utc};
use inflow_core::card::{CallRequester, CallState, CardOperation, ProcessorCall};
use inflow_core::ids::{CollectionId, CustomerId, RefundId};

use crate::codec::{dt, ts};
use crate::{on_db, StoreError, Tx};

#[derive(sqlx::FromRow)]
struct Row {
    reference: String,
    collection_id: String,
    customer_id: String,
    operation: String,
    amount: i64,
    refund_id: Option<String>,
    reason: Option<String>,
    state: String,
    attempts: i64,
    next_attempt_at: i64,
    last_error: Option<String>,
    idempotency_scope: Option<String>,
    idempotency_key: Option<String>,
    request_hash: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<Row> for ProcessorCall {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self, StoreError> {
        let requester = match (r.idempotency_scope, r.idempotency_key, r.request_hash) {
            (Some(scope), Some(key), Some(request_hash)) => Some(CallRequester {
                scope,
                key,
                request_hash,
            }),
            _ => None,
        };
        Ok(ProcessorCall {
            reference: r.reference,
            collection_id: CollectionId::from_trusted(r.collection_id),
            customer_id: CustomerId::from_trusted(r.customer_id),
            operation: CardOperation::parse("operation", &r.operation)?,
            amount: r.amount,
            refund_id: r.refund_id.map(RefundId::from_trusted),
            reason: r.reason,
            state: CallState::parse("state", &r.state)?,
            attempts: u32::try_from(r.attempts).unwrap_or(u32::MAX),
            next_attempt_at: dt(r.next_attempt_at)?,
            last_error: r.last_error,
            requester,
            created_at: dt(r.created_at)?,
            updated_at: dt(r.updated_at)?,
        })
    }
}

const COLUMNS: &str = "reference, collection_id, customer_id, operation, amount, refund_id, reason, state, \
    attempts, next_attempt_at, last_error, idempotency_scope, idempotency_key, request_hash, created_at, updated_at";

impl Tx {
    /// Record a call about to be made. A conflict means the collection has
    /// a call in flight already, or the idempotency key is taken.
    pub async fn insert_processor_call(&mut self, c: &ProcessorCall) -> Result<(), StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO card_processor_calls ({COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
        ));
        let r = c.requester.as_ref();
        on_db!(self, conn => sqlx::query(sql)
            .bind(&c.reference)
            .bind(c.collection_id.as_str())
            .bind(c.customer_id.as_str())
            .bind(c.operation.as_str())
            .bind(c.amount)
            .bind(c.refund_id.as_ref().map(|r| r.as_str()))
            .bind(&c.reason)
            .bind(c.state.as_str())
            .bind(i64::from(c.attempts))
            .bind(ts(c.next_attempt_at))
            .bind(&c.last_error)
            .bind(r.map(|r| r.scope.as_str()))
            .bind(r.map(|r| r.key.as_str()))
            .bind(r.map(|r| r.request_hash.as_str()))
            .bind(ts(c.created_at))
            .bind(ts(c.updated_at))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn get_processor_call(
        &mut self,
        reference: &str,
    ) -> Result<ProcessorCall, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM card_processor_calls WHERE reference = $1"
        ));
        let row: Row = on_db!(self, conn => sqlx::query_as(sql)
            .bind(reference)
            .fetch_optional(conn)
            .await)?
        .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    /// The call a request with this idempotency key made, if it was made
    /// since `since`. An older call gives its key up, so the key can be used
    /// again once its idempotency record has expired.
    pub async fn processor_call_for_key(
        &mut self,
        scope: &str,
        key: &str,
        since: DateTime<Utc>,
    ) -> Result<Option<ProcessorCall>, StoreError> {
        on_db!(self, conn => sqlx::query(
            "UPDATE card_processor_calls SET idempotency_key = NULL \
             WHERE idempotency_scope = $1 AND idempotency_key = $2 AND created_at < $3")
            .bind(scope)
            .bind(key)
            .bind(ts(since))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM card_processor_calls WHERE idempotency_scope = $1 AND idempotency_key = $2"
        ));
        let row: Option<Row> = on_db!(self, conn => sqlx::query_as(sql)
            .bind(scope)
            .bind(key)
            .fetch_optional(conn)
            .await)?;
        row.map(ProcessorCall::try_from).transpose()
    }

    /// Pending calls whose next attempt is due by `now`, oldest first.
    pub async fn due_processor_calls(
        &mut self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<ProcessorCall>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM card_processor_calls WHERE state = 'pending' AND next_attempt_at <= $1 \
             ORDER BY next_attempt_at, reference LIMIT $2"
        ));
        let rows: Vec<Row> = on_db!(self, conn => sqlx::query_as(sql)
            .bind(ts(now))
            .bind(limit)
            .fetch_all(conn)
            .await)?;
        rows.into_iter().map(ProcessorCall::try_from).collect()
    }

    /// Note an attempt that got no answer, if the call is still pending.
    pub async fn record_processor_call_attempt(
        &mut self,
        reference: &str,
        error: &str,
        next_attempt_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_db!(self, conn => sqlx::query(
            "UPDATE card_processor_calls SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3, \
             updated_at = $4 WHERE reference = $1 AND state = 'pending'")
            .bind(reference)
            .bind(error)
            .bind(ts(next_attempt_at))
            .bind(ts(now))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Close a pending call with the processor's answer. `false`: it was no
    /// longer pending (another worker recorded the answer first).
    pub async fn finish_processor_call(
        &mut self,
        reference: &str,
        state: CallState,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = on_db!(self, conn => sqlx::query(
            "UPDATE card_processor_calls SET state = $2, last_error = COALESCE($3, last_error), \
             attempts = attempts + 1, updated_at = $4 WHERE reference = $1 AND state = 'pending'")
            .bind(reference)
            .bind(state.as_str())
            .bind(error)
            .bind(ts(now))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }
}
