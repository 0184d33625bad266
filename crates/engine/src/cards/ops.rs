//! Card operations. Each runs in the caller's transaction: it checks the
//! collection's state, asks the processor, and writes the new state, its
//! `statusHistory` entry, its event and its ledger hook together.
//!
//! The built-in sandbox processor answers in-process. A network processor
//! would need the reserve → call → confirm split (see `docs/cards.md`).

use chrono::{DateTime, Duration, Utc};
use inflow_core::card::{
    CardCollection, CardNumber, CardPaymentMethod, CardRefund, CardStatus, CardTxType, Cvc,
};
use inflow_core::crypto::Vault;
use inflow_core::ids::{AccountId, CollectionId, CustomerId, RefundId};
use inflow_core::model::{Metadata, PaymentMethodStatus};
use inflow_core::money::Money;
use inflow_store::{StoreError, Tx};

use super::processor::{
    AuthorizeOutcome, AuthorizeRequest, CardData, CardProcessor, ProcessorError,
};
use super::{postings, AUTHORIZATION_TTL_DAYS};
use crate::events::card_status_event;

/// Why a card operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum CardError {
    #[error("{0} not found")]
    NotFound(&'static str),
    /// 409: the collection's state does not allow it.
    #[error("{code}: {message}")]
    Conflict {
        code: &'static str,
        message: String,
        param: Option<&'static str>,
    },
    /// 422: the amount is not allowed.
    #[error("{code}: {message}")]
    Unprocessable {
        code: &'static str,
        message: String,
        param: &'static str,
    },
    #[error(transparent)]
    Processor(#[from] ProcessorError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn conflict(code: &'static str, message: impl Into<String>) -> CardError {
    CardError::Conflict {
        code,
        message: message.into(),
        param: None,
    }
}

/// A new sale, authorization or force, after request parsing.
#[derive(Debug, Clone)]
pub struct NewCardCollection {
    pub customer_id: CustomerId,
    pub tx_type: CardTxType,
    pub amount: Money,
    pub destination_account_id: AccountId,
    pub payment_method: CardPaymentMethod,
    pub cvc: Option<Cvc>,
    pub approval_code: Option<String>,
    pub external_id: Option<String>,
    pub reference: Option<String>,
    pub metadata: Metadata,
}

/// Run a sale, authorization or force: the new collection is `captured`,
/// `authorized` or `declined`.
pub async fn create(
    tx: &mut Tx,
    processor: &dyn CardProcessor,
    vault: &Vault,
    new: NewCardCollection,
    now: DateTime<Utc>,
) -> Result<CardCollection, CardError> {
    let pm = &new.payment_method;
    if pm.status != PaymentMethodStatus::Active {
        return Err(CardError::Conflict {
            code: "payment_method_not_active",
            message: format!("the payment method is {}", pm.status),
            param: Some("paymentMethodId"),
        });
    }
    let id = CollectionId::generate(now);
    let opened = vault
        .open(&pm.number_sealed, pm.id.as_str())
        .map_err(|_| StoreError::Corrupt("sealed card number".into()))?;
    let number = String::from_utf8(opened)
        .ok()
        .and_then(|s| CardNumber::parse("number", &s).ok())
        .ok_or_else(|| StoreError::Corrupt("sealed card number".into()))?;
    let outcome = processor
        .authorize(AuthorizeRequest {
            reference: id.as_str(),
            amount: new.amount,
            card: CardData {
                number: &number,
                exp_month: pm.exp_month,
                exp_year: pm.exp_year,
                cvc: new.cvc.as_ref(),
                postal_code: &pm.billing_address.postal_code,
            },
            capture: new.tx_type != CardTxType::Authorization,
            approval_code: new.approval_code.as_deref(),
        })
        .await?;
    let mut c = CardCollection {
        id,
        customer_id: new.customer_id,
        tx_type: new.tx_type,
        status: CardStatus::Authorized,
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
        approval_code: None,
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
    };
    match outcome {
        AuthorizeOutcome::Declined { code, message } => {
            c.record(
                CardStatus::Declined,
                Some(format!("{code}: {message}")),
                now,
            );
            c.decline_code = Some(code);
            c.decline_message = Some(message);
            tx.insert_card_collection(&c).await?;
            card_status_event(tx, &c, now).await?;
        }
        AuthorizeOutcome::Approved(a) => {
            c.authorized_minor = a.approved_minor;
            c.approval_code = Some(a.approval_code);
            c.processor_ref = Some(a.processor_ref);
            c.cvc_result = Some(a.cvc_result);
            c.authorized_at = Some(now);
            let partial = a.approved_minor < new.amount.minor();
            let why = if partial {
                format!(
                    "partially approved: {} of {}",
                    a.approved_minor,
                    new.amount.minor()
                )
            } else if new.tx_type == CardTxType::Force {
                "forced with an approval code obtained elsewhere".into()
            } else {
                "approved".into()
            };
            c.record(CardStatus::Authorized, Some(why), now);
            if new.tx_type == CardTxType::Authorization {
                c.expires_at = Some(now + Duration::days(AUTHORIZATION_TTL_DAYS));
                tx.insert_card_collection(&c).await?;
                card_status_event(tx, &c, now).await?;
            } else {
                let authorized = c.clone();
                c.captured_minor = c.authorized_minor;
                c.transition(
                    CardStatus::Captured,
                    Some(format!("{} captured", new.tx_type)),
                    now,
                )
                .map_err(|e| conflict("invalid_transition", e.to_string()))?;
                tx.insert_card_collection(&c).await?;
                card_status_event(tx, &authorized, now).await?;
                card_status_event(tx, &c, now).await?;
                postings::on_capture(tx, &c, c.captured_minor).await?;
            }
        }
    }
    Ok(c)
}

async fn load(
    tx: &mut Tx,
    customer: &CustomerId,
    id: &CollectionId,
) -> Result<CardCollection, CardError> {
    tx.get_card_collection(Some(customer), id)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => CardError::NotFound("collection"),
            e => e.into(),
        })
}

