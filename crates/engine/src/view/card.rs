//! The card collection and card payment method resources: brand, last 4,
//! expiry and fingerprint; never the number or security code.

use inflow_core::card::{
    BillingAddress, CardBrand, CardCollection, CardOperation, CardPaymentMethod, CardRefund,
    CardStatus, CardTxType, RefundStatus,
};
use inflow_core::model::{Metadata, PaymentMethodStatus};
use inflow_core::money::Money;
use serde::Serialize;
use utoipa::ToSchema;

use super::collection::{fees_view, money as signed_money, FeesView};
use super::{time, MoneyView};

/// The card charged (masked).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CardView {
    pub brand: CardBrand,
    pub last4: String,
    pub exp_month: u32,
    pub exp_year: i32,
    pub holder_name: String,
    /// Equal for the same card number within this Inflow.
    pub fingerprint: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CardStatusChangeView {
    pub status: CardStatus,
    pub reason: Option<String>,
    pub at: String,
}

/// What the processor answered.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProcessorView {
    pub approval_code: Option<String>,
    pub reference: Option<String>,
    pub decline_code: Option<String>,
    pub decline_message: Option<String>,
    /// `pass`, `fail` or `unchecked`.
    pub cvc_result: Option<String>,
}

/// A card collection (`rail: card`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CardCollectionView {
    pub id: String,
    /// Always `collection`.
    pub object: &'static str,
    pub customer_id: String,
    /// Always `card`.
    pub rail: &'static str,
    #[serde(rename = "type")]
    pub kind: CardTxType,
    pub direction: &'static str,
    /// The amount asked for.
    pub amount: MoneyView,
    pub authorized_amount: MoneyView,
    pub captured_amount: MoneyView,
    pub refunded_amount: MoneyView,
    /// Card fees (percentage + fixed) on the captured amount — on the
    /// authorized one before capture; none once declined or voided. Kept
    /// when money is refunded.
    pub fees: FeesView,
    /// What the destination account is credited: captured − fees − refunded.
    pub total_credit_amount: MoneyView,
    pub status: CardStatus,
    pub status_reason: Option<String>,
    pub status_history: Vec<CardStatusChangeView>,
    /// Whether capture, void or refund would be accepted now.
    pub capturable: bool,
    pub voidable: bool,
    pub refundable: bool,
    pub destination_account_id: String,
    pub payment_method_id: String,
    pub card: CardView,
    pub processor: ProcessorView,
    pub external_id: Option<String>,
    pub reference: Option<String>,
    #[schema(value_type = Object)]
    pub metadata: Metadata,
    pub created_at: String,
    pub updated_at: String,
    pub authorized_at: Option<String>,
    pub captured_at: Option<String>,
    pub voided_at: Option<String>,
    pub completed_at: Option<String>,
    /// An uncaptured authorization expires then.
    pub expires_at: Option<String>,
    /// Settled at the processor's batch close (`completedAt` is when).
    pub settled: bool,
    /// The processor batch that settled it.
    pub batch_id: Option<String>,
    /// A processor call made and not yet answered (a timeout): Inflow
    /// retries it with the same reference until the processor answers; no
    /// other operation is accepted meanwhile.
    pub pending_operation: Option<PendingOperationView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PendingOperationView {
    /// `authorize`, `capture`, `void` or `refund`.
    pub operation: CardOperation,
    pub amount: MoneyView,
    /// The processor's idempotency key for the call.
    pub reference: String,
    pub requested_at: String,
}

fn money(c: &CardCollection, minor: i64) -> MoneyView {
    Money::new(c.amount.currency(), minor)
        .unwrap_or(c.amount)
        .into()
}

