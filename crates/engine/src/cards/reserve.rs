//! The first step of every card operation: check it against the
//! collection's state and commit the processor call about to be made
//! (with, for a new collection, the collection itself in `pending`, and for
//! a refund, the refund in `pending`). Nothing here talks to the processor.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use inflow_core::calendar::{eastern_instant, local_date};
use inflow_core::card::{
    CallRequester, CallState, CardCollection, CardOperation, CardPaymentMethod, CardRefund,
    CardStatus, CardTxType, PendingOperation, ProcessorCall, RefundStatus,
};
use inflow_core::ids::{AccountId, CollectionId, CustomerId, RefundId};
use inflow_core::model::{CustomerStatus, Metadata, PaymentMethodStatus};
use inflow_core::money::Money;
use inflow_core::Refusal;
use inflow_store::{StoreError, Tx};

use super::capability::require_for;
use super::error::{conflict, unprocessable, CardError};
use super::processor::Capabilities;

/// A new sale, authorization or force, after request parsing.
#[derive(Debug, Clone)]
pub struct NewCardCollection {
    pub customer_id: CustomerId,
    pub tx_type: CardTxType,
    pub amount: Money,
    pub destination_account_id: AccountId,
    pub payment_method: CardPaymentMethod,
    pub approval_code: Option<String>,
    pub external_id: Option<String>,
    pub reference: Option<String>,
    pub metadata: Metadata,
    /// Refuse a recent look-alike (same card, amount and type) unless false.
    pub duplicate_window: Option<Duration>,
    /// What the configured processor offers (a force needs it).
    pub capabilities: Capabilities,
}

fn new_call(
    reference: String,
    c: &CardCollection,
    operation: CardOperation,
    amount: i64,
    requester: Option<CallRequester>,
    now: DateTime<Utc>,
) -> ProcessorCall {
    ProcessorCall {
        reference,
        collection_id: c.id.clone(),
        customer_id: c.customer_id.clone(),
        operation,
        amount,
        refund_id: None,
        reason: None,
        state: CallState::Pending,
        attempts: 0,
        next_attempt_at: now + Duration::seconds(inflow_core::card::call::FIRST_RETRY_AFTER_SECS),
        last_error: None,
        requester,
        created_at: now,
        updated_at: now,
    }
}

async fn insert_call(tx: &mut Tx, call: &ProcessorCall) -> Result<(), CardError> {
    tx.insert_processor_call(call).await.map_err(|e| match e {
        StoreError::Conflict(_) => conflict(
            "operation_in_progress",
            "another operation on this collection is waiting for the processor; retry shortly",
        ),
        e => e.into(),
    })
}

/// Check a new charge (card usable, not a duplicate, under the card's
/// daily limit) and commit it `pending` with its authorization call.
pub async fn reserve_create(
    tx: &mut Tx,
    new: NewCardCollection,
    requester: Option<CallRequester>,
    now: DateTime<Utc>,
) -> Result<(CardCollection, ProcessorCall), CardError> {
    require_for(&new.capabilities, new.tx_type)?;
    let pm = &new.payment_method;
    if pm.status != PaymentMethodStatus::Active {
        return Err(Refusal::conflict(
            "payment_method_not_active",
            format!("the payment method is {}", pm.status),
        )
        .with_field("paymentMethodId")
        .into());
    }
    let customer = tx.get_customer(&new.customer_id).await?;
    if customer.status != CustomerStatus::Active {
        return Err(conflict(
            "customer_suspended",
            format!(
                "customer {} is suspended; no collection can be made for it",
                customer.id
            ),
        ));
    }
    tx.lock_card(&new.customer_id, &pm.fingerprint).await?;
    if let Some(window) = new.duplicate_window {
        if let Some(first) = tx
            .find_duplicate_card_collection(
                &new.customer_id,
                &pm.fingerprint,
                new.amount.minor(),
                new.tx_type,
                now - window,
            )
            .await?
        {
            return Err(Refusal::conflict(
                "duplicate_transaction",
                format!("a {} of the same amount on the same card was made recently: {first}; send \"allowDuplicate\": true to make another", new.tx_type),
            )
            .with_field("allowDuplicate")
            .into());
        }
    }
    let day_start = eastern_instant(local_date(now), NaiveTime::MIN);
    let used = tx
        .card_total_since(&new.customer_id, &pm.fingerprint, day_start)
        .await?;
    if used + new.amount.minor() > customer.card_daily_limit {
        return Err(unprocessable(
            "card_daily_limit_exceeded",
            format!(
                "this card has been charged {used} (minor units) today; {} more would pass the daily limit of {}",
                new.amount.minor(),
                customer.card_daily_limit
            ),
            "amount.value",
        ));
    }
    let fees = tx.effective_fee_schedule(&new.customer_id).await?;
    let id = CollectionId::generate(now);
    let mut c = CardCollection {
        id,
        customer_id: new.customer_id,
        tx_type: new.tx_type,
        status: CardStatus::Pending,
        status_reason: None,
        status_history: Vec::new(),
        amount: new.amount,
        authorized_minor: 0,
        captured_minor: 0,
        refunded_minor: 0,
        destination_account_id: new.destination_account_id,
        payment_method_id: pm.id.clone(),
        brand: pm.brand,
        last4: pm.last4.clone(),
        exp_month: pm.exp_month,
        exp_year: pm.exp_year,
        fingerprint: pm.fingerprint.clone(),
        holder_name: pm.holder_name.clone(),
        approval_code: new.approval_code,
        processor_ref: None,
        decline_code: None,
        decline_message: None,
        cvc_result: None,
        external_id: new.external_id,
        reference: new.reference,
        metadata: new.metadata,
        created_at: now,
        updated_at: now,
        authorized_at: None,
        captured_at: None,
        voided_at: None,
        completed_at: None,
        expires_at: None,
        fee_fixed: fees.card_fixed,
        fee_percentage_bps: fees.card_percentage_bps,
        pending_operation: None,
        batch_id: None,
    };
    c.record(
        CardStatus::Pending,
        Some(format!("{} sent to the processor", c.tx_type)),
        now,
    );
    let call = new_call(
        c.id.to_string(),
        &c,
        CardOperation::Authorize,
        c.amount.minor(),
        requester,
        now,
    );
    c.pending_operation = Some(pending(&call));
    tx.insert_card_collection(&c).await?;
    insert_call(tx, &call).await?;
    Ok((c, call))
}

