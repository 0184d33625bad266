//! The built-in sandbox card processor's own books: what a real processor
//! keeps on its side (transactions by reference, refunds, batches), so the
//! sandbox answers a repeated call the way a real one would — with the
//! first answer, moving no money twice — across restarts and nodes. Never
//! a card number.

use chrono::{DateTime, NaiveDate, Utc};

use crate::codec::{dt, ts};
use crate::{on_db, StoreError, Tx};

/// One transaction the sandbox processor knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxCardTransaction {
    pub processor_ref: String,
    /// The caller's reference (Inflow's collection id).
    pub reference: String,
    /// How the sandbox behaves for this card (`normal`, `lost_answer`).
    pub behaviour: String,
    /// `authorized`, `captured`, `voided`, `settled` or `declined`.
    pub state: String,
    /// The authorization's answer, as JSON, repeated to a retried call.
    pub answer: String,
    pub authorized: i64,
    pub captured: i64,
    pub refunded: i64,
    pub batch_day: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct Row {
    processor_ref: String,
    reference: String,
    behaviour: String,
    state: String,
    answer: String,
    authorized: i64,
    captured: i64,
    refunded: i64,
    batch_day: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<Row> for SandboxCardTransaction {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self, StoreError> {
        let reference = r.reference.clone();
        Ok(SandboxCardTransaction {
            processor_ref: r.processor_ref,
            reference: r.reference,
            behaviour: r.behaviour,
            state: r.state,
            answer: r.answer,
            authorized: r.authorized,
            captured: r.captured,
            refunded: r.refunded,
            batch_day: r
                .batch_day
                .as_deref()
                .map(|d| d.parse::<NaiveDate>())
                .transpose()
                .map_err(|_| {
                    StoreError::Corrupt(format!("sandbox_card_transactions {reference}: batch_day"))
                })?,
            created_at: dt(r.created_at)?,
            updated_at: dt(r.updated_at)?,
        })
    }
}

const COLUMNS: &str =
    "processor_ref, reference, behaviour, state, answer, authorized, captured, refunded, \
    batch_day, created_at, updated_at";

/// What recording a sandbox refund did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SandboxRefund {
    /// Recorded now.
    Made,
    /// Already recorded under this reference.
    AlreadyMade,
    /// The transaction cannot be refunded that much (or at all).
    Refused,
}