pub fn card_collection_view(c: &CardCollection) -> CardCollectionView {
    let idle = c.pending_operation.is_none();
    CardCollectionView {
        id: c.id.to_string(),
        object: "collection",
        customer_id: c.customer_id.to_string(),
        rail: "card",
        kind: c.tx_type,
        direction: "inbound",
        amount: c.amount.into(),
        authorized_amount: money(c, c.authorized_minor),
        captured_amount: money(c, c.captured_minor),
        refunded_amount: money(c, c.refunded_minor),
        fees: {
            let f = c.fees();
            fees_view(c.amount.currency(), &f, f.total())
        },
        total_credit_amount: signed_money(c.amount.currency(), c.total_credit_minor()),
        status: c.status,
        status_reason: c.status_reason.clone(),
        status_history: c
            .status_history
            .iter()
            .map(|h| CardStatusChangeView {
                status: h.status,
                reason: h.reason.clone(),
                at: time(h.at),
            })
            .collect(),
        capturable: idle && c.status == CardStatus::Authorized,
        voidable: idle
            && !c.is_settled()
            && matches!(c.status, CardStatus::Authorized | CardStatus::Captured),
        refundable: idle && c.status.is_refundable() && c.refundable_minor() > 0,
        destination_account_id: c.destination_account_id.to_string(),
        payment_method_id: c.payment_method_id.to_string(),
        card: CardView {
            brand: c.brand,
            last4: c.last4.clone(),
            exp_month: c.exp_month,
            exp_year: c.exp_year,
            holder_name: c.holder_name.clone(),
            fingerprint: c.fingerprint.clone(),
        },
        processor: ProcessorView {
            approval_code: c.approval_code.clone(),
            reference: c.processor_ref.clone(),
            decline_code: c.decline_code.clone(),
            decline_message: c.decline_message.clone(),
            cvc_result: c.cvc_result.clone(),
        },
        external_id: c.external_id.clone(),
        reference: c.reference.clone(),
        metadata: c.metadata.clone(),
        created_at: time(c.created_at),
        updated_at: time(c.updated_at),
        authorized_at: c.authorized_at.map(time),
        captured_at: c.captured_at.map(time),
        voided_at: c.voided_at.map(time),
        completed_at: c.completed_at.map(time),
        expires_at: c.expires_at.map(time),
        settled: c.is_settled(),
        batch_id: c.batch_id.clone(),
        pending_operation: c.pending_operation.as_ref().map(|p| PendingOperationView {
            operation: p.operation,
            amount: money(c, p.amount),
            reference: p.reference.clone(),
            requested_at: time(p.requested_at),
        }),
    }
}

/// A card refund (`rail: card`) as the [`super::RefundView`] resource.
pub fn refund_view(r: &CardRefund, c: &CardCollection) -> super::RefundView {
    super::RefundView {
        id: r.id.to_string(),
        object: "refund",
        rail: "card",
        customer_id: r.customer_id.to_string(),
        collection_id: r.collection_id.to_string(),
        amount: r.amount.into(),
        reason: r.reason.clone(),
        status: match r.status {
            RefundStatus::Pending => super::RefundViewStatus::Pending,
            RefundStatus::Succeeded => super::RefundViewStatus::Succeeded,
            RefundStatus::Failed => super::RefundViewStatus::Failed,
        },
        failure_reason: r.failure_reason.clone(),
        processor_reference: Some(r.processor_ref.clone()).filter(|p| !p.is_empty()),
        ach: None,
        metadata: r.metadata.clone(),
        created_at: time(r.created_at),
        collection: super::RefundCollectionView::Card(Box::new(card_collection_view(c))),
    }
}

/// A saved card.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CardPaymentMethodView {
    pub id: String,
    /// Always `payment_method`.
    pub object: &'static str,
    /// Always `card`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub customer_id: String,
    pub counterparty_id: Option<String>,
    pub status: PaymentMethodStatus,
    pub external_id: Option<String>,
    pub card: CardView,
    pub billing_address: BillingAddress,
    /// The processor's answer to the security code given at creation: `pass`, `fail` or `unchecked`.
    pub cvc_check: String,
    #[schema(value_type = Object)]
    pub metadata: Metadata,
    pub created_at: String,
    pub updated_at: String,
}

pub fn card_payment_method_view(p: &CardPaymentMethod) -> CardPaymentMethodView {
    CardPaymentMethodView {
        id: p.id.to_string(),
        object: "payment_method",
        kind: "card",
        customer_id: p.customer_id.to_string(),
        counterparty_id: p.counterparty_id.as_ref().map(|c| c.to_string()),
        status: p.status,
        external_id: p.external_id.clone(),
        card: CardView {
            brand: p.brand,
            last4: p.last4.clone(),
            exp_month: p.exp_month,
            exp_year: p.exp_year,
            holder_name: p.holder_name.clone(),
            fingerprint: p.fingerprint.clone(),
        },
        billing_address: p.billing_address.clone(),
        cvc_check: p.cvc_check.clone(),
        metadata: p.metadata.clone(),
        created_at: time(p.created_at),
        updated_at: time(p.updated_at),
    }
}
