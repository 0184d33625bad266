//! Webhook deliveries (one event on its way to one endpoint) and the log of
//! their attempts.
//!
//! Dispatchers take work by **claiming** due deliveries: one conditional
//! `UPDATE … RETURNING` sets `claimed_by`/`claimed_until` (wall clock) and
//! counts the attempt. On PostgreSQL the candidate rows are picked once (a
//! materialised CTE, so a claim never exceeds its limit) and locked with
//! `FOR UPDATE SKIP LOCKED`, and the outer `WHERE` re-checks the claim after
//! any concurrent update, so two dispatchers never hold the same delivery.
//! A result is written only by the claim's holder (`claimed_by = token`), so
//! a dispatcher whose claim expired cannot overwrite another's outcome.
//!
//! Per-object order: a delivery is due only when no *earlier* event for the
//! same object is still pending on the same endpoint.

use chrono::{DateTime, Utc};
use inflow_core::ids::{EventId, WebhookDeliveryId, WebhookEndpointId};
use inflow_core::webhook::DeliveryStatus;

use crate::codec::{dt, opt_dt, ts};
use crate::{on_db, ListQuery, Page, StoreError, Tx};

/// A delivery to create.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub id: WebhookDeliveryId,
    pub event_id: EventId,
    pub endpoint_id: WebhookEndpointId,
    pub object_id: String,
    pub event_type: String,
    /// First attempt not before (business clock); also opens the retry window.
    pub due_at: DateTime<Utc>,
}

/// One event on its way to one endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: WebhookDeliveryId,
    pub event_id: EventId,
    pub endpoint_id: WebhookEndpointId,
    pub object_id: String,
    pub event_type: String,
    pub status: DeliveryStatus,
    /// Attempts made or under way.
    pub attempts: u32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub window_start: DateTime<Utc>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<u16>,
    pub last_latency_ms: Option<u64>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// One HTTP attempt of a delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub delivery_id: WebhookDeliveryId,
    /// 1 for the first attempt.
    pub number: u32,
    pub attempted_at: DateTime<Utc>,
    pub status_code: Option<u16>,
    pub latency_ms: u64,
    pub error: Option<String>,
    pub succeeded: bool,
}

/// Where a delivery goes after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    Succeeded,
    RetryAt(DateTime<Utc>),
    Failed,
}

/// Filters for an endpoint's delivery log.
#[derive(Debug, Default, Clone)]
pub struct DeliveryFilter {
    pub status: Option<DeliveryStatus>,
    pub event_id: Option<EventId>,
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: String,
    event_id: String,
    endpoint_id: String,
    object_id: String,
    event_type: String,
    status: String,
    attempts: i64,
    next_attempt_at: Option<i64>,
    window_start: i64,
    last_attempt_at: Option<i64>,
    last_status_code: Option<i64>,
    last_latency_ms: Option<i64>,
    last_error: Option<String>,
    delivered_at: Option<i64>,
    created_at: i64,
}

fn small<T: TryFrom<i64>>(v: i64) -> Option<T> {
    T::try_from(v).ok()
}

