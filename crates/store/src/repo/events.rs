//! Domain events: the outbox the webhook dispatcher delivers from. An event
//! is written in the same transaction as the change it describes.
//!
//! Fan-out happens here too: [`Tx::insert_event`] creates one pending
//! webhook delivery for each enabled endpoint of the event's customer that
//! subscribes to its type — for an operator event (no customer), each of
//! the operator's endpoints ([`Tx::recipients`]) — in the same transaction. An event therefore
//! never commits without its deliveries, and no cursor over the events
//! table is needed (which on PostgreSQL could skip an event whose
//! transaction committed after a later one: ids are assigned before commit).

use chrono::{DateTime, Utc};
use inflow_core::ids::{CustomerId, EventId, WebhookDeliveryId, WebhookEndpointId};
use inflow_core::webhook::OPERATOR_ALERTS_ABOUT_CUSTOMERS;

use crate::codec::{dt, ts};
use crate::repo::webhook_deliveries::NewDelivery;
use crate::{on_db, ListQuery, Page, StoreError, Tx};

/// Filters for listing events.
#[derive(Debug, Default, Clone)]
pub struct EventFilter {
    /// Exact type, or `resource.*`.
    pub event_type: Option<String>,
    pub object_id: Option<String>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, customer_id, type, object_id, data, created_at";

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
        self.observed()
            .push(crate::observe::CommittedEvent::of(&e.event_type, &e.data));
        for endpoint in self
            .recipients(e.customer_id.as_ref(), &e.event_type)
            .await?
        {
            self.insert_delivery(&NewDelivery {
                id: WebhookDeliveryId::generate(e.created_at),
                event_id: e.id.clone(),
                endpoint_id: endpoint,
                object_id: e.object_id.clone(),
                event_type: e.event_type.clone(),
                due_at: e.created_at,
            })
            .await?;
        }
        Ok(())
    }

    async fn insert_events_json(&mut self, chunk: &[Event]) -> Result<(), StoreError> {
        let rows_source = crate::repo::ach_work::json_rows_source(self, "$1");
        let sql = format!(
            "INSERT INTO events (id, customer_id, type, object_id, data, created_at) \
             SELECT j.value->>'id', j.value->>'customer_id', j.value->>'type', j.value->>'object_id', \
             j.value->>'data', CAST(j.value->>'created_at' AS BIGINT) FROM {rows_source}"
        );
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
        Ok(())
    }

    /// Insert many events, a few thousand per statement — on PostgreSQL as
    /// one array per column (`UNNEST`: nothing for the server to parse), on
    /// SQLite as one JSON array — with their webhook deliveries as
    /// [`Tx::insert_event`] makes them.
    pub async fn insert_events(&mut self, events: &[Event]) -> Result<(), StoreError> {
        const CHUNK: usize = 2_000;
        for chunk in events.chunks(CHUNK) {
            match self {
                Tx::Postgres(t, ..) => {
                    let data: Vec<String> = chunk.iter().map(|e| e.data.to_string()).collect();
                    sqlx::query(
                        "INSERT INTO events (id, customer_id, type, object_id, data, created_at) \
                         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], \
                         $6::bigint[])",
                    )
                    .bind(chunk.iter().map(|e| e.id.as_str()).collect::<Vec<_>>())
                    .bind(
                        chunk
                            .iter()
                            .map(|e| e.customer_id.as_ref().map(|c| c.as_str()))
                            .collect::<Vec<_>>(),
                    )
                    .bind(chunk.iter().map(|e| e.event_type.as_str()).collect::<Vec<_>>())
                    .bind(chunk.iter().map(|e| e.object_id.as_str()).collect::<Vec<_>>())
                    .bind(data)
                    .bind(chunk.iter().map(|e| ts(e.created_at)).collect::<Vec<_>>())
                    .execute(&mut **t)
                    .await?;
                }
                Tx::Sqlite(..) => self.insert_events_json(chunk).await?,
            }
        }
        // Runs of alike events are recorded once (a bulk write's events
        // are mostly alike), so a large write keeps little here.
        let runs = crate::observe::CommittedEvent::runs(
            events
                .iter()
                .map(|e| crate::observe::CommittedEvent::of(&e.event_type, &e.data)),
        );
        self.observed().extend(runs);
        let mut subscribed: std::collections::HashMap<(Option<CustomerId>, String), Vec<_>> =
            std::collections::HashMap::new();
        for e in events {
            let key = (e.customer_id.clone(), e.event_type.clone());
            if !subscribed.contains_key(&key) {
                let endpoints = self
                    .recipients(e.customer_id.as_ref(), &e.event_type)
                    .await?;
                subscribed.insert(key.clone(), endpoints);
            }
            for endpoint in subscribed.get(&key).cloned().unwrap_or_default() {
                self.insert_delivery(&NewDelivery {
                    id: WebhookDeliveryId::generate(e.created_at),
                    event_id: e.id.clone(),
                    endpoint_id: endpoint,
                    object_id: e.object_id.clone(),
                    event_type: e.event_type.clone(),
                    due_at: e.created_at,
                })
                .await?;
            }
        }
        Ok(())
    }

    /// The endpoints an event of `customer` (`None`: an operator event) and
    /// `event_type` goes to: the customer's subscribed endpoints; the
    /// operator's for operator events and for the alerts about a customer's
    /// objects the operator must hear of too
    /// ([`OPERATOR_ALERTS_ABOUT_CUSTOMERS`]).
    pub async fn recipients(
        &mut self,
        customer: Option<&CustomerId>,
        event_type: &str,
    ) -> Result<Vec<WebhookEndpointId>, StoreError> {
        let mut out = Vec::new();
        if let Some(c) = customer {
            out = self.endpoints_subscribed(Some(c), event_type).await?;
        }
        if customer.is_none() || OPERATOR_ALERTS_ABOUT_CUSTOMERS.contains(&event_type) {
            out.extend(self.endpoints_subscribed(None, event_type).await?);
        }
        Ok(out)
    }

    /// One event, if `customer` (when given) owns it.
    pub async fn get_event(
        &mut self,
        customer: Option<&CustomerId>,
        id: &EventId,
    ) -> Result<Event, StoreError> {
        let row: EventRow = on_db!(self, conn => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM events WHERE id = $1 AND ($2 = '' OR customer_id = $2)")))
            .bind(id.as_str())
            .bind(customer.map(|c| c.as_str()).unwrap_or(""))
            .fetch_one(conn)
            .await)?;
        row.try_into()
    }

    /// The events with these ids (any customer's; missing ids are skipped),
    /// in one statement: the webhook dispatcher loads a claimed batch's
    /// events at once.
    pub async fn events_by_ids(&mut self, ids: &[EventId]) -> Result<Vec<Event>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<&str> = ids.iter().map(EventId::as_str).collect();
        let rows: Vec<EventRow> = match self {
            Tx::Postgres(t, ..) => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {COLUMNS} FROM events WHERE id = ANY($1::text[])"
                )))
                .bind(list)
                .fetch_all(&mut **t)
                .await?
            }
            Tx::Sqlite(t, ..) => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {COLUMNS} FROM events WHERE id IN (SELECT value FROM json_each($1))"
                )))
                .bind(serde_json::Value::from(list).to_string())
                .fetch_all(&mut **t)
                .await?
            }
        };
        rows.into_iter().map(Event::try_from).collect()
    }

    /// Events newest first; `customer` `None` lists every customer's (operator).
    pub async fn list_events(
        &mut self,
        customer: Option<&CustomerId>,
        f: &EventFilter,
        q: &ListQuery,
    ) -> Result<Page<Event>, StoreError> {
        let (exact, prefix) = match f.event_type.as_deref() {
            Some(t) => match t.strip_suffix('*') {
                Some(p) => (String::new(), p.to_owned()),
                None => (t.to_owned(), String::new()),
            },
            None => (String::new(), String::new()),
        };
        let rows: Vec<EventRow> = on_db!(self, conn => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM events WHERE ($1 = '' OR customer_id = $1) AND ($2 = '' OR id < $2) \
             AND ($3 = '' OR type = $3) AND ($4 = '' OR substr(type, 1, length($4)) = $4) \
             AND ($5 = '' OR object_id = $5) AND created_at >= $6 AND created_at <= $7 \
             ORDER BY id DESC LIMIT $8")))
            .bind(customer.map(|c| c.as_str()).unwrap_or(""))
            .bind(&q.starting_after)
            .bind(exact)
            .bind(prefix)
            .bind(f.object_id.as_deref().unwrap_or(""))
            .bind(f.created_from.map(ts).unwrap_or(i64::MIN))
            .bind(f.created_to.map(ts).unwrap_or(i64::MAX))
            .bind(q.fetch())
            .fetch_all(conn)
            .await)?;
        let rows = rows
            .into_iter()
            .map(Event::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_rows(rows, q))
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