fn pending(call: &ProcessorCall) -> PendingOperation {
    PendingOperation {
        operation: call.operation,
        amount: call.amount,
        reference: call.reference.clone(),
        requested_at: call.created_at,
    }
}

/// The card collection `operation` (`capture`, `void`, `refund`) applies to;
/// an ACH collection of the customer's is a wrong rail, not a missing one.
async fn load(
    tx: &mut Tx,
    customer: &CustomerId,
    id: &CollectionId,
    operation: &str,
) -> Result<CardCollection, CardError> {
    let c = match tx.get_card_collection(Some(customer), id).await {
        Ok(c) => c,
        Err(StoreError::NotFound) => {
            return Err(missing_card_collection(tx, customer, id, operation).await)
        }
        Err(e) => return Err(e.into()),
    };
    if c.pending_operation.is_some() {
        return Err(conflict(
            "operation_in_progress",
            "another operation on this collection is waiting for the processor; retry shortly",
        ));
    }
    Ok(c)
}

/// Why there is no card collection `id`: an ACH one of that id, or none.
async fn missing_card_collection(
    tx: &mut Tx,
    customer: &CustomerId,
    id: &CollectionId,
    operation: &str,
) -> CardError {
    match tx.get_ach_collection(Some(customer), id).await {
        Ok(_) => Refusal::wrong_rail(format!(
            "{id} is an ACH collection; {operation} applies to card collections"
        ))
        .into(),
        Err(StoreError::NotFound) => Refusal::not_found("collection").into(),
        Err(e) => e.into(),
    }
}

/// Mark the collection busy with `call` and commit both.
async fn commit_call(
    tx: &mut Tx,
    mut c: CardCollection,
    call: ProcessorCall,
) -> Result<(CardCollection, ProcessorCall), CardError> {
    let (was, refunded) = (c.status, c.refunded_minor);
    c.pending_operation = Some(pending(&call));
    c.updated_at = call.created_at;
    if !tx.update_card_collection_if(&c, was, refunded).await? {
        return Err(conflict(
            "concurrent_update",
            "the collection changed meanwhile; read it again and retry",
        ));
    }
    insert_call(tx, &call).await?;
    Ok((c, call))
}

