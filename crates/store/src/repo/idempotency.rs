//! Idempotency records.
//!
//! A request with an `Idempotency-Key` runs its effect and records its
//! response in **one** transaction: the key exists if and only if the effect
//! committed. Concurrent requests with the same key are kept apart by
//! [`Tx::try_lock_idempotency_key`] (a transaction-scoped advisory lock on
//! PostgreSQL, so it holds across nodes; SQLite write transactions are
//! already serialised) and, on one node, by the server's in-flight set.

use chrono::{DateTime, Utc};

use crate::codec::ts;
use crate::dialect::{pg_xact_try_lock, LockPurpose};
use crate::{on_db, StoreError, Tx};

/// A stored response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    pub request_hash: Vec<u8>,
    pub response_status: u16,
    pub response_body: String,
}

#[derive(sqlx::FromRow)]
struct IdemRow {
    request_hash: Vec<u8>,
    response_status: i32,
    response_body: String,
}

impl Tx {
    /// Take the per-key lock for the rest of this transaction; `false` means
    /// another transaction holds it (the first request is still running).
    pub async fn try_lock_idempotency_key(
        &mut self,
        scope: &str,
        key: &str,
    ) -> Result<bool, StoreError> {
        match self {
            // BEGIN IMMEDIATE already made this the only writer.
            Tx::Sqlite(..) => Ok(true),
            Tx::Postgres(t, ..) => {
                let lock_key = format!("{scope}\u{1f}{key}");
                pg_xact_try_lock(t, LockPurpose::IdempotencyKey, &lock_key).await
            }
        }
    }

    /// The unexpired record for `key` in `scope`, if any.
    pub async fn find_idempotency_record(
        &mut self,
        scope: &str,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        let row: Option<IdemRow> = on_db!(self, conn => sqlx::query_as(
            "SELECT request_hash, response_status, response_body FROM idempotency_keys \
             WHERE scope = $1 AND idem_key = $2 AND expires_at > $3")
            .bind(scope)
            .bind(key)
            .bind(ts(now))
            .fetch_optional(conn)
            .await)?;
        Ok(row.map(|r| IdempotencyRecord {
            request_hash: r.request_hash,
            response_status: u16::try_from(r.response_status).unwrap_or(200),
            response_body: r.response_body,
        }))
    }

    /// Record the response of a request whose effect commits with this transaction.
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_idempotency_record(
        &mut self,
        scope: &str,
        key: &str,
        request_hash: &[u8],
        status: u16,
        body: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        // An expired record for the same key may still be there until the
        // purge: overwrite it; an unexpired one is a conflict.
        let written = on_db!(self, conn => sqlx::query(
            "INSERT INTO idempotency_keys (scope, idem_key, request_hash, response_status, response_body, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (scope, idem_key) DO UPDATE SET request_hash = excluded.request_hash, \
             response_status = excluded.response_status, response_body = excluded.response_body, \
             created_at = excluded.created_at, expires_at = excluded.expires_at \
             WHERE idempotency_keys.expires_at <= excluded.created_at")
            .bind(scope)
            .bind(key)
            .bind(request_hash)
            .bind(i32::from(status))
            .bind(body)
            .bind(ts(now))
            .bind(ts(expires_at))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        if written == 0 {
            return Err(StoreError::Conflict("idempotency_keys_pkey".into()));
        }
        Ok(())
    }

    /// Delete expired records; returns how many went.
    pub async fn purge_expired_idempotency_keys(
        &mut self,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let done = on_db!(self, conn => sqlx::query("DELETE FROM idempotency_keys WHERE expires_at <= $1")
            .bind(ts(now)).execute(conn).await.map(|r| r.rows_affected()))?;
        Ok(done)
    }
}
