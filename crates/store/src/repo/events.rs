//! Domain events: the outbox the webhook dispatcher delivers from. An event
//! is written in the same transaction as the change it describes.

use chrono::{DateTime, Utc};
use inflow_core::ids::{CustomerId, EventId};

use crate::codec::{dt, ts};
use crate::{on_db, StoreError, Tx};

/// `collection.submitted` and friends, with the resource as the API showed it then.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: EventId,
    pub customer_id: Option<CustomerId>,
    pub event_type: String,
    pub object_id: String,
    pub data: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct EventRow {
    id: String,
    customer_id: Option<String>,
    #[sqlx(rename = "type")]
    event_type: String,
    object_id: String,
    data: String,
    created_at: i64,
}

impl TryFrom<EventRow> for Event {
    type Error = StoreError;
    fn try_from(r: EventRow) -> Result<Self, StoreError> {
        Ok(Event {
            id: EventId::from_trusted(r.id),
            customer_id: r.customer_id.map(CustomerId::from_trusted),
            event_type: r.event_type,
            object_id: r.object_id,
            data: serde_json::from_str(&r.data)
                .map_err(|e| StoreError::Corrupt(format!("event data: {e}")))?,
            created_at: dt(r.created_at)?,
        })
    }
}

impl Tx {
    pub async fn insert_event(&mut self, e: &Event) -> Result<(), StoreError> {
        on_db!(self, conn => sqlx::query(
            "INSERT INTO events (id, customer_id, type, object_id, data, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(e.id.as_str())
            .bind(e.customer_id.as_ref().map(|c| c.as_str()))
            .bind(&e.event_type)
            .bind(&e.object_id)
            .bind(e.data.to_string())
            .bind(ts(e.created_at))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Insert many events, a few thousand per statement (as one JSON array).
    pub async fn insert_events(&mut self, events: &[Event]) -> Result<(), StoreError> {
        const CHUNK: usize = 2_000;
        let rows_source = crate::repo::ach_work::json_rows_source(self, "$1");
        let sql = format!(
            "INSERT INTO events (id, customer_id, type, object_id, data, created_at) \
             SELECT j.value->>'id', j.value->>'customer_id', j.value->>'type', j.value->>'object_id', \
             j.value->>'data', CAST(j.value->>'created_at' AS BIGINT) FROM {rows_source}"
        );
        for chunk in events.chunks(CHUNK) {
            let rows: Vec<serde_json::Value> = chunk
                .iter()
                .map(|e| {
                    serde_json::json!({
                        "id": e.id.as_str(),
                        "customer_id": e.customer_id.as_ref().map(|c| c.as_str()),
                        "type": e.event_type,
                        "object_id": e.object_id,
                        "data": e.data.to_string(),
                        "created_at": ts(e.created_at),
                    })
                })
                .collect();
            let payload = serde_json::Value::Array(rows).to_string();
            on_db!(self, conn => sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(payload)
                .execute(conn)
                .await
                .map(|r| r.rows_affected()))?;
        }
        Ok(())
    }

    /// Every event about one object, oldest first.
    pub async fn events_for_object(&mut self, object_id: &str) -> Result<Vec<Event>, StoreError> {
        let rows: Vec<EventRow> = on_db!(self, conn => sqlx::query_as(
            "SELECT id, customer_id, type, object_id, data, created_at FROM events WHERE object_id = $1 ORDER BY id")
            .bind(object_id)
            .fetch_all(conn)
            .await)?;
        rows.into_iter().map(Event::try_from).collect()
    }
}
