//! The audit trail: one append-only row per state-changing action (who,
//! what, when, from where, before and after). Rows are only ever inserted —
//! triggers on both backends refuse `UPDATE` and `DELETE` — and they are
//! written in the transaction of the change they describe, so a record
//! exists if and only if the change committed.

use chrono::{DateTime, Utc};
use inflow_core::ids::AuditEventId;

use crate::codec::{dt, ts};
use crate::{on_db, ListQuery, Page, StoreError, Tx};

/// One audit record. `before`/`after` are already masked by the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub id: AuditEventId,
    /// `api_key`, `console`, `cli`, `startup` or `system`.
    pub actor_type: String,
    /// The API key id when `actor_type` is `api_key` or `console`.
    pub actor_id: Option<String>,
    /// The customer the action was taken for, if any.
    pub customer_id: Option<String>,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub request_id: Option<String>,
    pub client_ip: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    /// Wall-clock time of the action.
    pub created_at: DateTime<Utc>,
    /// The business clock then (differs from `created_at` in the sandbox).
    pub business_time: DateTime<Utc>,
}

/// Filters for listing audit records.
#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub actor_id: Option<String>,
    pub action: Option<String>,
    pub object_id: Option<String>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
}

const COLUMNS: &str =
    "id, actor_type, actor_id, customer_id, action, object_type, object_id, request_id, \
                       client_ip, before_state, after_state, created_at, business_time";

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: String,
    actor_type: String,
    actor_id: Option<String>,
    customer_id: Option<String>,
    action: String,
    object_type: String,
    object_id: String,
    request_id: Option<String>,
    client_ip: Option<String>,
    before_state: Option<String>,
    after_state: Option<String>,
    created_at: i64,
    business_time: i64,
}

fn json(field: &str, s: Option<String>) -> Result<Option<serde_json::Value>, StoreError> {
    s.map(|s| {
        serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(format!("audit {field}: {e}")))
    })
    .transpose()
}

impl TryFrom<AuditRow> for AuditEvent {
    type Error = StoreError;
    fn try_from(r: AuditRow) -> Result<Self, StoreError> {
        Ok(AuditEvent {
            id: AuditEventId::from_trusted(r.id),
            actor_type: r.actor_type,
            actor_id: r.actor_id,
            customer_id: r.customer_id,
            action: r.action,
            object_type: r.object_type,
            object_id: r.object_id,
            request_id: r.request_id,
            client_ip: r.client_ip,
            before: json("before", r.before_state)?,
            after: json("after", r.after_state)?,
            created_at: dt(r.created_at)?,
            business_time: dt(r.business_time)?,
        })
    }
}

impl Tx {
    /// Append one audit record.
    pub async fn insert_audit_event(&mut self, a: &AuditEvent) -> Result<(), StoreError> {
        on_db!(self, conn => sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO audit_events ({COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)")))
            .bind(a.id.as_str())
            .bind(&a.actor_type)
            .bind(a.actor_id.as_deref())
            .bind(a.customer_id.as_deref())
            .bind(&a.action)
            .bind(&a.object_type)
            .bind(&a.object_id)
            .bind(a.request_id.as_deref())
            .bind(a.client_ip.as_deref())
            .bind(a.before.as_ref().map(|v| v.to_string()))
            .bind(a.after.as_ref().map(|v| v.to_string()))
            .bind(ts(a.created_at))
            .bind(ts(a.business_time))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Audit records newest first, filtered.
    pub async fn list_audit_events(
        &mut self,
        f: &AuditFilter,
        q: &ListQuery,
    ) -> Result<Page<AuditEvent>, StoreError> {
        let rows: Vec<AuditRow> = on_db!(self, conn => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM audit_events WHERE ($1 = '' OR id < $1) \
             AND ($2 = '' OR actor_id = $2) AND ($3 = '' OR action = $3) AND ($4 = '' OR object_id = $4) \
             AND created_at >= $5 AND created_at <= $6 ORDER BY id DESC LIMIT $7")))
            .bind(&q.starting_after)
            .bind(f.actor_id.as_deref().unwrap_or(""))
            .bind(f.action.as_deref().unwrap_or(""))
            .bind(f.object_id.as_deref().unwrap_or(""))
            .bind(f.created_from.map(ts).unwrap_or(i64::MIN))
            .bind(f.created_to.map(ts).unwrap_or(i64::MAX))
            .bind(q.fetch())
            .fetch_all(conn)
            .await)?;
        let rows = rows
            .into_iter()
            .map(AuditEvent::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_rows(rows, q))
    }
}