async fn save(
    tx: &mut Tx,
    c: &CardCollection,
    was: CardStatus,
    refunded_was: i64,
) -> Result<(), CardError> {
    if tx.update_card_collection_if(c, was, refunded_was).await? {
        Ok(())
    } else {
        Err(conflict(
            "concurrent_update",
            "the collection changed meanwhile; read it again and retry",
        ))
    }
}

/// Capture (force) all or part (`amount`) of an authorization.
pub async fn capture(
    tx: &mut Tx,
    processor: &dyn CardProcessor,
    customer: &CustomerId,
    id: &CollectionId,
    amount: Option<Money>,
    now: DateTime<Utc>,
) -> Result<CardCollection, CardError> {
    let mut c = load(tx, customer, id).await?;
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
    let minor = match amount {
        None => c.authorized_minor,
        Some(a) if a.currency() != c.amount.currency() => {
            return Err(CardError::Unprocessable {
                code: "currency_mismatch",
                message: format!("amount.currency must be {}", c.amount.currency().code()),
                param: "amount.currency",
            })
        }
        Some(a) if a.minor() <= 0 => {
            return Err(CardError::Unprocessable {
                code: "invalid_amount",
                message: "the capture amount must be above zero".into(),
                param: "amount",
            })
        }
        Some(a) if a.minor() > c.authorized_minor => {
            return Err(CardError::Unprocessable {
                code: "amount_exceeds_authorized",
                message: format!(
                    "cannot capture {} when {} was authorized",
                    a.minor(),
                    c.authorized_minor
                ),
                param: "amount",
            })
        }
        Some(a) => a.minor(),
    };
    let processor_ref = c.processor_ref.clone().unwrap_or_default();
    processor
        .capture(
            &processor_ref,
            Money::new(c.amount.currency(), minor)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        )
        .await?;
    let reason = if minor < c.authorized_minor {
        format!("partial force: {minor} of {} captured", c.authorized_minor)
    } else {
        "captured".into()
    };
    c.captured_minor = minor;
    c.transition(CardStatus::Captured, Some(reason), now)
        .map_err(|e| conflict("collection_not_capturable", e.to_string()))?;
    save(tx, &c, CardStatus::Authorized, 0).await?;
    card_status_event(tx, &c, now).await?;
    postings::on_capture(tx, &c, minor).await?;
    Ok(c)
}

