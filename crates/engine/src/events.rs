//! Writing events. Call inside the transaction that makes the change, so the
//! change and its event commit together (the outbox pattern).

use chrono::{DateTime, Utc};
use inflow_core::collection::AchCollection;
use inflow_core::ids::EventId;
use inflow_core::model::BankPaymentMethod;
use inflow_store::repo::events::Event;
use inflow_store::{StoreError, Tx};

use crate::view::{collection_view, payment_method_view};

/// The event `event_type` about `c` as it is now (not yet stored).
pub fn collection_event_row(event_type: &str, c: &AchCollection, at: DateTime<Utc>) -> Event {
    Event {
        id: EventId::generate(at),
        customer_id: Some(c.customer_id.clone()),
        event_type: event_type.to_owned(),
        object_id: c.id.to_string(),
        data: serde_json::json!({ "object": collection_view(c) }),
        created_at: at,
    }
}

/// `collection.<status>` for the collection's current status (not yet stored).
pub fn status_event_row(c: &AchCollection, at: DateTime<Utc>) -> Event {
    collection_event_row(&format!("collection.{}", c.status.as_str()), c, at)
}

/// Record `collection.<status>` (or another `event_type`) with the collection as it is now.
pub async fn collection_event(
    tx: &mut Tx,
    event_type: &str,
    c: &AchCollection,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.insert_event(&collection_event_row(event_type, c, at))
        .await
}

/// `collection.<status>` for the collection's current status.
pub async fn status_event(
    tx: &mut Tx,
    c: &AchCollection,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.insert_event(&status_event_row(c, at)).await
}

/// `payment_method.updated` with the payment method as it is now.
pub async fn payment_method_event(
    tx: &mut Tx,
    p: &BankPaymentMethod,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.insert_event(&Event {
        id: EventId::generate(at),
        customer_id: Some(p.customer_id.clone()),
        event_type: "payment_method.updated".into(),
        object_id: p.id.to_string(),
        data: serde_json::json!({ "object": payment_method_view(p) }),
        created_at: at,
    })
    .await
}

/// `collection.<status>` for a card collection's current status.
pub async fn card_status_event(
    tx: &mut Tx,
    c: &inflow_core::card::CardCollection,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.insert_event(&Event {
        id: EventId::generate(at),
        customer_id: Some(c.customer_id.clone()),
        event_type: format!("collection.{}", c.status.as_str()),
        object_id: c.id.to_string(),
        data: serde_json::json!({ "object": crate::view::card_collection_view(c) }),
        created_at: at,
    })
    .await
}

/// `refund.<created|succeeded|failed>` with the refund (and its collection)
/// as they are now: `created` when it is committed `pending`, `succeeded` or
/// `failed` when the processor has answered.
pub async fn refund_event(
    tx: &mut Tx,
    r: &inflow_core::card::CardRefund,
    c: &inflow_core::card::CardCollection,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let what = match r.status {
        inflow_core::card::RefundStatus::Pending => "created",
        inflow_core::card::RefundStatus::Succeeded => "succeeded",
        inflow_core::card::RefundStatus::Failed => "failed",
    };
    tx.insert_event(&Event {
        id: EventId::generate(at),
        customer_id: Some(r.customer_id.clone()),
        event_type: format!("refund.{what}"),
        object_id: r.id.to_string(),
        data: serde_json::json!({ "object": crate::view::refund_view(r, c) }),
        created_at: at,
    })
    .await
}
