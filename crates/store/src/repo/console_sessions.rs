//! The operator console's server-side sessions: created at sign-in, read
//! and slid forward on every console request, deleted at sign-out. Rows are
//! keyed by the SHA-256 (hex) of the session token; the token itself is
//! only ever in the operator's cookie.

use chrono::{DateTime, Utc};

use crate::codec::{dt, ts};
use crate::{on_db, StoreError, Tx};

/// A console session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSession {
    /// Hex SHA-256 of the session token.
    pub token_hash: String,
    /// The operator API key that signed in.
    pub api_key_id: String,
    /// The CSRF token every console form of this session carries.
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

type Row = (String, String, String, i64, i64, i64);

fn from_row(r: Row) -> Result<ConsoleSession, StoreError> {
    Ok(ConsoleSession {
        token_hash: r.0,
        api_key_id: r.1,
        csrf_token: r.2,
        created_at: dt(r.3)?,
        last_seen_at: dt(r.4)?,
        expires_at: dt(r.5)?,
    })
}

impl Tx {
    pub async fn insert_console_session(&mut self, s: &ConsoleSession) -> Result<(), StoreError> {
        on_db!(self, conn => sqlx::query(
            "INSERT INTO console_sessions (token_hash, api_key_id, csrf_token, created_at, last_seen_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&s.token_hash)
            .bind(&s.api_key_id)
            .bind(&s.csrf_token)
            .bind(ts(s.created_at))
            .bind(ts(s.last_seen_at))
            .bind(ts(s.expires_at))
            .execute(conn)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// The session whose token hashes to `token_hash` (`NotFound` if none).
    pub async fn get_console_session(
        &mut self,
        token_hash: &str,
    ) -> Result<ConsoleSession, StoreError> {
        let row: Option<Row> = on_db!(self, conn => sqlx::query_as(
            "SELECT token_hash, api_key_id, csrf_token, created_at, last_seen_at, expires_at \
             FROM console_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(conn)
            .await)?;
        from_row(row.ok_or(StoreError::NotFound)?)
    }

    /// Slide an active session's idle expiry forward.
    pub async fn touch_console_session(
        &mut self,
        token_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_db!(self, conn => sqlx::query(
            "UPDATE console_sessions SET last_seen_at = $2, expires_at = $3 WHERE token_hash = $1")
            .bind(token_hash)
            .bind(ts(now))
            .bind(ts(expires_at))
            .execute(conn)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Delete a session (sign-out, or found expired); `true` if it existed.
    pub async fn delete_console_session(&mut self, token_hash: &str) -> Result<bool, StoreError> {
        let n = on_db!(self, conn => sqlx::query("DELETE FROM console_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Forget every session that expired before `now`; how many.
    pub async fn purge_console_sessions(&mut self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        Ok(
            on_db!(self, conn => sqlx::query("DELETE FROM console_sessions WHERE expires_at < $1")
            .bind(ts(now))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?,
        )
    }
}
