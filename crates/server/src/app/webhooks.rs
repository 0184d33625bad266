//! Webhook use cases: creating an endpoint (with a secret shown once),
//! changing it, rotating its secret with an overlap, and redelivering an
//! event. They run inside the caller's transaction, and each change is
//! recorded in the audit trail there.
//!
//! An endpoint's owner is a customer, or `None`: the operator, whose
//! endpoints receive operator events and alerts (an operator key acting
//! for no customer manages them).

use chrono::{DateTime, Duration, Utc};
use inflow_core::crypto::Vault;
use inflow_core::ids::{CustomerId, EventId, WebhookDeliveryId, WebhookEndpointId};
use inflow_core::model::{validate_metadata, Metadata};
use inflow_core::text::bounded_text;
use inflow_core::webhook::signature::generate_webhook_secret;
use inflow_core::webhook::{EndpointStatus, EventSelector, WebhookEndpoint, WebhookUrl};
use inflow_core::ValidationError;
use inflow_engine::audit::AuditContext;
use inflow_engine::webhooks::view::endpoint_view;
use inflow_store::repo::webhook_deliveries::{Delivery, NewDelivery};
use inflow_store::Tx;

use crate::error::{ApiError, ApiResult};

/// The most endpoints one customer may have.
pub const MAX_ENDPOINTS_PER_CUSTOMER: usize = 20;
/// How long a rotated-out secret keeps signing unless the request says otherwise.
pub const DEFAULT_ROTATION_OVERLAP_HOURS: u32 = 24;
/// The longest overlap a rotation may ask for.
pub const MAX_ROTATION_OVERLAP_HOURS: u32 = 7 * 24;

/// Validated input for a new endpoint.
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    pub url: WebhookUrl,
    pub enabled_events: EventSelector,
    pub description: Option<String>,
    pub metadata: Metadata,
}

/// Validated changes to an endpoint (`None`: unchanged).
#[derive(Debug, Clone, Default)]
pub struct EndpointChanges {
    pub url: Option<WebhookUrl>,
    pub enabled_events: Option<EventSelector>,
    /// `Some(None)` clears the description.
    pub description: Option<Option<String>>,
    pub status: Option<EndpointStatus>,
    pub metadata: Option<Metadata>,
}

pub fn description(field: &str, s: &str) -> Result<Option<String>, ValidationError> {
    if s.trim().is_empty() {
        return Ok(None);
    }
    bounded_text(field, s, 1, 500).map(Some)
}

pub fn metadata(field: &str, m: Metadata) -> Result<Metadata, ValidationError> {
    validate_metadata(field, &m)?;
    Ok(m)
}

/// Create an endpoint; returns it with its signing secret (shown only now).
pub async fn create_endpoint(
    tx: &mut Tx,
    vault: &Vault,
    customer: Option<&CustomerId>,
    new: NewEndpoint,
    audit: &AuditContext,
    now: DateTime<Utc>,
) -> ApiResult<(WebhookEndpoint, String)> {
    let existing = tx
        .list_webhook_endpoints(
            customer,
            None,
            &inflow_store::ListQuery::first(MAX_ENDPOINTS_PER_CUSTOMER as u32),
        )
        .await?;
    if existing.has_more || existing.data.len() >= MAX_ENDPOINTS_PER_CUSTOMER {
        return Err(ApiError::conflict(
            "too_many_endpoints",
            format!("a customer may have at most {MAX_ENDPOINTS_PER_CUSTOMER} webhook endpoints; delete one first"),
        ));
    }
    let id = WebhookEndpointId::generate(now);
    let secret = generate_webhook_secret();
    let endpoint = WebhookEndpoint {
        secret_sealed: vault.seal(secret.as_bytes(), id.as_str()),
        id,
        customer_id: customer.cloned(),
        url: new.url,
        enabled_events: new.enabled_events,
        description: new.description,
        status: EndpointStatus::Enabled,
        disabled_reason: None,
        disabled_at: None,
        consecutive_failures: 0,
        previous_secret_sealed: None,
        previous_secret_expires_at: None,
        metadata: new.metadata,
        created_at: now,
        updated_at: now,
    };
    tx.insert_webhook_endpoint(&endpoint).await?;
    audit
        .change(
            "webhook_endpoint.created",
            "webhook_endpoint",
            endpoint.id.as_str(),
        )
        .after(&endpoint_view(&endpoint, now))
        .record(tx, now)
        .await?;
    Ok((endpoint, secret))
}

async fn owned(
    tx: &mut Tx,
    customer: Option<&CustomerId>,
    id: &WebhookEndpointId,
) -> ApiResult<WebhookEndpoint> {
    tx.get_owned_webhook_endpoint(customer, id)
        .await
        .map_err(|e| match e {
            inflow_store::StoreError::NotFound => ApiError::not_found("webhook endpoint"),
            other => other.into(),
        })
}