/// Void an authorization, or a capture not yet settled.
pub async fn void(
    tx: &mut Tx,
    processor: &dyn CardProcessor,
    customer: &CustomerId,
    id: &CollectionId,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> Result<CardCollection, CardError> {
    let mut c = load(tx, customer, id).await?;
    let was = c.status;
    if !matches!(was, CardStatus::Authorized | CardStatus::Captured) {
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
    processor
        .void(c.processor_ref.as_deref().unwrap_or_default())
        .await?;
    let voided_capture = c.captured_minor;
    c.transition(
        CardStatus::Voided,
        Some(reason.unwrap_or_else(|| "voided by the customer".into())),
        now,
    )
    .map_err(|e| conflict("collection_not_voidable", e.to_string()))?;
    save(tx, &c, was, 0).await?;
    card_status_event(tx, &c, now).await?;
    postings::on_void(tx, &c, voided_capture).await?;
    Ok(c)
}

/// Refund all that remains, or `amount`, of a captured collection.
pub async fn refund(
    tx: &mut Tx,
    processor: &dyn CardProcessor,
    customer: &CustomerId,
    id: &CollectionId,
    amount: Option<Money>,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> Result<(CardCollection, CardRefund), CardError> {
    let mut c = load(tx, customer, id).await?;
    let was = c.status;
    if !was.is_refundable() {
        return Err(conflict("collection_not_refundable", format!("a {was} card collection cannot be refunded; only a captured one can (void an authorization instead)")));
    }
    let remaining = c.refundable_minor();
    let minor = match amount {
        None => remaining,
        Some(a) if a.currency() != c.amount.currency() => {
            return Err(CardError::Unprocessable {
                code: "currency_mismatch",
                message: format!("amount.currency must be {}", c.amount.currency().code()),
                param: "amount.currency",
            })
        }
        Some(a) if a.minor() <= 0 => {
            return Err(CardError::Unprocessable {
                code: "invalid_amount",
                message: "the refund amount must be above zero".into(),
                param: "amount",
            })
        }
        Some(a) if a.minor() > remaining => {
            return Err(CardError::Unprocessable {
                code: "amount_exceeds_refundable",
                message: format!(
                    "cannot refund {}: {} was captured and {} already refunded",
                    a.minor(),
                    c.captured_minor,
                    c.refunded_minor
                ),
                param: "amount",
            })
        }
        Some(a) => a.minor(),
    };
    let refunded_was = c.refunded_minor;
    let refund_id = RefundId::generate(now);
    let money =
        Money::new(c.amount.currency(), minor).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let processor_ref = processor
        .refund(
            c.processor_ref.as_deref().unwrap_or_default(),
            refund_id.as_str(),
            money,
        )
        .await?;
    c.refunded_minor += minor;
    let to = if c.refunded_minor == c.captured_minor {
        CardStatus::Refunded
    } else {
        CardStatus::PartiallyRefunded
    };
    c.transition(
        to,
        Some(format!(
            "{minor} refunded ({} of {} in total)",
            c.refunded_minor, c.captured_minor
        )),
        now,
    )
    .map_err(|e| conflict("collection_not_refundable", e.to_string()))?;
    save(tx, &c, was, refunded_was).await?;
    let r = CardRefund {
        id: refund_id,
        collection_id: c.id.clone(),
        customer_id: c.customer_id.clone(),
        amount: money,
        reason,
        processor_ref,
        created_at: now,
    };
    tx.insert_card_refund(&r).await?;
    card_status_event(tx, &c, now).await?;
    postings::on_refund(tx, &c, &r).await?;
    Ok((c, r))
}
