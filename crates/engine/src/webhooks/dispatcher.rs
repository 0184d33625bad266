//! The dispatcher: claim due deliveries, send them, record the outcomes.
//!
//! A pass repeats until nothing is due: claim a batch (see
//! `inflow_store::repo::webhook_deliveries` for how claims keep dispatchers
//! apart), read the batch's events and endpoints in one read transaction,
//! send the attempts concurrently, and record the finished ones together
//! (`record`): all of them when the batch's attempts are over, or — while
//! slow ones are still in flight — those that finished, once the first of
//! them has waited `record_within`. Outcomes are judged in `attempt`:
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

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use futures_util::future::{BoxFuture, OptionFuture};
use futures_util::stream::{self, StreamExt};
use inflow_core::clock::SharedClock;
use inflow_core::crypto::Vault;
use inflow_core::ids::{EventId, WebhookEndpointId};
use inflow_core::webhook::WebhookEndpoint;
use inflow_store::repo::events::Event;
use inflow_store::repo::webhook_deliveries::Delivery;
use inflow_store::{Store, StoreError};
use serde::Serialize;
use tokio::time::Instant;

use super::attempt::Finished;
use super::config::DispatchConfig;
use super::sender::Sender;

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
    pub(super) store: Store,
    pub(super) vault: Arc<Vault>,
    /// Business time: when deliveries are due, retries, the retry window.
    pub(super) clock: SharedClock,
    /// Real time: claims and signature timestamps (receivers check those
    /// against their own clocks, and sandbox time travel must not expire claims).
    pub(super) wall: SharedClock,
    pub(super) sender: Sender,
    pub(super) config: DispatchConfig,
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
            report.add(self.deliver_batch(&token, claimed).await);
        }
        Ok(report)
    }

    /// Attempt a claimed batch and record the outcomes.
    async fn deliver_batch(&self, token: &str, claimed: Vec<Delivery>) -> PassReport {
        let (events, endpoints) = match self.load(&claimed).await {
            Ok(loaded) => loaded,
            Err(e) => {
                tracing::warn!(error = %e, deliveries = claimed.len(), "webhook deliveries could not be read; they will be attempted when their claims lapse");
                return PassReport::default();
            }
        };
        // Boxed: the attempts' types are erased before they enter the stream.
        let mut attempts: Vec<BoxFuture<'_, Finished>> = Vec::with_capacity(claimed.len());
        for d in claimed {
            // An endpoint deleted meanwhile took its deliveries with it.
            let Some(endpoint) = endpoints.get(&d.endpoint_id) else {
                continue;
            };
            match events.get(&d.event_id) {
                Some(event) => attempts.push(Box::pin(self.attempt(d, event, endpoint))),
                None => {
                    tracing::error!(delivery = %d.id, event = %d.event_id, "webhook delivery's event is missing; it will be attempted when its claim lapses")
                }
            }
        }
        let sends = stream::iter(attempts).buffer_unordered(self.config.concurrency.max(1));
        self.send_and_record(token, sends).await
    }

    /// The events and endpoints of a batch, in one read transaction.
    async fn load(&self, claimed: &[Delivery]) -> Result<Loaded, StoreError> {
        let mut event_ids: Vec<EventId> = claimed.iter().map(|d| d.event_id.clone()).collect();
        let mut endpoint_ids: Vec<WebhookEndpointId> =
            claimed.iter().map(|d| d.endpoint_id.clone()).collect();
        event_ids.sort();
        event_ids.dedup();
        endpoint_ids.sort();
        endpoint_ids.dedup();
        let mut tx = self.store.read().await?;
        let events = tx.events_by_ids(&event_ids).await?;
        let endpoints = tx.webhook_endpoints_by_ids(&endpoint_ids).await?;
        Ok((
            events.into_iter().map(|e| (e.id.clone(), e)).collect(),
            endpoints.into_iter().map(|e| (e.id.clone(), e)).collect(),
        ))
    }

    /// Drive the attempts and record what finished: when all are over, or
    /// `record_within` after the oldest unrecorded one finished. One write
    /// at a time; attempts keep running while it commits.
    async fn send_and_record(
        &self,
        token: &str,
        mut sends: impl futures_util::Stream<Item = Finished> + Unpin,
    ) -> PassReport {
        let mut report = PassReport::default();
        let mut done: Vec<Finished> = Vec::new();
        let mut writing: Option<Writing<'_>> = None;
        let mut sending = true;
        let mut oldest = Instant::now();
        loop {
            let due = !sending || Instant::now() >= oldest + self.config.record_within;
            if writing.is_none() && !done.is_empty() && due {
                writing = Some(Box::pin(self.record(token, std::mem::take(&mut done))));
            }
            if !sending && writing.is_none() {
                return report;
            }
            let wait = sending && writing.is_none() && !done.is_empty();
            tokio::select! {
                next = sends.next(), if sending => match next {
                    Some(f) => {
                        if done.is_empty() {
                            oldest = Instant::now();
                        }
                        done.push(f);
                    }
                    None => sending = false,
                },
                Some(r) = OptionFuture::from(writing.as_mut()), if writing.is_some() => {
                    report.add(r);
                    writing = None;
                }
                _ = tokio::time::sleep_until(oldest + self.config.record_within), if wait => {}
            }
        }
    }
}

/// A batch's events and endpoints by id.
type Loaded = (
    HashMap<EventId, Event>,
    HashMap<WebhookEndpointId, WebhookEndpoint>,
);

/// A write of finished attempts under way.
type Writing<'a> = BoxFuture<'a, PassReport>;
