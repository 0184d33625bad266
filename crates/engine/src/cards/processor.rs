//! The processor connector: what Inflow asks of a card processor. A real
//! processor is added by implementing [`CardProcessor`]; nothing else
//! changes. Every call carries Inflow's own reference (the collection or
//! refund id) so the processor can deduplicate a retried call.

use std::future::Future;
use std::pin::Pin;

use chrono::NaiveDate;
use inflow_core::card::{CardNumber, Cvc};
use inflow_core::money::Money;

use super::disputes::DisputeReport;

/// A processor call in flight.
pub type ProcessorFuture<'a, T> =
    Pin<Box<dyn Future<Output = Result<T, ProcessorError>> + Send + 'a>>;

/// The processor could not give an answer (timeout, 5xx). Nothing may be
/// assumed charged or not; a retry with the same reference resolves it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProcessorError {
    #[error("the card processor is unavailable: {0}")]
    Unavailable(String),
    #[error("the card processor refused the request: {0}")]
    Rejected(String),
}

/// The card as handed to the processor (the only place the number and
/// security code travel together).
#[derive(Debug, Clone)]
pub struct CardData<'a> {
    /// Inflow's saved card (`pm_…`): a processor keys its own token for the
    /// card by it, so the number is sent once per card.
    pub payment_method_id: &'a str,
    pub number: &'a CardNumber,
    pub exp_month: u32,
    pub exp_year: i32,
    /// Present only on the one call it was given for; never stored.
    pub cvc: Option<&'a Cvc>,
    pub postal_code: &'a str,
}

/// Authorize `amount` (and capture it at once when `capture`).
#[derive(Debug, Clone)]
pub struct AuthorizeRequest<'a> {
    /// Inflow's id for the transaction: the processor's idempotency key.
    pub reference: &'a str,
    pub amount: Money,
    pub card: CardData<'a>,
    pub capture: bool,
    /// A force: the approval code obtained elsewhere (voice/offline authorization).
    pub approval_code: Option<&'a str>,
    /// An earlier attempt may have reached the processor (a retry, by the
    /// client or the reconciliation job): a processor that deduplicates by
    /// looking up what the reference left does so only then.
    pub retry: bool,
}

/// An approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    pub approval_code: String,
    pub processor_ref: String,
    /// Less than asked for on a partial approval.
    pub approved_minor: i64,
    /// `pass`, `fail` or `unchecked`.
    pub cvc_result: String,
}

/// What the processor answered an authorization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeOutcome {
    Approved(Approval),
    Declined { code: String, message: String },
}

/// One transaction a batch close settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettledTransaction {
    pub processor_ref: String,
    /// Captured less refunded, in minor units.
    pub net_minor: i64,
}

/// What a batch close settled. Closing the same day again answers the same
/// batch (the call is idempotent by day).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchSettlement {
    pub batch_id: String,
    pub day: NaiveDate,
    pub settled: Vec<SettledTransaction>,
}

/// What a processor can do; the engine refuses what it cannot
/// (`422 capability_not_supported`, or `503 card_processing_unavailable`
/// when card processing is off altogether).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// The processor's name, as errors and logs show it.
    pub processor: &'static str,
    /// Card requests are served at all.
    pub enabled: bool,
    /// A force with an approval code obtained elsewhere.
    pub force_with_approval_code: bool,
}

impl Capabilities {
    /// Card processing switched off (production mode without a real processor).
    pub const DISABLED: Capabilities = Capabilities {
        processor: "none",
        enabled: false,
        force_with_approval_code: false,
    };
}

/// A card processor. Every call is idempotent: the same reference (or
/// processor reference, for capture and void) asked twice moves money once
/// and answers the same way.
pub trait CardProcessor: Send + Sync {
    /// What this processor offers.
    fn capabilities(&self) -> Capabilities;
    /// Authorize (hold) or sale (authorize and capture), or a force with an approval code.
    fn authorize<'a>(&'a self, req: AuthorizeRequest<'a>) -> ProcessorFuture<'a, AuthorizeOutcome>;
    /// Check a card without moving money (zero-amount verification); answers
    /// the security-code result: `pass`, `fail` or `unchecked`.
    fn verify<'a>(&'a self, reference: &'a str, card: CardData<'a>) -> ProcessorFuture<'a, String>;
    /// Capture `amount` (≤ the authorized amount) of an authorization;
    /// `reference` is Inflow's for this call (its idempotency key).
    fn capture<'a>(
        &'a self,
        processor_ref: &'a str,
        reference: &'a str,
        amount: Money,
    ) -> ProcessorFuture<'a, ()>;
    /// Release an authorization or cancel a capture not yet settled.
    fn void<'a>(&'a self, processor_ref: &'a str, reference: &'a str) -> ProcessorFuture<'a, ()>;
    /// Refund `amount` of a captured transaction; `reference` is the refund's
    /// id. Answers the processor's reference for the refund.
    fn refund<'a>(
        &'a self,
        processor_ref: &'a str,
        reference: &'a str,
        amount: Money,
    ) -> ProcessorFuture<'a, String>;
    /// Close the day's batch: what the processor settled of the captured,
    /// unsettled transactions `candidates` (a processor that settles by
    /// itself, like Stripe, is asked about each; the sandbox settles every
    /// capture it holds).
    fn settle_batch<'a>(
        &'a self,
        day: NaiveDate,
        candidates: &'a [String],
    ) -> ProcessorFuture<'a, BatchSettlement>;
    /// The disputes (chargebacks) the processor knows of, open or decided,
    /// for the reconciliation job. A processor without a dispute list
    /// answers none.
    fn disputes(&self) -> ProcessorFuture<'_, Vec<DisputeReport>> {
        Box::pin(async { Ok(Vec::new()) })
    }
}

/// The processor when card processing is off: every card request is
/// refused before any call (`503 card_processing_unavailable`), and any
/// call that slips through is refused too. Production mode uses it when no
/// real processor is configured, so nothing is ever simulated.
#[derive(Debug, Clone, Copy, Default)]
pub struct DisabledProcessor;

fn off<T>() -> ProcessorFuture<'static, T> {
    Box::pin(async {
        Err(ProcessorError::Rejected(
            "card processing is not configured on this node".into(),
        ))
    })
}

impl CardProcessor for DisabledProcessor {
    fn capabilities(&self) -> Capabilities {
        Capabilities::DISABLED
    }
    fn authorize<'a>(&'a self, _: AuthorizeRequest<'a>) -> ProcessorFuture<'a, AuthorizeOutcome> {
        off()
    }
    fn verify<'a>(&'a self, _: &'a str, _: CardData<'a>) -> ProcessorFuture<'a, String> {
        off()
    }
    fn capture<'a>(&'a self, _: &'a str, _: &'a str, _: Money) -> ProcessorFuture<'a, ()> {
        off()
    }
    fn void<'a>(&'a self, _: &'a str, _: &'a str) -> ProcessorFuture<'a, ()> {
        off()
    }
    fn refund<'a>(&'a self, _: &'a str, _: &'a str, _: Money) -> ProcessorFuture<'a, String> {
        off()
    }
    fn settle_batch<'a>(
        &'a self,
        day: NaiveDate,
        _: &'a [String],
    ) -> ProcessorFuture<'a, BatchSettlement> {
        Box::pin(async move {
            Ok(BatchSettlement {
                batch_id: String::new(),
                day,
                settled: Vec::new(),
            })
        })
    }
}