fn amount_in(
    c: &CardCollection,
    amount: Option<Money>,
    ceiling: i64,
    over: (&'static str, String),
) -> Result<i64, CardError> {
    match amount {
        None => Ok(ceiling),
        Some(a) if a.currency() != c.amount.currency() => Err(unprocessable(
            "currency_mismatch",
            format!("amount.currency must be {}", c.amount.currency().code()),
            "amount.currency",
        )),
        Some(a) if a.minor() <= 0 => Err(unprocessable(
            "invalid_amount",
            "the amount must be above zero",
            "amount",
        )),
        Some(a) if a.minor() > ceiling => Err(unprocessable(over.0, over.1, "amount")),
        Some(a) => Ok(a.minor()),
    }
}

/// Capture (force) all or part (`amount`) of an authorization.
pub async fn reserve_capture(
    tx: &mut Tx,
    customer: &CustomerId,
    id: &CollectionId,
    amount: Option<Money>,
    requester: Option<CallRequester>,
    now: DateTime<Utc>,
) -> Result<(CardCollection, ProcessorCall), CardError> {
    let c = load(tx, customer, id, "capture").await?;
    if c.status != CardStatus::Authorized {
        return Err(conflict(
            "collection_not_capturable",
            format!(
                "a {} card collection cannot be captured; only an authorized one can",
                c.status
            ),
        ));
    }
    if c.expires_at.is_some_and(|e| e <= now) {
        return Err(conflict(
            "authorization_expired",
            "the authorization has expired; run a new sale or authorization",
        ));
    }
    let over = format!(
        "cannot capture {} when {} was authorized",
        amount.map(|a| a.minor()).unwrap_or_default(),
        c.authorized_minor
    );
    let minor = amount_in(
        &c,
        amount,
        c.authorized_minor,
        ("amount_exceeds_authorized", over),
    )?;
    let call = new_call(
        ProcessorCall::reference_for(&c.id, CardOperation::Capture, now),
        &c,
        CardOperation::Capture,
        minor,
        requester,
        now,
    );
    commit_call(tx, c, call).await
}

/// Void an authorization, or a capture not yet settled. `reason` is kept
/// for the status history.
pub async fn reserve_void(
    tx: &mut Tx,
    customer: &CustomerId,
    id: &CollectionId,
    reason: Option<String>,
    requester: Option<CallRequester>,
    now: DateTime<Utc>,
) -> Result<(CardCollection, ProcessorCall), CardError> {
    let c = load(tx, customer, id, "void").await?;
    let was = c.status;
    if !matches!(was, CardStatus::Authorized | CardStatus::Captured) || c.is_settled() {
        let hint = if matches!(
            was,
            CardStatus::Completed | CardStatus::PartiallyRefunded | CardStatus::Refunded
        ) {
            "; after settlement or a refund, refund instead"
        } else {
            ""
        };
        return Err(conflict(
            "collection_not_voidable",
            format!("a {was} card collection cannot be voided{hint}"),
        ));
    }
    let mut call = new_call(
        ProcessorCall::reference_for(&c.id, CardOperation::Void, now),
        &c,
        CardOperation::Void,
        0,
        requester,
        now,
    );
    call.reason = Some(reason.unwrap_or_else(|| "voided by the customer".into()));
    commit_call(tx, c, call).await
}

/// What a refund is asked with.
#[derive(Debug, Clone, Default)]
pub struct RefundAsk {
    /// `None`: all that remains.
    pub amount: Option<Money>,
    pub reason: Option<String>,
    pub metadata: Metadata,
}

/// Refund all that remains, or `ask.amount`, of a captured collection: the
/// refund is committed `pending` with its call (and `refund.created`).
pub async fn reserve_refund(
    tx: &mut Tx,
    customer: &CustomerId,
    id: &CollectionId,
    ask: RefundAsk,
    requester: Option<CallRequester>,
    now: DateTime<Utc>,
) -> Result<(CardCollection, ProcessorCall), CardError> {
    let RefundAsk {
        amount,
        reason,
        metadata,
    } = ask;
    let c = load(tx, customer, id, "a refund").await?;
    if !c.status.is_refundable() || c.refundable_minor() <= 0 {
        return Err(conflict("collection_not_refundable", format!("a {} card collection cannot be refunded; only a captured one can (void an authorization instead)", c.status)));
    }
    let over = format!(
        "cannot refund {}: {} was captured and {} already refunded",
        amount.map(|a| a.minor()).unwrap_or_default(),
        c.captured_minor,
        c.refunded_minor
    );
    let minor = amount_in(
        &c,
        amount,
        c.refundable_minor(),
        ("amount_exceeds_refundable", over),
    )?;
    let refund = CardRefund {
        id: RefundId::generate(now),
        collection_id: c.id.clone(),
        customer_id: c.customer_id.clone(),
        amount: Money::new(c.amount.currency(), minor)
            .map_err(|e| StoreError::Corrupt(format!("card collection {}: {e}", c.id)))?,
        reason,
        metadata,
        processor_ref: String::new(),
        status: RefundStatus::Pending,
        failure_reason: None,
        created_at: now,
    };
    tx.insert_card_refund(&refund).await?;
    let mut call = new_call(
        refund.id.to_string(),
        &c,
        CardOperation::Refund,
        minor,
        requester,
        now,
    );
    call.refund_id = Some(refund.id.clone());
    let (c, call) = commit_call(tx, c, call).await?;
    crate::events::refund_event(tx, &refund, &c, now).await?;
    Ok((c, call))
}