impl Tx {
    /// Record an authorization's answer unless the reference is known;
    /// either way, answer the transaction as recorded and whether it is new.
    pub async fn sandbox_card_authorize(
        &mut self,
        t: &SandboxCardTransaction,
    ) -> Result<(SandboxCardTransaction, bool), StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO sandbox_card_transactions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (processor_ref) DO NOTHING"
        ));
        let inserted = on_db!(self, conn => sqlx::query(sql)
            .bind(&t.processor_ref)
            .bind(&t.reference)
            .bind(&t.behaviour)
            .bind(&t.state)
            .bind(&t.answer)
            .bind(t.authorized)
            .bind(t.captured)
            .bind(t.refunded)
            .bind(t.batch_day.map(|d| d.to_string()))
            .bind(ts(t.created_at))
            .bind(ts(t.updated_at))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        let stored = self
            .sandbox_card_transaction(&t.processor_ref)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok((stored, inserted == 1))
    }

    pub async fn sandbox_card_transaction(
        &mut self,
        processor_ref: &str,
    ) -> Result<Option<SandboxCardTransaction>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM sandbox_card_transactions WHERE processor_ref = $1"
        ));
        let row: Option<Row> = on_db!(self, conn => sqlx::query_as(sql)
            .bind(processor_ref)
            .fetch_optional(conn)
            .await)?;
        row.map(SandboxCardTransaction::try_from).transpose()
    }

    /// Move a transaction from `from` to `to` (setting the captured amount
    /// when given). `false`: it was not in `from`.
    pub async fn sandbox_card_transition(
        &mut self,
        processor_ref: &str,
        from: &str,
        to: &str,
        captured: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = on_db!(self, conn => sqlx::query(
            "UPDATE sandbox_card_transactions SET state = $3, captured = COALESCE($4, captured), updated_at = $5 \
             WHERE processor_ref = $1 AND state = $2")
            .bind(processor_ref)
            .bind(from)
            .bind(to)
            .bind(captured)
            .bind(ts(now))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Refund `amount` of a captured or settled transaction under `reference`,
    /// at most once per reference and never beyond the capture.
    pub async fn sandbox_card_refund(
        &mut self,
        processor_ref: &str,
        reference: &str,
        amount: i64,
        now: DateTime<Utc>,
    ) -> Result<SandboxRefund, StoreError> {
        let known: Option<String> = on_db!(self, conn => sqlx::query_scalar(
            "SELECT processor_ref FROM sandbox_card_refunds WHERE reference = $1")
            .bind(reference)
            .fetch_optional(conn)
            .await)?;
        if known.is_some() {
            return Ok(SandboxRefund::AlreadyMade);
        }
        let moved = on_db!(self, conn => sqlx::query(
            "UPDATE sandbox_card_transactions SET refunded = refunded + $2, updated_at = $3 \
             WHERE processor_ref = $1 AND state IN ('captured', 'settled') AND captured - refunded >= $2")
            .bind(processor_ref)
            .bind(amount)
            .bind(ts(now))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        if moved == 0 {
            return Ok(SandboxRefund::Refused);
        }
        on_db!(self, conn => sqlx::query(
            "INSERT INTO sandbox_card_refunds (reference, processor_ref, amount, created_at) VALUES ($1, $2, $3, $4)")
            .bind(reference)
            .bind(processor_ref)
            .bind(amount)
            .bind(ts(now))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(SandboxRefund::Made)
    }

    /// Close `day`'s batch: every captured transaction settles into it.
    /// Closing the same day again answers the same batch.
    pub async fn sandbox_card_settle_batch(
        &mut self,
        day: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        on_db!(self, conn => sqlx::query(
            "UPDATE sandbox_card_transactions SET state = 'settled', batch_day = $1, updated_at = $2 \
             WHERE state = 'captured'")
            .bind(day.to_string())
            .bind(ts(now))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        let rows: Vec<(String, i64)> = on_db!(self, conn => sqlx::query_as(
            "SELECT processor_ref, captured - refunded FROM sandbox_card_transactions \
             WHERE batch_day = $1 ORDER BY processor_ref")
            .bind(day.to_string())
            .fetch_all(conn)
            .await)?;
        Ok(rows)
    }

    /// Captured (or settled) transactions whose card the cardholder will
    /// dispute (behaviour `dispute_won` / `dispute_lost`).
    pub async fn sandbox_card_disputed(
        &mut self,
    ) -> Result<Vec<SandboxCardTransaction>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM sandbox_card_transactions \
             WHERE behaviour IN ('dispute_won', 'dispute_lost') AND state IN ('captured', 'settled') \
             ORDER BY processor_ref LIMIT 1000"
        ));
        let rows: Vec<Row> = on_db!(self, conn => sqlx::query_as(sql).fetch_all(conn).await)?;
        rows.into_iter()
            .map(SandboxCardTransaction::try_from)
            .collect()
    }

    /// How many transactions the sandbox recorded for `reference`, and how
    /// many refunds for its transaction (to prove nothing was done twice).
    pub async fn sandbox_card_counts(&mut self, reference: &str) -> Result<(i64, i64), StoreError> {
        let counts: (i64, i64) = on_db!(self, conn => sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM sandbox_card_transactions WHERE reference = $1), \
             (SELECT COUNT(*) FROM sandbox_card_refunds r JOIN sandbox_card_transactions t \
              ON t.processor_ref = r.processor_ref WHERE t.reference = $1)")
            .bind(reference)
            .fetch_one(conn)
            .await)?;
        Ok(counts)
    }
}
