//! Writing events. Call inside the transaction that makes the change, so the
//! change and its event commit together (the outbox pattern).

use chrono::{DateTime, Utc};
use inflow_core::collection::AchCollection;
use inflow_core::ids::EventId;
use inflow_store::repo::events::Event;
use inflow_store::{StoreError, Tx};

use crate::view::collection_view;

/// Record `collection.<status>` (or another `event_type`) with the collection as it is now.
pub async fn collection_event(
    tx: &mut Tx,
    event_type: &str,
    c: &AchCollection,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let event = Event {
        id: EventId::generate(at),
        customer_id: Some(c.customer_id.clone()),
        event_type: event_type.to_owned(),
        object_id: c.id.to_string(),
        data: serde_json::json!({ "object": collection_view(c) }),
        created_at: at,
    };
    tx.insert_event(&event).await
}

/// `collection.<status>` for the collection's current status.
pub async fn status_event(
    tx: &mut Tx,
    c: &AchCollection,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    collection_event(tx, &format!("collection.{}", c.status.as_str()), c, at).await
}
