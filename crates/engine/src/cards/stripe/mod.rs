//! The Stripe connector: Inflow's card operations as Stripe PaymentIntents
//! and Refunds (`docs/cards.md`, "Stripe"):
//!
//! | Inflow | Stripe |
//! |---|---|
//! | sale | PaymentIntent, `confirm=true`, `capture_method=automatic` |
//! | authorization | the same with `capture_method=manual` |
//! | capture / partial force | `POST /v1/payment_intents/{id}/capture` `amount_to_capture` |
//! | void before capture | `POST /v1/payment_intents/{id}/cancel` |
//! | void after capture (not settled) | a full Refund (Stripe cannot cancel a captured PaymentIntent) |
//! | refund | Refund with `amount`, as many as the capture allows |
//! | force with an outside approval code | not offered (`capability_not_supported`) |
//! | batch close | a capture settles when its balance transaction is `available` |
//! | disputes | `GET /v1/disputes` (reconciliation) and `charge.dispute.*` webhooks ([`signature`]) |
//!
//! Every request that moves money carries Inflow's call reference as its
//! `Idempotency-Key` (PaymentIntents and Refunds also in
//! `metadata[inflow_reference]`); on a retry, before making a
//! PaymentIntent or Refund again the connector looks for the one a lost
//! answer left behind (the card's customer's charges; the payment's
//! refunds), so a retry never charges twice even where idempotency keys
//! are not honoured (localstripe) or have expired (after 24 h at Stripe).

mod client;
pub mod declines;
pub mod disputes;
mod operations;
mod payments;
pub mod signature;
mod tokens;

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use inflow_core::crypto::Vault;
use inflow_core::money::Money;
use inflow_store::Store;

use super::disputes::DisputeReport;
use super::processor::{
    AuthorizeOutcome, AuthorizeRequest, BatchSettlement, Capabilities, CardData, CardProcessor,
    ProcessorError, ProcessorFuture,
};
use client::Client;

pub use client::{classify, Failure, STRIPE_VERSION};
pub use tokens::PROCESSOR;

/// How to reach one Stripe account.
#[derive(Clone)]
pub struct StripeConfig {
    /// `https://api.stripe.com` (or a localstripe for tests).
    pub api_base: String,
    /// `sk_live_…` / `sk_test_…`. Never logged.
    pub secret_key: String,
    /// One request may take this long before its answer counts as lost.
    pub timeout: Duration,
}

impl std::fmt::Debug for StripeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeConfig")
            .field("api_base", &self.api_base)
            .field("secret_key", &"<redacted>")
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The Stripe processor.
pub struct StripeProcessor {
    client: Client,
    store: Store,
    vault: Arc<Vault>,
}

impl std::fmt::Debug for StripeProcessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeProcessor")
            .field("client", &self.client)
            .finish()
    }
}

impl StripeProcessor {
    pub fn new(cfg: &StripeConfig, store: Store, vault: Arc<Vault>) -> Result<Self, String> {
        Ok(Self {
            client: Client::new(&cfg.api_base, &cfg.secret_key, cfg.timeout)?,
            store,
            vault,
        })
    }
}

fn currency(m: &Money) -> String {
    m.currency().code().to_ascii_lowercase()
}

impl CardProcessor for StripeProcessor {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            processor: PROCESSOR,
            enabled: true,
            force_with_approval_code: false,
        }
    }

    fn authorize<'a>(&'a self, req: AuthorizeRequest<'a>) -> ProcessorFuture<'a, AuthorizeOutcome> {
        Box::pin(self.authorize_payment(req))
    }

    fn verify<'a>(
        &'a self,
        _reference: &'a str,
        card: CardData<'a>,
    ) -> ProcessorFuture<'a, String> {
        Box::pin(self.verify_card(card))
    }

    fn capture<'a>(
        &'a self,
        processor_ref: &'a str,
        reference: &'a str,
        amount: Money,
    ) -> ProcessorFuture<'a, ()> {
        Box::pin(self.capture_payment(processor_ref, reference, amount))
    }

    fn void<'a>(&'a self, processor_ref: &'a str, reference: &'a str) -> ProcessorFuture<'a, ()> {
        Box::pin(self.void_payment(processor_ref, reference))
    }

    fn refund<'a>(
        &'a self,
        processor_ref: &'a str,
        reference: &'a str,
        amount: Money,
    ) -> ProcessorFuture<'a, String> {
        Box::pin(self.refund_payment(processor_ref, reference, amount))
    }

    fn settle_batch<'a>(
        &'a self,
        day: NaiveDate,
        candidates: &'a [String],
    ) -> ProcessorFuture<'a, BatchSettlement> {
        Box::pin(self.settled(day, candidates))
    }

    fn disputes(&self) -> ProcessorFuture<'_, Vec<DisputeReport>> {
        Box::pin(self.dispute_list())
    }
}

/// Stripe's failure as the trait's error (declines outside an
/// authorization are refusals).
fn err(f: Failure) -> ProcessorError {
    f.into()
}
