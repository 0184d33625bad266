//! One attempt of a claimed delivery: sign the event, POST it, and decide
//! where the delivery goes next (succeeded, retried later, or failed for
//! good). Nothing is written here; the outcome is recorded with its batch's
//! (see `record`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use inflow_core::ids::WebhookEndpointId;
use inflow_core::webhook::retry::AfterFailure;
use inflow_core::webhook::signature::signature_header;
use inflow_core::webhook::WebhookEndpoint;
use inflow_store::repo::events::Event;
use inflow_store::repo::webhook_deliveries::{Attempt, Delivery, NextStep};

use super::dispatcher::Dispatcher;
use super::sender::{Outgoing, SendOutcome};
use super::view::event_view;

/// An attempt that is over, waiting to be recorded.
#[derive(Debug, Clone)]
pub struct Finished {
    pub attempt: Attempt,
    pub next: NextStep,
    pub endpoint: WebhookEndpointId,
    /// The endpoint's run of failed deliveries when the batch was read.
    pub endpoint_failures: u32,
    /// When the event was created (business clock): the delivery lag.
    pub event_created_at: DateTime<Utc>,
}

impl Dispatcher {
    /// Send attempt `d.attempts` of `d` and judge the answer.
    pub(super) async fn attempt(
        &self,
        d: Delivery,
        event: &Event,
        endpoint: &WebhookEndpoint,
    ) -> Finished {
        let attempted_at = self.clock.now();
        let (outcome, latency) = match serde_json::to_vec(&event_view(event)) {
            Ok(body) => self.sign_and_send(&d, event, endpoint, body).await,
            Err(e) => failed(format!("the event cannot be serialised: {e}")),
        };
        let (status_code, error, succeeded) = match outcome {
            SendOutcome::Delivered { status } => (Some(status), None, true),
            SendOutcome::Failed { status, error } => (status, Some(error), false),
        };
        let next = if succeeded {
            NextStep::Succeeded
        } else {
            match self.config.retry.after_failure(
                d.attempts,
                self.clock.now(),
                d.window_start,
                rand::random::<f64>(),
            ) {
                AfterFailure::RetryAt(t) => NextStep::RetryAt(t),
                AfterFailure::GiveUp => NextStep::Failed,
            }
        };
        Finished {
            attempt: Attempt {
                delivery_id: d.id,
                number: d.attempts,
                attempted_at,
                status_code,
                latency_ms: u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
                error,
                succeeded,
            },
            next,
            endpoint: endpoint.id.clone(),
            endpoint_failures: endpoint.consecutive_failures,
            event_created_at: event.created_at,
        }
    }

    async fn sign_and_send(
        &self,
        d: &Delivery,
        event: &Event,
        endpoint: &WebhookEndpoint,
        body: Vec<u8>,
    ) -> (SendOutcome, Duration) {
        let timestamp = self.wall.now().timestamp();
        let Some(secrets) = self.secrets(endpoint, self.clock.now()) else {
            tracing::error!(endpoint = %endpoint.id, "webhook signing secret cannot be decrypted with the configured master key");
            return failed(
                "the signing secret cannot be decrypted (operator: check the master key)".into(),
            );
        };
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
}

/// An attempt that failed before anything was sent.
fn failed(error: String) -> (SendOutcome, Duration) {
    (
        SendOutcome::Failed {
            status: None,
            error,
        },
        Duration::ZERO,
    )
}
