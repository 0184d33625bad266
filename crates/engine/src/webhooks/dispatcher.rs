//! The dispatcher: claim due deliveries, send them, record the outcome.
//!
//! A pass repeats until nothing is due: claim a batch (see
//! `inflow_store::repo::webhook_deliveries` for how claims keep dispatchers
//! apart), send the batch's attempts concurrently, and record each outcome
//! in its own transaction:
//!
//! - 2xx → `succeeded`, and the endpoint's failure run is reset;
//! - anything else → retried with backoff (business clock, so sandbox time
//!   travel moves retries along), or `failed` once the retry window is
//!   spent; then the endpoint's failure run grows, and at the configured
//!   length the endpoint is disabled and `webhook_endpoint.disabled` is
//!   emitted — in the same transaction.
//!
//! Delivery is at least once: if the process dies after the receiver
//! answered but before the outcome is recorded, the claim lapses and the
//! delivery is attempted again (with the same `Inflow-Event-Id`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures_util::stream::{self, StreamExt};
use inflow_core::clock::SharedClock;
use inflow_core::crypto::Vault;
use inflow_core::ids::EventId;
use inflow_core::webhook::retry::AfterFailure;
use inflow_core::webhook::signature::signature_header;
use inflow_core::webhook::WebhookEndpoint;
use inflow_store::repo::events::Event;
use inflow_store::repo::webhook_deliveries::{Attempt, Delivery, NextStep};
use inflow_store::{Store, StoreError};
use serde::Serialize;

use super::config::DispatchConfig;
use super::sender::{Outgoing, SendOutcome, Sender};
use super::view::{endpoint_view, event_view};

/// The event type emitted when an endpoint is disabled after failures.
pub const ENDPOINT_DISABLED_EVENT: &str = "webhook_endpoint.disabled";

#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot build the webhook HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// What a pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PassReport {
    pub attempts: usize,
    pub delivered: usize,
    pub retrying: usize,
    pub failed: usize,
    pub endpoints_disabled: usize,
}

impl PassReport {
    pub fn add(&mut self, other: PassReport) {
        self.attempts += other.attempts;
        self.delivered += other.delivered;
        self.retrying += other.retrying;
        self.failed += other.failed;
        self.endpoints_disabled += other.endpoints_disabled;
    }
}

/// Delivers webhooks for one node. Cheap to share (`Arc`).
#[derive(Debug)]
pub struct Dispatcher {
    store: Store,
    vault: Arc<Vault>,
    /// Business time: when deliveries are due, retries, the retry window.
    clock: SharedClock,
    /// Real time: claims and signature timestamps (receivers check those
    /// against their own clocks, and sandbox time travel must not expire claims).
    wall: SharedClock,
    sender: Sender,
    config: DispatchConfig,
    node: String,
    claims: AtomicU64,
}

impl Dispatcher {
    pub fn new(
        store: Store,
        vault: Arc<Vault>,
        clock: SharedClock,
        wall: SharedClock,
        config: DispatchConfig,
    ) -> Result<Self, DispatchError> {
        let sender = Sender::new(config.timeout, config.allow_private_targets)?;
        Ok(Self {
            store,
            vault,
            clock,
            wall,
            sender,
            config,
            node: crate::leases::new_holder(),
            claims: AtomicU64::new(0),
        })
    }

    pub fn config(&self) -> &DispatchConfig {
        &self.config
    }

