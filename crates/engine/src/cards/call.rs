//! The second and third steps of a card operation: make the committed
//! processor call (outside any database transaction), then commit its
//! answer — the collection's new state, its events and its ledger postings
//! together. A call without an answer stays pending for a retry.

use chrono::{DateTime, Duration, Utc};
use inflow_core::card::{
    call::next_retry, CallState, CardCollection, CardNumber, CardOperation, CardRefund, CardStatus,
    CardTxType, Cvc, ProcessorCall, RefundStatus,
};
use inflow_core::crypto::Vault;
use inflow_core::money::Money;
use inflow_store::{Store, StoreError, Tx};

use super::error::CardError;
use super::postings;
use super::processor::{
    AuthorizeOutcome, AuthorizeRequest, CardData, CardProcessor, ProcessorError,
};
use super::CardConfig;
use crate::events::card_status_event;

/// What the processor answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Authorization(AuthorizeOutcome),
    Captured,
    Voided,
    Refunded {
        processor_ref: String,
    },
    /// The processor refused the operation (not a card decline).
    Refused(String),
}

/// A call made: answered, or not (timeout, 5xx) and left pending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    Answered(Answer),
    NoAnswer(String),
}

/// The state a call left things in.
#[derive(Debug, Clone)]
pub struct Settled {
    pub collection: CardCollection,
    pub refund: Option<CardRefund>,
    pub call: ProcessorCall,
}

impl Settled {
    /// The processor's refusal, if it refused the operation.
    pub fn refusal(&self) -> Option<&str> {
        (self.call.state == CallState::Failed).then(|| {
            self.call
                .last_error
                .as_deref()
                .unwrap_or("the processor refused the operation")
        })
    }
}

fn money(c: &CardCollection, minor: i64) -> Result<Money, CardError> {
    Money::new(c.amount.currency(), minor)
        .map_err(|e| StoreError::Corrupt(format!("card collection {}: {e}", c.id)).into())
}

/// Make `call` at the processor. `cvc` is passed on an authorization when the
/// request that made it (or its retry) carried one; the reconciliation job
/// has none. The call may have been attempted before.
pub async fn make_call(
    store: &Store,
    processor: &dyn CardProcessor,
    vault: &Vault,
    call: &ProcessorCall,
    cvc: Option<&Cvc>,
) -> Result<Attempt, CardError> {
    attempt(store, processor, vault, call, cvc, true).await
}

/// [`make_call`] for a call just reserved by the caller itself: nothing
/// can have reached the processor yet.
pub async fn make_first_call(
    store: &Store,
    processor: &dyn CardProcessor,
    vault: &Vault,
    call: &ProcessorCall,
    cvc: Option<&Cvc>,
) -> Result<Attempt, CardError> {
    attempt(store, processor, vault, call, cvc, false).await
}

async fn attempt(
    store: &Store,
    processor: &dyn CardProcessor,
    vault: &Vault,
    call: &ProcessorCall,
    cvc: Option<&Cvc>,
    retry: bool,
) -> Result<Attempt, CardError> {
    let (c, pm) = {
        let mut tx = store.read().await?;
        let c = tx.get_card_collection(None, &call.collection_id).await?;
        let pm = if call.operation == CardOperation::Authorize {
            Some(
                tx.get_card_payment_method(&c.customer_id, &c.payment_method_id)
                    .await?,
            )
        } else {
            None
        };
        tx.rollback().await?;
        (c, pm)
    };
    let processor_ref = c.processor_ref.clone().unwrap_or_default();
    let started = std::time::Instant::now();
    let result = match call.operation {
        CardOperation::Authorize => {
            let pm = pm.ok_or(StoreError::NotFound)?;
            let opened = vault
                .open(&pm.number_sealed, pm.id.as_str())
                .map_err(|_| StoreError::Corrupt("sealed card number".into()))?;
            let number = String::from_utf8(opened)
                .ok()
                .and_then(|s| CardNumber::parse("number", &s).ok())
                .ok_or_else(|| StoreError::Corrupt("sealed card number".into()))?;
            processor
                .authorize(AuthorizeRequest {
                    reference: &call.reference,
                    amount: money(&c, call.amount)?,
                    card: CardData {
                        payment_method_id: pm.id.as_str(),
                        number: &number,
                        exp_month: pm.exp_month,
                        exp_year: pm.exp_year,
                        cvc,
                        postal_code: &pm.billing_address.postal_code,
                    },
                    capture: c.tx_type != CardTxType::Authorization,
                    approval_code: c
                        .approval_code
                        .as_deref()
                        .filter(|_| c.tx_type == CardTxType::Force),
                    retry,
                })
                .await
                .map(Answer::Authorization)
        }
        CardOperation::Capture => processor
            .capture(&processor_ref, &call.reference, money(&c, call.amount)?)
            .await
            .map(|_| Answer::Captured),
        CardOperation::Void => processor
            .void(&processor_ref, &call.reference)
            .await
            .map(|_| Answer::Voided),
        CardOperation::Refund => processor
            .refund(&processor_ref, &call.reference, money(&c, call.amount)?)
            .await
            .map(|processor_ref| Answer::Refunded { processor_ref }),
    };
    let outcome = match &result {
        Ok(_) => "answered",
        Err(ProcessorError::Rejected(_)) => "refused",
        Err(ProcessorError::Unavailable(_)) => "no_answer",
    };
    crate::metrics::card_call(call.operation.as_str(), outcome, started.elapsed());
    Ok(match result {
        Ok(a) => Attempt::Answered(a),
        Err(ProcessorError::Rejected(m)) => Attempt::Answered(Answer::Refused(m)),
        Err(ProcessorError::Unavailable(m)) => Attempt::NoAnswer(m),
    })
}

