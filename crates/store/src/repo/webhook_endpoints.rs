//! Webhook endpoints: where a customer's events go, or — an endpoint with
//! no customer — the operator's events and alerts. Signing secrets are
//! stored only sealed (the endpoint id is the associated data).
//!
//! An endpoint's *owner* is `Some(customer)` or `None` (the operator).

use chrono::{DateTime, Utc};
use inflow_core::ids::{CustomerId, WebhookEndpointId};
use inflow_core::webhook::{EndpointStatus, EventSelector, WebhookEndpoint, WebhookUrl};

use crate::codec::{dt, metadata_from, metadata_json, opt_dt, ts};
use crate::{on_db, ListQuery, Page, StoreError, Tx};

#[derive(sqlx::FromRow)]
struct EndpointRow {
    id: String,
    customer_id: Option<String>,
    url: String,
    enabled_events: String,
    description: Option<String>,
    status: String,
    disabled_reason: Option<String>,
    disabled_at: Option<i64>,
    consecutive_failures: i64,
    secret_sealed: Vec<u8>,
    previous_secret_sealed: Option<Vec<u8>>,
    previous_secret_expires_at: Option<i64>,
    metadata: String,
    created_at: i64,
    updated_at: i64,
}

fn events_from(s: &str) -> Result<EventSelector, StoreError> {
    serde_json::from_str::<Vec<String>>(s)
        .map(EventSelector::from_trusted)
        .map_err(|e| StoreError::Corrupt(format!("webhook enabled_events: {e}")))
}

fn events_json(e: &EventSelector) -> String {
    serde_json::Value::from(e.items().to_vec()).to_string()
}

impl TryFrom<EndpointRow> for WebhookEndpoint {
    type Error = StoreError;
    fn try_from(r: EndpointRow) -> Result<Self, StoreError> {
        Ok(WebhookEndpoint {
            id: WebhookEndpointId::from_trusted(r.id),
            customer_id: r.customer_id.map(CustomerId::from_trusted),
            url: WebhookUrl::from_trusted(r.url),
            enabled_events: events_from(&r.enabled_events)?,
            description: r.description,
            status: EndpointStatus::parse("status", &r.status)?,
            disabled_reason: r.disabled_reason,
            disabled_at: opt_dt(r.disabled_at)?,
            consecutive_failures: u32::try_from(r.consecutive_failures.max(0)).unwrap_or(u32::MAX),
            secret_sealed: r.secret_sealed,
            previous_secret_sealed: r.previous_secret_sealed,
            previous_secret_expires_at: opt_dt(r.previous_secret_expires_at)?,
            metadata: metadata_from(&r.metadata)?,
            created_at: dt(r.created_at)?,
            updated_at: dt(r.updated_at)?,
        })
    }
}

/// `customer_id` is the owner bound as `$1`/`$2` (`''`: the operator's).
const OWNED_BY_1: &str = "(customer_id = $1 OR ($1 = '' AND customer_id IS NULL))";
const OWNED_BY_2: &str = "(customer_id = $2 OR ($2 = '' AND customer_id IS NULL))";

const COLUMNS: &str = "id, customer_id, url, enabled_events, description, status, disabled_reason, disabled_at, \
                       consecutive_failures, secret_sealed, previous_secret_sealed, previous_secret_expires_at, \
                       metadata, created_at, updated_at";