    /// Deliver whatever is due, claim after claim, until nothing is (or
    /// `max_rounds` batches were taken).
    pub async fn run_pass(&self, max_rounds: usize) -> Result<PassReport, DispatchError> {
        let mut report = PassReport::default();
        for _ in 0..max_rounds {
            let (now, wall) = (self.clock.now(), self.wall.now());
            if !self
                .store
                .read()
                .await?
                .has_due_deliveries(now, wall)
                .await?
            {
                break;
            }
            let token = format!(
                "{}#{}",
                self.node,
                self.claims.fetch_add(1, Ordering::Relaxed)
            );
            let claim_until = wall
                + chrono::Duration::from_std(self.config.claim_ttl)
                    .unwrap_or(chrono::Duration::seconds(60));
            let batch = self.config.batch.max(1);
            let t = token.clone();
            let claimed = self
                .store
                .write(move |tx| {
                    Box::pin(async move {
                        tx.claim_due_deliveries(&t, now, wall, claim_until, batch)
                            .await
                    })
                })
                .await?;
            if claimed.is_empty() {
                break;
            }
            let results: Vec<Result<PassReport, DispatchError>> = stream::iter(claimed)
                .map(|d| self.deliver(&token, d))
                .buffer_unordered(self.config.concurrency.max(1))
                .collect()
                .await;
            for r in results {
                match r {
                    Ok(r) => {
                        crate::metrics::webhook_attempts(r.delivered, r.retrying, r.failed);
                        report.add(r)
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "webhook delivery could not be recorded; it will be retried when its claim lapses")
                    }
                }
            }
        }
        Ok(report)
    }

    async fn load(&self, d: &Delivery) -> Result<Option<(Event, WebhookEndpoint)>, DispatchError> {
        let mut tx = self.store.read().await?;
        let event = tx.get_event(None, &d.event_id).await?;
        match tx.get_webhook_endpoint(None, &d.endpoint_id).await {
            Ok(endpoint) => Ok(Some((event, endpoint))),
            // Deleted meanwhile (its deliveries went with it).
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The secrets that sign now: the current one, then a rotated-out one
    /// that has not expired.
    fn secrets(&self, e: &WebhookEndpoint, now: DateTime<Utc>) -> Option<Vec<String>> {
        let open = |sealed: &[u8]| {
            self.vault
                .open(sealed, e.id.as_str())
                .ok()
                .and_then(|s| String::from_utf8(s).ok())
        };
        let mut out = vec![open(&e.secret_sealed)?];
        if let Some(prev) = e.previous_secret_active(now) {
            out.push(open(prev)?);
        }
        Some(out)
    }

    async fn deliver(&self, token: &str, d: Delivery) -> Result<PassReport, DispatchError> {
        let Some((event, endpoint)) = self.load(&d).await? else {
            return Ok(PassReport::default());
        };
        let body = serde_json::to_vec(&event_view(&event))
            .map_err(|e| StoreError::Corrupt(format!("event {}: {e}", event.id)))?;
        let attempted_at = self.clock.now();
        let timestamp = self.wall.now().timestamp();
        let (outcome, latency) = match self.secrets(&endpoint, attempted_at) {
            Some(secrets) => {
                let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
                let signature = signature_header(timestamp, &refs, &body);
                self.sender
                    .send(Outgoing {
                        url: endpoint.url.as_str(),
                        event_id: event.id.as_str(),
                        event_type: &event.event_type,
                        delivery_id: d.id.as_str(),
                        attempt: d.attempts,
                        timestamp,
                        signature: &signature,
                        body,
                    })
                    .await
            }
            None => {
                tracing::error!(endpoint = %endpoint.id, "webhook signing secret cannot be decrypted with the configured master key");
                (
                    SendOutcome::Failed {
                        status: None,
                        error: "the signing secret cannot be decrypted (operator: check the master key)".into(),
                    },
                    std::time::Duration::ZERO,
                )
            }
        };
        let now = self.clock.now();
        let (status_code, error, succeeded) = match &outcome {
            SendOutcome::Delivered { status } => (Some(*status), None, true),
            SendOutcome::Failed { status, error } => (*status, Some(error.clone()), false),
        };
        let next = if succeeded {
            NextStep::Succeeded
        } else {
            match self.config.retry.after_failure(
                d.attempts,
                now,
                d.window_start,
                rand::random::<f64>(),
            ) {
                AfterFailure::RetryAt(t) => NextStep::RetryAt(t),
                AfterFailure::GiveUp => NextStep::Failed,
            }
        };
        let event_created_at = event.created_at;
        let attempt = Attempt {
            delivery_id: d.id.clone(),
            number: d.attempts,
            attempted_at,
            status_code,
            latency_ms: u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
            error,
            succeeded,
        };
        let report = self.record(token, attempt, next, endpoint, now).await?;
        if report.delivered > 0 {
            crate::metrics::webhook_delivered_after(
                (now - event_created_at).to_std().unwrap_or_default(),
            );
        }
        Ok(report)
    }

    /// Write the attempt and its consequences in one transaction.
    async fn record(
        &self,
        token: &str,
        attempt: Attempt,
        next: NextStep,
        endpoint: WebhookEndpoint,
        now: DateTime<Utc>,
    ) -> Result<PassReport, DispatchError> {
        let token = token.to_owned();
        let threshold = self.config.disable_after_failures;
        let delivery_id = attempt.delivery_id.clone();
        let report = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    let mut r = PassReport {
                        attempts: 1,
                        ..PassReport::default()
                    };
                    if !tx.record_attempt(&token, &attempt, next).await? {
                        return Ok::<_, StoreError>(None);
                    }
                    match next {
                        NextStep::Succeeded => {
                            // Usually 0 already: skip the statement then.
                            if endpoint.consecutive_failures > 0 {
                                tx.reset_endpoint_failures(&endpoint.id).await?;
                            }
                            r.delivered = 1;
                        }
                        NextStep::RetryAt(_) => r.retrying = 1,
                        NextStep::Failed => {
                            r.failed = 1;
                            let run = tx.count_endpoint_failure(&endpoint.id).await?;
                            if threshold > 0 && run >= threshold {
                                let reason = format!(
                                    "{run} deliveries in a row failed after every retry"
                                );
                                if tx.disable_webhook_endpoint(&endpoint.id, &reason, now).await? {
                                    let disabled = tx.get_webhook_endpoint(None, &endpoint.id).await?;
                                    tx.insert_event(&Event {
                                        id: EventId::generate(now),
                                        customer_id: disabled.customer_id.clone(),
                                        event_type: ENDPOINT_DISABLED_EVENT.into(),
                                        object_id: disabled.id.to_string(),
                                        data: serde_json::json!({ "object": endpoint_view(&disabled, now) }),
                                        created_at: now,
                                    })
                                    .await?;
                                    r.endpoints_disabled = 1;
                                }
                            }
                        }
                    }
                    Ok(Some(r))
                })
            })
            .await?;
        match report {
            Some(r) => Ok(r),
            None => {
                tracing::warn!(delivery = %delivery_id, "webhook claim lapsed before the outcome was recorded; another dispatcher owns it now");
                Ok(PassReport::default())
            }
        }
    }
}