impl TryFrom<DeliveryRow> for Delivery {
    type Error = StoreError;
    fn try_from(r: DeliveryRow) -> Result<Self, StoreError> {
        Ok(Delivery {
            id: WebhookDeliveryId::from_trusted(r.id),
            event_id: EventId::from_trusted(r.event_id),
            endpoint_id: WebhookEndpointId::from_trusted(r.endpoint_id),
            object_id: r.object_id,
            event_type: r.event_type,
            status: DeliveryStatus::parse("status", &r.status)?,
            attempts: small(r.attempts).unwrap_or(0),
            next_attempt_at: opt_dt(r.next_attempt_at)?,
            window_start: dt(r.window_start)?,
            last_attempt_at: opt_dt(r.last_attempt_at)?,
            last_status_code: r.last_status_code.and_then(small),
            last_latency_ms: r.last_latency_ms.and_then(small),
            last_error: r.last_error,
            delivered_at: opt_dt(r.delivered_at)?,
            created_at: dt(r.created_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct AttemptRow {
    delivery_id: String,
    number: i64,
    attempted_at: i64,
    status_code: Option<i64>,
    latency_ms: i64,
    error: Option<String>,
    succeeded: bool,
}

/// A delivery `d` (joined with its endpoint `e`) that may be attempted now:
/// pending, due at `$1` (business clock), unclaimed at `$2` (wall clock),
/// endpoint enabled, and no earlier event of the same object still pending
/// on the same endpoint.
const CLAIMABLE: &str = "d.status = 'pending' AND d.next_attempt_at <= $1 \
    AND (d.claimed_until IS NULL OR d.claimed_until <= $2) AND e.status = 'enabled' \
    AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p WHERE p.endpoint_id = d.endpoint_id \
        AND p.object_id = d.object_id AND p.status = 'pending' AND p.event_id < d.event_id)";

const COLUMNS: &str = "id, event_id, endpoint_id, object_id, event_type, status, attempts, next_attempt_at, \
                       window_start, last_attempt_at, last_status_code, last_latency_ms, last_error, delivered_at, \
                       created_at";

impl Tx {
    pub async fn insert_delivery(&mut self, d: &NewDelivery) -> Result<(), StoreError> {
        on_db!(self, conn => sqlx::query(
            "INSERT INTO webhook_deliveries (id, event_id, endpoint_id, object_id, event_type, status, attempts, \
             next_attempt_at, window_start, created_at) VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6, $6)")
            .bind(d.id.as_str())
            .bind(d.event_id.as_str())
            .bind(d.endpoint_id.as_str())
            .bind(&d.object_id)
            .bind(&d.event_type)
            .bind(ts(d.due_at))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Deliveries still pending (not yet succeeded or failed for good), and
    /// when the oldest of them was created (business clock): the webhook
    /// queue's depth and age, for the metrics.
    pub async fn pending_delivery_backlog(
        &mut self,
    ) -> Result<(i64, Option<DateTime<Utc>>), StoreError> {
        let (n, oldest): (i64, Option<i64>) = on_db!(self, conn => sqlx::query_as(
            "SELECT COUNT(*), MIN(window_start) FROM webhook_deliveries WHERE status = 'pending'")
            .fetch_one(conn)
            .await)?;
        Ok((n, oldest.map(dt).transpose()?))
    }

    /// Is any delivery due at `now` (business clock) and unclaimed at
    /// `wall_now`? A cheap read before claiming.
    pub async fn has_due_deliveries(
        &mut self,
        now: DateTime<Utc>,
        wall_now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let found: Option<String> = on_db!(self, conn => sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id \
             WHERE {CLAIMABLE} LIMIT 1")))
            .bind(ts(now))
            .bind(ts(wall_now))
            .fetch_optional(conn)
            .await)?;
        Ok(found.is_some())
    }

    /// Claim up to `limit` due deliveries for `token` until `claim_until`
    /// (wall clock), counting one more attempt on each. Oldest due first.
    pub async fn claim_due_deliveries(
        &mut self,
        token: &str,
        now: DateTime<Utc>,
        wall_now: DateTime<Utc>,
        claim_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        let lock = match self {
            Tx::Sqlite(..) => "",
            Tx::Postgres(..) => "FOR UPDATE OF d SKIP LOCKED",
        };
        // The candidates are picked once, in a materialised CTE: as an
        // `IN (subquery … LIMIT)` PostgreSQL may rescan the subquery for
        // each row it updates, where `SKIP LOCKED` then skips the rows this
        // statement already took and returns further ones — claiming more
        // than `limit`.
        let sql = format!(
            "WITH picked AS MATERIALIZED (\
               SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id \
               WHERE {CLAIMABLE} ORDER BY d.next_attempt_at, d.event_id LIMIT $5 {lock}) \
             UPDATE webhook_deliveries SET claimed_by = $3, claimed_until = $4, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM picked) \
             AND status = 'pending' AND (claimed_until IS NULL OR claimed_until <= $2) \
             RETURNING {COLUMNS}"
        );
        let rows: Vec<DeliveryRow> = on_db!(self, conn => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(ts(now))
            .bind(ts(wall_now))
            .bind(token)
            .bind(ts(claim_until))
            .bind(i64::from(limit))
            .fetch_all(conn)
            .await)?;
        let mut out = rows
            .into_iter()
            .map(Delivery::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        out.sort_by(|a, b| a.event_id.cmp(&b.event_id));
        Ok(out)
    }

    /// Record attempt number `attempt.number` of a delivery claimed by
    /// `token`, and move the delivery to `next`. `false` (and nothing
    /// written) if the claim is no longer `token`'s. A batch's outcomes go
    /// together through [`Tx::record_attempts`].
    pub async fn record_attempt(
        &mut self,
        token: &str,
        attempt: &Attempt,
        next: NextStep,
    ) -> Result<bool, StoreError> {
        let written = self
            .record_attempts(token, &[(attempt.clone(), next)])
            .await?;
        Ok(written.contains(&attempt.delivery_id))
    }

    /// An endpoint's deliveries, newest first.
    pub async fn list_deliveries(
        &mut self,
        endpoint: &WebhookEndpointId,
        f: &DeliveryFilter,
        q: &ListQuery,
    ) -> Result<Page<Delivery>, StoreError> {
        let rows: Vec<DeliveryRow> = on_db!(self, conn => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM webhook_deliveries WHERE endpoint_id = $1 AND ($2 = '' OR id < $2) \
             AND ($3 = '' OR status = $3) AND ($4 = '' OR event_id = $4) ORDER BY id DESC LIMIT $5")))
            .bind(endpoint.as_str())
            .bind(&q.starting_after)
            .bind(f.status.map(|s| s.as_str()).unwrap_or(""))
            .bind(f.event_id.as_ref().map(|e| e.as_str()).unwrap_or(""))
            .bind(q.fetch())
            .fetch_all(conn)
            .await)?;
        let rows = rows
            .into_iter()
            .map(Delivery::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_rows(rows, q))
    }

    /// The attempts of `delivery`, first to last.
    pub async fn delivery_attempts(
        &mut self,
        delivery: &WebhookDeliveryId,
    ) -> Result<Vec<Attempt>, StoreError> {
        let rows: Vec<AttemptRow> = on_db!(self, conn => sqlx::query_as(
            "SELECT delivery_id, number, attempted_at, status_code, latency_ms, error, succeeded \
             FROM webhook_attempts WHERE delivery_id = $1 ORDER BY number")
            .bind(delivery.as_str())
            .fetch_all(conn)
            .await)?;
        rows.into_iter()
            .map(|r| {
                Ok(Attempt {
                    delivery_id: WebhookDeliveryId::from_trusted(r.delivery_id),
                    number: small(r.number).unwrap_or(0),
                    attempted_at: dt(r.attempted_at)?,
                    status_code: r.status_code.and_then(small),
                    latency_ms: small(r.latency_ms).unwrap_or(0),
                    error: r.error,
                    succeeded: r.succeeded,
                })
            })
            .collect()
    }

    /// When an endpoint is enabled again: its pending deliveries are due at
    /// once, with a fresh retry window.
    pub async fn reopen_pending_deliveries(
        &mut self,
        endpoint: &WebhookEndpointId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        Ok(on_db!(self, conn => sqlx::query(
            "UPDATE webhook_deliveries SET next_attempt_at = $2, window_start = $2 \
             WHERE endpoint_id = $1 AND status = 'pending'")
            .bind(endpoint.as_str())
            .bind(ts(now))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?)
    }

    /// Every delivery of one event (all endpoints), oldest first.
    pub async fn deliveries_for_event(
        &mut self,
        event: &EventId,
    ) -> Result<Vec<Delivery>, StoreError> {
        let rows: Vec<DeliveryRow> = on_db!(self, conn => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM webhook_deliveries WHERE event_id = $1 ORDER BY id")))
            .bind(event.as_str())
            .fetch_all(conn)
            .await)?;
        rows.into_iter().map(Delivery::try_from).collect()
    }
}