impl Tx {
    pub async fn insert_webhook_endpoint(&mut self, e: &WebhookEndpoint) -> Result<(), StoreError> {
        on_db!(self, conn => sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO webhook_endpoints ({COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)")))
            .bind(e.id.as_str())
            .bind(e.customer_id.as_ref().map(|c| c.as_str()))
            .bind(e.url.as_str())
            .bind(events_json(&e.enabled_events))
            .bind(e.description.as_deref())
            .bind(e.status.as_str())
            .bind(e.disabled_reason.as_deref())
            .bind(e.disabled_at.map(ts))
            .bind(i64::from(e.consecutive_failures))
            .bind(&e.secret_sealed)
            .bind(e.previous_secret_sealed.as_deref())
            .bind(e.previous_secret_expires_at.map(ts))
            .bind(metadata_json(&e.metadata))
            .bind(ts(e.created_at))
            .bind(ts(e.updated_at))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Write every mutable field of `e` back.
    pub async fn update_webhook_endpoint(&mut self, e: &WebhookEndpoint) -> Result<(), StoreError> {
        let n = on_db!(self, conn => sqlx::query(
            "UPDATE webhook_endpoints SET url = $2, enabled_events = $3, description = $4, status = $5, \
             disabled_reason = $6, disabled_at = $7, consecutive_failures = $8, secret_sealed = $9, \
             previous_secret_sealed = $10, previous_secret_expires_at = $11, metadata = $12, updated_at = $13 \
             WHERE id = $1")
            .bind(e.id.as_str())
            .bind(e.url.as_str())
            .bind(events_json(&e.enabled_events))
            .bind(e.description.as_deref())
            .bind(e.status.as_str())
            .bind(e.disabled_reason.as_deref())
            .bind(e.disabled_at.map(ts))
            .bind(i64::from(e.consecutive_failures))
            .bind(&e.secret_sealed)
            .bind(e.previous_secret_sealed.as_deref())
            .bind(e.previous_secret_expires_at.map(ts))
            .bind(metadata_json(&e.metadata))
            .bind(ts(e.updated_at))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// An endpoint, if `customer` (when given) owns it.
    pub async fn get_webhook_endpoint(
        &mut self,
        customer: Option<&CustomerId>,
        id: &WebhookEndpointId,
    ) -> Result<WebhookEndpoint, StoreError> {
        let row: EndpointRow = on_db!(self, conn => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM webhook_endpoints WHERE id = $1 AND ($2 = '' OR customer_id = $2)")))
            .bind(id.as_str())
            .bind(customer.map(|c| c.as_str()).unwrap_or(""))
            .fetch_one(conn)
            .await)?;
        row.try_into()
    }

    /// The endpoints with these ids (any owner's; missing ids — deleted
    /// endpoints — are skipped), in one statement.
    pub async fn webhook_endpoints_by_ids(
        &mut self,
        ids: &[WebhookEndpointId],
    ) -> Result<Vec<WebhookEndpoint>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<&str> = ids.iter().map(WebhookEndpointId::as_str).collect();
        let rows: Vec<EndpointRow> = match self {
            Tx::Postgres(t, ..) => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {COLUMNS} FROM webhook_endpoints WHERE id = ANY($1::text[])"
                )))
                .bind(list)
                .fetch_all(&mut **t)
                .await?
            }
            Tx::Sqlite(t, ..) => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {COLUMNS} FROM webhook_endpoints WHERE id IN (SELECT value FROM json_each($1))"
                )))
                .bind(serde_json::Value::from(list).to_string())
                .fetch_all(&mut **t)
                .await?
            }
        };
        rows.into_iter().map(WebhookEndpoint::try_from).collect()
    }

    /// An endpoint, if `owner` (a customer, or `None`: the operator) owns it.
    pub async fn get_owned_webhook_endpoint(
        &mut self,
        owner: Option<&CustomerId>,
        id: &WebhookEndpointId,
    ) -> Result<WebhookEndpoint, StoreError> {
        let row: EndpointRow = on_db!(self, conn => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM webhook_endpoints WHERE id = $1 AND {OWNED_BY_2}")))
            .bind(id.as_str())
            .bind(owner.map(|c| c.as_str()).unwrap_or(""))
            .fetch_one(conn)
            .await)?;
        row.try_into()
    }

    /// An owner's endpoints (a customer's, or `None`: the operator's), newest first.
    pub async fn list_webhook_endpoints(
        &mut self,
        owner: Option<&CustomerId>,
        status: Option<EndpointStatus>,
        q: &ListQuery,
    ) -> Result<Page<WebhookEndpoint>, StoreError> {
        let rows: Vec<EndpointRow> = on_db!(self, conn => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM webhook_endpoints WHERE {OWNED_BY_1} AND ($2 = '' OR id < $2) \
             AND ($3 = '' OR status = $3) ORDER BY id DESC LIMIT $4")))
            .bind(owner.map(|c| c.as_str()).unwrap_or(""))
            .bind(&q.starting_after)
            .bind(status.map(|s| s.as_str()).unwrap_or(""))
            .bind(q.fetch())
            .fetch_all(conn)
            .await)?;
        let rows = rows
            .into_iter()
            .map(WebhookEndpoint::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_rows(rows, q))
    }

    /// Delete an endpoint with its deliveries and their attempts.
    pub async fn delete_webhook_endpoint(
        &mut self,
        owner: Option<&CustomerId>,
        id: &WebhookEndpointId,
    ) -> Result<(), StoreError> {
        let n = on_db!(self, conn => sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM webhook_endpoints WHERE id = $1 AND {OWNED_BY_2}")))
            .bind(id.as_str())
            .bind(owner.map(|c| c.as_str()).unwrap_or(""))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// The enabled endpoints of `owner` (a customer, or `None`: the
    /// operator) that subscribe to `event_type`.
    pub async fn endpoints_subscribed(
        &mut self,
        owner: Option<&CustomerId>,
        event_type: &str,
    ) -> Result<Vec<WebhookEndpointId>, StoreError> {
        let rows: Vec<(String, String)> = on_db!(self, conn => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT id, enabled_events FROM webhook_endpoints WHERE {OWNED_BY_1} AND status = 'enabled' ORDER BY id")))
            .bind(owner.map(|c| c.as_str()).unwrap_or(""))
            .fetch_all(conn)
            .await)?;
        let mut out = Vec::new();
        for (id, events) in rows {
            if events_from(&events)?.matches(event_type) {
                out.push(WebhookEndpointId::from_trusted(id));
            }
        }
        Ok(out)
    }

    /// After deliveries succeeded: these endpoints' runs of failures are
    /// over (one statement; endpoints already at 0 are not written).
    pub async fn reset_endpoint_failures(
        &mut self,
        ids: &[WebhookEndpointId],
    ) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let list: Vec<&str> = ids.iter().map(WebhookEndpointId::as_str).collect();
        match self {
            Tx::Postgres(t, ..) => {
                sqlx::query(
                    "UPDATE webhook_endpoints SET consecutive_failures = 0 \
                     WHERE id = ANY($1::text[]) AND consecutive_failures <> 0",
                )
                .bind(list)
                .execute(&mut **t)
                .await?;
            }
            Tx::Sqlite(t, ..) => {
                sqlx::query(
                    "UPDATE webhook_endpoints SET consecutive_failures = 0 \
                     WHERE id IN (SELECT value FROM json_each($1)) AND consecutive_failures <> 0",
                )
                .bind(serde_json::Value::from(list).to_string())
                .execute(&mut **t)
                .await?;
            }
        }
        Ok(())
    }

    /// After `n` deliveries failed for good: `n` more in the run. Returns
    /// the new count (0 if the endpoint is gone).
    pub async fn count_endpoint_failures(
        &mut self,
        id: &WebhookEndpointId,
        n: u32,
    ) -> Result<u32, StoreError> {
        let n: Option<i64> = on_db!(self, conn => sqlx::query_scalar(
            "UPDATE webhook_endpoints SET consecutive_failures = consecutive_failures + $2 WHERE id = $1 \
             RETURNING consecutive_failures")
            .bind(id.as_str())
            .bind(i64::from(n))
            .fetch_optional(conn)
            .await)?;
        Ok(n.map(|n| u32::try_from(n.max(0)).unwrap_or(u32::MAX))
            .unwrap_or(0))
    }

    /// Disable `id` if it is enabled; `true` if this call disabled it.
    pub async fn disable_webhook_endpoint(
        &mut self,
        id: &WebhookEndpointId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let n = on_db!(self, conn => sqlx::query(
            "UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = $2, disabled_at = $3, updated_at = $3 \
             WHERE id = $1 AND status = 'enabled'")
            .bind(id.as_str())
            .bind(reason)
            .bind(ts(now))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }
}
