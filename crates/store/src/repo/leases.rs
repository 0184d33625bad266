//! Coordination between nodes for background jobs: time-limited leases
//! (`job_leases`), a transaction-scoped job lock, and the small `settings`
//! key/value table jobs keep their progress in.
//!
//! A lease says who runs a job now; it expires so a crashed node does not
//! block the job forever. It is a courtesy, not a guarantee (a stalled
//! holder can outlive its lease), so jobs also make every step conditional
//! on the state they expect.

use chrono::{DateTime, Utc};

use crate::codec::ts;
use crate::dialect::{pg_xact_lock, LockPurpose};
use crate::{on_db, StoreError, Tx};

impl Tx {
    /// Take the lease `name` for `holder` until `expires_at`, if it is free,
    /// expired (at `now`) or already `holder`'s (then it is extended).
    /// Atomic on both backends: one upsert whose update applies only when
    /// the current lease may be taken.
    pub async fn try_acquire_lease(
        &mut self,
        name: &str,
        holder: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = on_db!(self, conn => sqlx::query(
            "INSERT INTO job_leases (name, holder, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE job_leases.expires_at <= $4 OR job_leases.holder = excluded.holder")
            .bind(name)
            .bind(holder)
            .bind(ts(expires_at))
            .bind(ts(now))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Give the lease back, if `holder` still has it.
    pub async fn release_lease(&mut self, name: &str, holder: &str) -> Result<bool, StoreError> {
        let done = on_db!(self, conn => sqlx::query(
            "DELETE FROM job_leases WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Who holds lease `name` and until when (expired leases included).
    pub async fn lease_holder(
        &mut self,
        name: &str,
    ) -> Result<Option<(String, DateTime<Utc>)>, StoreError> {
        let row: Option<(String, i64)> = on_db!(self, conn => sqlx::query_as(
            "SELECT holder, expires_at FROM job_leases WHERE name = $1")
            .bind(name)
            .fetch_optional(conn)
            .await)?;
        row.map(|(h, e)| Ok((h, crate::codec::dt(e)?))).transpose()
    }

    /// Wait until no other transaction holds the job lock `name`, then hold
    /// it until this transaction ends. On PostgreSQL a transaction-scoped
    /// advisory lock (so it holds across nodes); on SQLite a no-op, since
    /// write transactions are serialised already.
    pub async fn lock_job(&mut self, name: &str) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(..) => Ok(()),
            Tx::Postgres(t, ..) => pg_xact_lock(t, LockPurpose::JobLease, name, true).await,
        }
    }

    /// The value of setting `name`, if set.
    pub async fn get_setting(&mut self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(on_db!(self, conn => sqlx::query_scalar(
            "SELECT value FROM settings WHERE name = $1")
            .bind(name)
            .fetch_optional(conn)
            .await)?)
    }

    /// Set `name` to `value`, replacing any previous value.
    pub async fn put_setting(&mut self, name: &str, value: &str) -> Result<(), StoreError> {
        on_db!(self, conn => sqlx::query(
            "INSERT INTO settings (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value")
            .bind(name)
            .bind(value)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Add `by` to the integer setting `name` (0 when unset) in one
    /// statement, so increments from several nodes never overwrite each
    /// other; returns the new value.
    pub async fn add_to_setting(&mut self, name: &str, by: i64) -> Result<i64, StoreError> {
        let value: String = on_db!(self, conn => sqlx::query_scalar(
            "INSERT INTO settings (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET value = CAST(CAST(settings.value AS BIGINT) + $3 AS TEXT) \
             RETURNING value")
            .bind(name)
            .bind(by.to_string())
            .bind(by)
            .fetch_one(conn)
            .await)?;
        value.parse().map_err(|_| {
            StoreError::Corrupt(format!("setting {name} = {value:?} is not an integer"))
        })
    }
}
