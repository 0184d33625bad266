//! Idempotency records.
//!
//! A request with an `Idempotency-Key` first *claims* the key in a short
//! transaction of its own. The claim carries a random lock token; the
//! request's effect then commits in one transaction together with
//! [`Tx::complete_idempotency_key`], which only succeeds while the token is
//! still ours. So even if a stale claim is taken over after its lock expired,
//! at most one effect ever commits for a key.

use chrono::{DateTime, Duration, Utc};

use crate::codec::ts;
use crate::{on_db, StoreError, Tx};

/// The outcome of claiming a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This request owns the key; finish with the token.
    Acquired { token: String },
    /// The key already completed with this request; here is the stored response.
    Replay { status: u16, body: String },
    /// The key was used with a different request.
    Mismatch,
    /// The first request with this key is still running.
    InFlight { retry_after_secs: u64 },
}

#[derive(sqlx::FromRow)]
struct IdemRow {
    request_hash: Vec<u8>,
    state: String,
    lock_token: String,
    locked_until: i64,
    response_status: Option<i32>,
    response_body: Option<String>,
}

fn new_token() -> String {
    inflow_core::ids::new_id_body(Utc::now())
}

impl Tx {
    /// Claim `key` in `scope` for a request whose fingerprint is `request_hash`.
    pub async fn claim_idempotency_key(
        &mut self,
        scope: &str,
        key: &str,
        request_hash: &[u8],
        now: DateTime<Utc>,
        lock_for: Duration,
        keep_for: Duration,
    ) -> Result<Claim, StoreError> {
        on_db!(self, conn => sqlx::query("DELETE FROM idempotency_keys WHERE scope = $1 AND idem_key = $2 AND expires_at <= $3")
            .bind(scope).bind(key).bind(ts(now)).execute(conn).await.map(|r| r.rows_affected()))?;

        let token = new_token();
        let inserted = on_db!(self, conn => sqlx::query(
            "INSERT INTO idempotency_keys (scope, idem_key, request_hash, state, lock_token, locked_until, created_at, expires_at) \
             VALUES ($1, $2, $3, 'in_flight', $4, $5, $6, $7) ON CONFLICT (scope, idem_key) DO NOTHING")
            .bind(scope)
            .bind(key)
            .bind(request_hash)
            .bind(&token)
            .bind(ts(now + lock_for))
            .bind(ts(now))
            .bind(ts(now + keep_for))
            .execute(conn).await.map(|r| r.rows_affected()))?;
        if inserted == 1 {
            return Ok(Claim::Acquired { token });
        }

        let row: IdemRow = on_db!(self, conn => sqlx::query_as(
            "SELECT request_hash, state, lock_token, locked_until, response_status, response_body \
             FROM idempotency_keys WHERE scope = $1 AND idem_key = $2")
            .bind(scope).bind(key).fetch_one(conn).await)?;
        if row.request_hash != request_hash {
            return Ok(Claim::Mismatch);
        }
        if row.state == "completed" {
            let status = row
                .response_status
                .and_then(|s| u16::try_from(s).ok())
                .unwrap_or(200);
            return Ok(Claim::Replay {
                status,
                body: row.response_body.unwrap_or_default(),
            });
        }
        if row.locked_until > ts(now) {
            let secs = (row.locked_until - ts(now)) / 1_000_000;
            return Ok(Claim::InFlight {
                retry_after_secs: secs.clamp(1, 60) as u64,
            });
        }
        // The first attempt died without finishing: take the key over.
        let taken = on_db!(self, conn => sqlx::query(
            "UPDATE idempotency_keys SET lock_token = $4, locked_until = $5 \
             WHERE scope = $1 AND idem_key = $2 AND lock_token = $3 AND state = 'in_flight'")
            .bind(scope)
            .bind(key)
            .bind(&row.lock_token)
            .bind(&token)
            .bind(ts(now + lock_for))
            .execute(conn).await.map(|r| r.rows_affected()))?;
        if taken == 1 {
            Ok(Claim::Acquired { token })
        } else {
            Ok(Claim::InFlight {
                retry_after_secs: 1,
            })
        }
    }

    /// Record the response for a claimed key. Returns `false` if the claim
    /// was lost (taken over after its lock expired); the caller must then
    /// roll back its effect.
    pub async fn complete_idempotency_key(
        &mut self,
        scope: &str,
        key: &str,
        token: &str,
        status: u16,
        body: &str,
    ) -> Result<bool, StoreError> {
        let done = on_db!(self, conn => sqlx::query(
            "UPDATE idempotency_keys SET state = 'completed', response_status = $4, response_body = $5 \
             WHERE scope = $1 AND idem_key = $2 AND lock_token = $3 AND state = 'in_flight'")
            .bind(scope)
            .bind(key)
            .bind(token)
            .bind(i32::from(status))
            .bind(body)
            .execute(conn).await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Give a claimed key back (the request failed in a way worth retrying).
    pub async fn release_idempotency_key(
        &mut self,
        scope: &str,
        key: &str,
        token: &str,
    ) -> Result<(), StoreError> {
        on_db!(self, conn => sqlx::query(
            "DELETE FROM idempotency_keys WHERE scope = $1 AND idem_key = $2 AND lock_token = $3 AND state = 'in_flight'")
            .bind(scope).bind(key).bind(token).execute(conn).await.map(|r| r.rows_affected()))?;
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
