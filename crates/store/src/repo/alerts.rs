//! Alert bookkeeping: which alerts are raised now (`alert_states`), so an
//! alert event is emitted once when its condition starts and again only
//! after the condition has ended (the alert re-armed); and the queries the
//! alert sweep reads (stale job leases, customers with recent returns).

use chrono::{DateTime, Utc};
use inflow_core::ids::CustomerId;

use crate::codec::{dt, ts};
use crate::{on_db, StoreError, Tx};

/// A job lease past its expiry that nobody released or took over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleLease {
    pub name: String,
    pub holder: String,
    pub expires_at: DateTime<Utc>,
}

impl Tx {
    /// Raise alert `key` unless it is raised already; `true` if this call
    /// raised it (and so should emit its event, in the same transaction).
    /// Two nodes raising the same alert at once: one insert wins.
    pub async fn raise_alert(
        &mut self,
        key: &str,
        detail: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let n = on_db!(self, conn => sqlx::query(
            "INSERT INTO alert_states (alert_key, detail, raised_at) VALUES ($1, $2, $3) \
             ON CONFLICT (alert_key) DO NOTHING")
            .bind(key)
            .bind(detail)
            .bind(ts(now))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Re-arm alert `key` (its condition ended); `true` if it was raised.
    pub async fn clear_alert(&mut self, key: &str) -> Result<bool, StoreError> {
        let n = on_db!(self, conn => sqlx::query("DELETE FROM alert_states WHERE alert_key = $1")
            .bind(key)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// The raised alerts whose key starts with `prefix`.
    pub async fn raised_alerts(&mut self, prefix: &str) -> Result<Vec<String>, StoreError> {
        Ok(on_db!(self, conn => sqlx::query_scalar(
            "SELECT alert_key FROM alert_states WHERE substr(alert_key, 1, length($1)) = $1 ORDER BY alert_key")
            .bind(prefix)
            .fetch_all(conn)
            .await)?)
    }

    /// Job leases that expired at `now` (wall clock) and are still held.
    pub async fn stale_leases(
        &mut self,
        now: DateTime<Utc>,
    ) -> Result<Vec<StaleLease>, StoreError> {
        let rows: Vec<(String, String, i64)> = on_db!(self, conn => sqlx::query_as(
            "SELECT name, holder, expires_at FROM job_leases WHERE expires_at <= $1 ORDER BY name")
            .bind(ts(now))
            .fetch_all(conn)
            .await)?;
        rows.into_iter()
            .map(|(name, holder, e)| {
                Ok(StaleLease {
                    name,
                    holder,
                    expires_at: dt(e)?,
                })
            })
            .collect()
    }

    /// Customers with an ACH debit returned since `since`.
    pub async fn customers_with_returns_since(
        &mut self,
        since: DateTime<Utc>,
    ) -> Result<Vec<CustomerId>, StoreError> {
        let ids: Vec<String> = on_db!(self, conn => sqlx::query_scalar(
            "SELECT DISTINCT customer_id FROM collections WHERE rail = 'ach' AND type = 'debit' \
             AND status = 'returned' AND returned_at >= $1 ORDER BY customer_id")
            .bind(ts(since))
            .fetch_all(conn)
            .await)?;
        Ok(ids.into_iter().map(CustomerId::from_trusted).collect())
    }
}
