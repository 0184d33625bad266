//! The event and webhook-endpoint resources as integrators see them: in API
//! responses, and (for events) as the body of every delivery. One rendering,
//! so a webhook and `GET /v1/events/{id}` never disagree.

use chrono::{DateTime, SecondsFormat, Utc};
use inflow_core::model::Metadata;
use inflow_core::webhook::{EndpointStatus, WebhookEndpoint};
use inflow_store::repo::events::Event;
use serde::Serialize;
use utoipa::ToSchema;

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Something that happened, with the object as it was then.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventView {
    #[schema(example = "evt_0192f1c4a1b27c3d8e9f00112233aabb")]
    pub id: String,
    /// Always `event`.
    pub object: &'static str,
    /// E.g. `collection.completed`.
    #[serde(rename = "type")]
    pub event_type: String,
    pub customer_id: Option<String>,
    pub created_at: String,
    /// `{"object": …}`: the resource as the API showed it at that moment.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

pub fn event_view(e: &Event) -> EventView {
    EventView {
        id: e.id.to_string(),
        object: "event",
        event_type: e.event_type.clone(),
        customer_id: e.customer_id.as_ref().map(|c| c.to_string()),
        created_at: time(e.created_at),
        data: e.data.clone(),
    }
}

/// A URL that receives a customer's events. The signing secret is never
/// shown here, only once when it is created or rotated.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEndpointView {
    #[schema(example = "we_0192f1c4a1b27c3d8e9f00112233aabb")]
    pub id: String,
    /// Always `webhook_endpoint`.
    pub object: &'static str,
    /// The customer it belongs to; `null`: the operator's (operator events and alerts).
    pub customer_id: Option<String>,
    pub url: String,
    /// Exact event types, `resource.*` wildcards, or `*`.
    pub enabled_events: Vec<String>,
    pub description: Option<String>,
    pub status: EndpointStatus,
    /// Why it is disabled (by the customer, or after a run of failed deliveries).
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<String>,
    /// Deliveries in a row that failed for good (all retries spent).
    pub consecutive_failures: u32,
    /// While set, deliveries are also signed with the secret replaced by the
    /// last rotation, until this time.
    pub previous_secret_expires_at: Option<String>,
    #[schema(value_type = Object)]
    pub metadata: Metadata,
    pub created_at: String,
    pub updated_at: String,
}

/// The endpoint as shown at `now` (a rotated-out secret that has expired is not mentioned).
pub fn endpoint_view(e: &WebhookEndpoint, now: DateTime<Utc>) -> WebhookEndpointView {
    WebhookEndpointView {
        id: e.id.to_string(),
        object: "webhook_endpoint",
        customer_id: e.customer_id.as_ref().map(|c| c.to_string()),
        url: e.url.to_string(),
        enabled_events: e.enabled_events.items().to_vec(),
        description: e.description.clone(),
        status: e.status,
        disabled_reason: e.disabled_reason.clone(),
        disabled_at: e.disabled_at.map(time),
        consecutive_failures: e.consecutive_failures,
        previous_secret_expires_at: e
            .previous_secret_active(now)
            .and(e.previous_secret_expires_at)
            .map(time),
        metadata: e.metadata.clone(),
        created_at: time(e.created_at),
        updated_at: time(e.updated_at),
    }
}