/// Note that `call` got no answer; it is retried later.
pub async fn record_no_answer(
    tx: &mut Tx,
    call: &ProcessorCall,
    error: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let attempts = call.attempts.saturating_add(1);
    tx.record_processor_call_attempt(&call.reference, error, next_retry(now, attempts), now)
        .await
}

/// Record what an attempt at `call` came to, in `tx`: the answer
/// ([`confirm`]), or its absence (a later retry); `None` when no attempt was
/// made because the call was already answered. Returns the state it leaves.
pub async fn record_attempt(
    tx: &mut Tx,
    cfg: &CardConfig,
    call: ProcessorCall,
    attempt: Option<Attempt>,
    now: DateTime<Utc>,
) -> Result<Settled, CardError> {
    match attempt {
        Some(Attempt::Answered(a)) => confirm(tx, cfg, &call, a, now).await,
        Some(Attempt::NoAnswer(e)) => {
            record_no_answer(tx, &call, &e, now).await?;
            current(tx, call).await
        }
        None => current(tx, call).await,
    }
}

/// The collection (and refund) as they stand for `call`.
pub async fn current(tx: &mut Tx, call: ProcessorCall) -> Result<Settled, CardError> {
    let collection = tx.get_card_collection(None, &call.collection_id).await?;
    let refund = match &call.refund_id {
        Some(id) => Some(tx.get_card_refund(id).await?),
        None => None,
    };
    Ok(Settled {
        collection,
        refund,
        call,
    })
}

/// Commit the processor's answer to `call`. If another worker already did,
/// nothing changes and the state it left is returned.
pub async fn confirm(
    tx: &mut Tx,
    cfg: &CardConfig,
    call: &ProcessorCall,
    answer: Answer,
    now: DateTime<Utc>,
) -> Result<Settled, CardError> {
    let (state, error) = match &answer {
        Answer::Refused(m) => (CallState::Failed, Some(m.as_str())),
        _ => (CallState::Succeeded, None),
    };
    if !tx
        .finish_processor_call(&call.reference, state, error, now)
        .await?
    {
        let latest = tx.get_processor_call(&call.reference).await?;
        return current(tx, latest).await;
    }
    let mut refund = match (&call.refund_id, &answer) {
        (Some(_), Answer::Refunded { processor_ref }) => {
            let mut r = pending_refund(tx, call).await?;
            r.status = RefundStatus::Succeeded;
            r.processor_ref = processor_ref.clone();
            Some(r)
        }
        (Some(_), Answer::Refused(m)) => {
            let mut r = pending_refund(tx, call).await?;
            r.status = RefundStatus::Failed;
            r.failure_reason = Some(m.clone());
            Some(r)
        }
        _ => None,
    };
    if let Some(r) = &refund {
        tx.finish_card_refund(r).await?;
    }
    // The batch close may settle the collection meanwhile (it does not wait
    // for calls in flight): apply the answer to the latest row.
    for _ in 0..5 {
        let before = tx.get_card_collection(None, &call.collection_id).await?;
        let mut c = before.clone();
        let steps = apply(&mut c, cfg, call, &answer, now)?;
        if !tx
            .update_card_collection_if(&c, before.status, before.refunded_minor)
            .await?
        {
            continue;
        }
        // Every recorded step has its event (a second partial refund too).
        if c.status_history.len() != before.status_history.len() {
            for step in &steps {
                card_status_event(tx, step, now).await?;
            }
            card_status_event(tx, &c, now).await?;
        }
        postings::after_call(tx, &before, &c, refund.as_ref(), now).await?;
        if let Some(r) = &refund {
            crate::events::refund_event(tx, r, &c, now).await?;
        }
        let call = tx.get_processor_call(&call.reference).await?;
        return Ok(Settled {
            collection: c,
            refund: refund.take(),
            call,
        });
    }
    Err(StoreError::Corrupt(format!(
        "card collection {} kept changing while its processor answer was recorded",
        call.collection_id
    ))
    .into())
}

