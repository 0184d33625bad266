//! Read-only aggregates for the operator console's overview: collection
//! counts and volume by rail and status, daily volume per rail, returns
//! and NOCs by code, and the webhook backlog per endpoint. Days are UTC
//! days counted from the unix epoch (`created_at / 86_400_000_000`).

use chrono::{DateTime, Utc};

use crate::codec::ts;
use crate::{on_db, StoreError, Tx};

/// Collections of one rail in one status created since a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusTotal {
    pub rail: String,
    pub status: String,
    pub count: i64,
    /// Minor units.
    pub amount: i64,
}

/// Volume collected on one rail on one UTC day (days since the epoch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyVolume {
    pub day: i64,
    pub rail: String,
    pub amount: i64,
    pub count: i64,
}

/// Webhook deliveries of one endpoint that are pending or failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointBacklog {
    pub endpoint_id: String,
    pub pending: i64,
    pub failed: i64,
    /// Pending deliveries whose last attempt did not succeed.
    pub retrying: i64,
}

const MICROS_PER_DAY: i64 = 86_400_000_000;

impl Tx {
    /// Count and volume by rail and status of the collections created at or after `since`.
    pub async fn console_status_totals(
        &mut self,
        since: DateTime<Utc>,
    ) -> Result<Vec<StatusTotal>, StoreError> {
        let rows: Vec<(String, String, i64, i64)> = on_db!(self, conn => sqlx::query_as(
            "SELECT 'ach', status, COUNT(*), CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM collections \
             WHERE created_at >= $1 GROUP BY status \
             UNION ALL \
             SELECT 'card', status, COUNT(*), CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM card_collections \
             WHERE created_at >= $1 GROUP BY status ORDER BY 1, 2")
            .bind(ts(since))
            .fetch_all(conn)
            .await)?;
        Ok(rows
            .into_iter()
            .map(|(rail, status, count, amount)| StatusTotal {
                rail,
                status,
                count,
                amount,
            })
            .collect())
    }

    /// Volume per rail per UTC day of the collections created at or after
    /// `since`, not counting cancelled, failed or declined ones.
    pub async fn console_daily_volume(
        &mut self,
        since: DateTime<Utc>,
    ) -> Result<Vec<DailyVolume>, StoreError> {
        let rows: Vec<(i64, String, i64, i64)> = on_db!(self, conn => sqlx::query_as(
            "SELECT CAST(created_at / $2 AS BIGINT), 'ach', CAST(SUM(amount) AS BIGINT), COUNT(*) FROM collections \
             WHERE created_at >= $1 AND status NOT IN ('cancelled', 'failed') GROUP BY 1 \
             UNION ALL \
             SELECT CAST(created_at / $2 AS BIGINT), 'card', CAST(SUM(amount) AS BIGINT), COUNT(*) FROM card_collections \
             WHERE created_at >= $1 AND status NOT IN ('declined', 'voided', 'pending') GROUP BY 1 ORDER BY 1, 2")
            .bind(ts(since))
            .bind(MICROS_PER_DAY)
            .fetch_all(conn)
            .await)?;
        Ok(rows
            .into_iter()
            .map(|(day, rail, amount, count)| DailyVolume {
                day,
                rail,
                amount,
                count,
            })
            .collect())
    }

    /// Returns (`kind = 'return'`) or NOCs (`'noc'`) received at or after `since`, by code.
    pub async fn console_returns_by_code(
        &mut self,
        kind: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(on_db!(self, conn => sqlx::query_as(
            "SELECT code, COUNT(*) FROM ach_returns WHERE kind = $1 AND created_at >= $2 \
             GROUP BY code ORDER BY code")
            .bind(kind)
            .bind(ts(since))
            .fetch_all(conn)
            .await)?)
    }

    /// Endpoints with pending or failed deliveries, most pending first.
    pub async fn console_webhook_backlog(&mut self) -> Result<Vec<EndpointBacklog>, StoreError> {
        let rows: Vec<(String, i64, i64, i64)> = on_db!(self, conn => sqlx::query_as(
            "SELECT endpoint_id, \
                    CAST(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END) AS BIGINT), \
                    CAST(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS BIGINT), \
                    CAST(SUM(CASE WHEN status = 'pending' AND attempts > 0 THEN 1 ELSE 0 END) AS BIGINT) \
             FROM webhook_deliveries WHERE status <> 'succeeded' \
             GROUP BY endpoint_id ORDER BY 2 DESC, 1")
            .fetch_all(conn)
            .await)?;
        Ok(rows
            .into_iter()
            .map(|(endpoint_id, pending, failed, retrying)| EndpointBacklog {
                endpoint_id,
                pending,
                failed,
                retrying,
            })
            .collect())
    }

    /// Outbound files created at or after `since`, by delivery status
    /// (`built` when none is recorded yet).
    pub async fn console_file_states(
        &mut self,
        since: DateTime<Utc>,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(on_db!(self, conn => sqlx::query_as(
            "SELECT COALESCE(delivery_status, 'built'), COUNT(*) FROM ach_files \
             WHERE direction = 'outbound' AND created_at >= $1 GROUP BY 1 ORDER BY 1")
            .bind(ts(since))
            .fetch_all(conn)
            .await)?)
    }

    /// Collections waiting for a cutoff (`pending`), by processing mode:
    /// (mode, count, amount).
    pub async fn console_queued(&mut self) -> Result<Vec<(String, i64, i64)>, StoreError> {
        Ok(on_db!(self, conn => sqlx::query_as(
            "SELECT processing_mode, COUNT(*), CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM collections \
             WHERE status = 'pending' GROUP BY processing_mode ORDER BY 1")
            .fetch_all(conn)
            .await)?)
    }
}
