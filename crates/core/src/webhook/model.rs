//! The webhook endpoint as the domain sees it, and the status vocabularies
//! of endpoints and deliveries.

use chrono::{DateTime, Utc};

use crate::bank::string_enum;
use crate::ids::{CustomerId, WebhookEndpointId};
use crate::model::Metadata;
use crate::webhook::{EventSelector, WebhookUrl};

string_enum!(
    /// `disabled` endpoints receive nothing until enabled again.
    EndpointStatus, "endpoint status" { Enabled => "enabled", Disabled => "disabled" });
string_enum!(
    /// `pending` until an attempt gets a 2xx (`succeeded`) or the retry
    /// window closes (`failed`).
    DeliveryStatus, "delivery status" { Pending => "pending", Succeeded => "succeeded", Failed => "failed" });

/// A URL a customer — or, without a customer, the operator — receives events at.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEndpoint {
    pub id: WebhookEndpointId,
    /// The owner; `None`: the operator (operator events and alerts).
    pub customer_id: Option<CustomerId>,
    pub url: WebhookUrl,
    pub enabled_events: EventSelector,
    pub description: Option<String>,
    pub status: EndpointStatus,
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<DateTime<Utc>>,
    /// Deliveries in a row that failed for good (all retries spent).
    pub consecutive_failures: u32,
    /// The signing secret, sealed with the endpoint id as associated data.
    pub secret_sealed: Vec<u8>,
    /// The secret before the last rotation, still signing until it expires.
    pub previous_secret_sealed: Option<Vec<u8>>,
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub metadata: Metadata,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl WebhookEndpoint {
    /// Is the rotated-out secret still signing at `now`?
    pub fn previous_secret_active(&self, now: DateTime<Utc>) -> Option<&[u8]> {
        match (
            &self.previous_secret_sealed,
            self.previous_secret_expires_at,
        ) {
            (Some(s), Some(until)) if until > now => Some(s),
            _ => None,
        }
    }
}