/// The collection after `answer` to `call`, and the intermediate states
/// that deserve their own event (a sale is authorized, then captured).
fn apply(
    c: &mut CardCollection,
    cfg: &CardConfig,
    call: &ProcessorCall,
    answer: &Answer,
    now: DateTime<Utc>,
) -> Result<Vec<CardCollection>, CardError> {
    c.pending_operation = None;
    c.updated_at = now;
    let mut steps = Vec::new();
    match (call.operation, answer) {
        (CardOperation::Authorize, Answer::Authorization(AuthorizeOutcome::Approved(a))) => {
            c.authorized_minor = a.approved_minor;
            c.approval_code = Some(a.approval_code.clone());
            c.processor_ref = Some(a.processor_ref.clone());
            c.cvc_result = Some(a.cvc_result.clone());
            c.authorized_at = Some(now);
            let why = if a.approved_minor < c.amount.minor() {
                format!(
                    "partially approved: {} of {}",
                    a.approved_minor,
                    c.amount.minor()
                )
            } else if c.tx_type == CardTxType::Force {
                "forced with an approval code obtained elsewhere".into()
            } else {
                "approved".into()
            };
            transition(c, CardStatus::Authorized, why, now)?;
            if c.tx_type == CardTxType::Authorization {
                c.expires_at = Some(now + Duration::days(i64::from(cfg.authorization_ttl_days)));
            } else {
                steps.push(c.clone());
                c.captured_minor = c.authorized_minor;
                let why = format!("{} captured", c.tx_type);
                transition(c, CardStatus::Captured, why, now)?;
            }
        }
        (
            CardOperation::Authorize,
            Answer::Authorization(AuthorizeOutcome::Declined { code, message }),
        ) => {
            decline(c, code.clone(), message.clone(), now)?;
        }
        (CardOperation::Authorize, Answer::Refused(m)) => {
            decline(c, "processor_error".into(), m.clone(), now)?;
        }
        (CardOperation::Capture, Answer::Captured) => {
            c.captured_minor = call.amount;
            let why = if call.amount < c.authorized_minor {
                format!(
                    "partial force: {} of {} captured",
                    call.amount, c.authorized_minor
                )
            } else {
                "captured".into()
            };
            transition(c, CardStatus::Captured, why, now)?;
        }
        (CardOperation::Void, Answer::Voided) => {
            let why = call.reason.clone().unwrap_or_else(|| "voided".into());
            transition(c, CardStatus::Voided, why, now)?;
        }
        (CardOperation::Refund, Answer::Refunded { .. }) => {
            c.refunded_minor += call.amount;
            let to = if c.refunded_minor == c.captured_minor {
                CardStatus::Refunded
            } else {
                CardStatus::PartiallyRefunded
            };
            let why = format!(
                "{} refunded ({} of {} in total)",
                call.amount, c.refunded_minor, c.captured_minor
            );
            transition(c, to, why, now)?;
        }
        (_, Answer::Refused(_)) => {}
        (op, a) => {
            return Err(StoreError::Corrupt(format!("processor answered {a:?} to a {op}")).into())
        }
    }
    Ok(steps)
}

fn transition(
    c: &mut CardCollection,
    to: CardStatus,
    why: String,
    now: DateTime<Utc>,
) -> Result<(), CardError> {
    c.transition(to, Some(why), now)
        .map_err(|e| StoreError::Corrupt(format!("card collection {}: {e}", c.id)).into())
}

fn decline(
    c: &mut CardCollection,
    code: String,
    message: String,
    now: DateTime<Utc>,
) -> Result<(), CardError> {
    transition(c, CardStatus::Declined, format!("{code}: {message}"), now)?;
    c.decline_code = Some(code);
    c.decline_message = Some(message);
    Ok(())
}

async fn pending_refund(tx: &mut Tx, call: &ProcessorCall) -> Result<CardRefund, CardError> {
    let id = call.refund_id.as_ref().ok_or_else(|| {
        StoreError::Corrupt(format!("refund call {} without a refund", call.reference))
    })?;
    Ok(tx.get_card_refund(id).await?)
}