/// Apply `changes`. Enabling a disabled endpoint clears its failure run and
/// makes its pending deliveries due at once, with a fresh retry window.
pub async fn update_endpoint(
    tx: &mut Tx,
    customer: Option<&CustomerId>,
    id: &WebhookEndpointId,
    changes: EndpointChanges,
    audit: &AuditContext,
    now: DateTime<Utc>,
) -> ApiResult<WebhookEndpoint> {
    let mut e = owned(tx, customer, id).await?;
    let before = endpoint_view(&e, now);
    if let Some(url) = changes.url {
        e.url = url;
    }
    if let Some(events) = changes.enabled_events {
        e.enabled_events = events;
    }
    if let Some(d) = changes.description {
        e.description = d;
    }
    if let Some(m) = changes.metadata {
        e.metadata = m;
    }
    let mut reopen = false;
    match changes.status {
        Some(EndpointStatus::Enabled) if e.status == EndpointStatus::Disabled => {
            e.status = EndpointStatus::Enabled;
            e.disabled_reason = None;
            e.disabled_at = None;
            e.consecutive_failures = 0;
            reopen = true;
        }
        Some(EndpointStatus::Disabled) if e.status == EndpointStatus::Enabled => {
            e.status = EndpointStatus::Disabled;
            e.disabled_reason = Some("disabled by the customer".into());
            e.disabled_at = Some(now);
        }
        _ => {}
    }
    e.updated_at = now;
    tx.update_webhook_endpoint(&e).await?;
    if reopen {
        tx.reopen_pending_deliveries(&e.id, now).await?;
    }
    audit
        .change(
            "webhook_endpoint.updated",
            "webhook_endpoint",
            e.id.as_str(),
        )
        .before(&before)
        .after(&endpoint_view(&e, now))
        .record(tx, now)
        .await?;
    Ok(e)
}

/// A new secret; the current one keeps signing beside it for `overlap_hours`.
pub async fn rotate_secret(
    tx: &mut Tx,
    vault: &Vault,
    customer: Option<&CustomerId>,
    id: &WebhookEndpointId,
    overlap_hours: u32,
    audit: &AuditContext,
    now: DateTime<Utc>,
) -> ApiResult<(WebhookEndpoint, String)> {
    let mut e = owned(tx, customer, id).await?;
    let secret = generate_webhook_secret();
    let old = std::mem::replace(
        &mut e.secret_sealed,
        vault.seal(secret.as_bytes(), e.id.as_str()),
    );
    if overlap_hours > 0 {
        e.previous_secret_sealed = Some(old);
        e.previous_secret_expires_at = Some(now + Duration::hours(i64::from(overlap_hours)));
    } else {
        e.previous_secret_sealed = None;
        e.previous_secret_expires_at = None;
    }
    e.updated_at = now;
    tx.update_webhook_endpoint(&e).await?;
    audit
        .change(
            "webhook_endpoint.secret_rotated",
            "webhook_endpoint",
            e.id.as_str(),
        )
        .after(&endpoint_view(&e, now))
        .record(tx, now)
        .await?;
    Ok((e, secret))
}

pub async fn delete_endpoint(
    tx: &mut Tx,
    customer: Option<&CustomerId>,
    id: &WebhookEndpointId,
    audit: &AuditContext,
    now: DateTime<Utc>,
) -> ApiResult<WebhookEndpoint> {
    let e = owned(tx, customer, id).await?;
    tx.delete_webhook_endpoint(customer, id).await?;
    audit
        .change(
            "webhook_endpoint.deleted",
            "webhook_endpoint",
            e.id.as_str(),
        )
        .before(&endpoint_view(&e, now))
        .record(tx, now)
        .await?;
    Ok(e)
}

/// Queue `event` again: to `endpoint` if named (it must be enabled), else
/// to every enabled endpoint subscribed to its type. `customer` `None` is
/// the operator acting for nobody in particular.
pub async fn redeliver(
    tx: &mut Tx,
    customer: Option<&CustomerId>,
    event: &EventId,
    endpoint: Option<WebhookEndpointId>,
    now: DateTime<Utc>,
) -> ApiResult<Vec<Delivery>> {
    let event = tx.get_event(customer, event).await.map_err(|e| match e {
        inflow_store::StoreError::NotFound => ApiError::not_found("event"),
        other => other.into(),
    })?;
    // The event's customer's endpoints; the operator's for operator events
    // and alerts (named only by an operator key acting for nobody).
    let owner = event.customer_id.clone();
    let targets = match endpoint {
        Some(id) => {
            let mut found = owned(tx, owner.as_ref(), &id).await;
            if found.is_err() && owner.is_some() && customer.is_none() {
                found = owned(tx, None, &id).await;
            }
            let e = found.map_err(|e| e.with_param("endpointId"))?;
            if e.status != EndpointStatus::Enabled {
                return Err(ApiError::conflict(
                    "endpoint_disabled",
                    "the webhook endpoint is disabled; enable it first (PATCH status=enabled)",
                )
                .with_param("endpointId"));
            }
            vec![e.id]
        }
        None => tx.recipients(owner.as_ref(), &event.event_type).await?,
    };
    if targets.is_empty() {
        return Err(ApiError::conflict(
            "no_matching_endpoints",
            format!(
                "no enabled webhook endpoint subscribes to {}; name one with endpointId",
                event.event_type
            ),
        ));
    }
    let mut ids = Vec::with_capacity(targets.len());
    for endpoint_id in targets {
        let id = WebhookDeliveryId::generate(now);
        tx.insert_delivery(&NewDelivery {
            id: id.clone(),
            event_id: event.id.clone(),
            endpoint_id,
            object_id: event.object_id.clone(),
            event_type: event.event_type.clone(),
            due_at: now,
        })
        .await?;
        ids.push(id);
    }
    let all = tx.deliveries_for_event(&event.id).await?;
    Ok(all.into_iter().filter(|d| ids.contains(&d.id)).collect())
}
