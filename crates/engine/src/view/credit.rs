//! Refunds (both rails) and ACH reversals as integrators see them.

use inflow_core::collection::AchCollection;
use inflow_core::model::Metadata;
use inflow_store::repo::ach_credits::AchCreditEntry;
use serde::Serialize;
use utoipa::ToSchema;

use super::{collection_view, time, CardCollectionView, CollectionView, MoneyView};

/// Where a refund is. Card refunds: `pending` until the processor answers,
/// then `succeeded` or `failed`. ACH refunds (a credit entry): `pending`
/// until a cutoff files it, `batched` (in a file not yet at the bank),
/// `submitted`, then `completed` once the good-funds period has passed, or
/// `returned` when the receiving bank returns the credit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefundViewStatus {
    Pending,
    Succeeded,
    Failed,
    Batched,
    Submitted,
    Completed,
    Returned,
}

impl RefundViewStatus {
    fn of_credit(status: &str) -> Self {
        match status {
            "batched" => Self::Batched,
            "submitted" => Self::Submitted,
            "completed" => Self::Completed,
            "returned" => Self::Returned,
            "cancelled" => Self::Failed,
            _ => Self::Pending,
        }
    }
}

/// The collection a refund gives money back for, as it is now.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum RefundCollectionView {
    Ach(Box<CollectionView>),
    Card(Box<CardCollectionView>),
}

/// The credit entry of an ACH refund or reversal.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AchCreditView {
    /// `PPD` or `CCD` for a refund (a WEB or TEL debit is refunded by a PPD
    /// credit); the original's SEC code for a reversal.
    pub sec_code: String,
    /// `REFUND` or `REVERSAL`.
    pub company_entry_description: String,
    /// `22` (checking credit) or `32` (savings credit).
    pub transaction_code: String,
    /// Set when a cutoff files the entry.
    pub effective_date: Option<String>,
    pub trace_number: Option<String>,
    /// The outbound file carrying the credit.
    pub file_id: Option<String>,
    /// The return code when the credit came back.
    pub return_code: Option<String>,
    pub status_reason: Option<String>,
    pub submitted_at: Option<String>,
    pub completed_at: Option<String>,
    pub returned_at: Option<String>,
}

/// A refund (`rfd_…`) and the collection as it is after it.
///
/// One object for every rail: `rail` says which. An ACH refund is a credit
/// entry to the payer's account (`ach` holds its NACHA details).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefundView {
    pub id: String,
    /// Always `refund`.
    pub object: &'static str,
    /// The rail the money goes back by: `card` or `ach`.
    pub rail: &'static str,
    pub customer_id: String,
    pub collection_id: String,
    pub amount: MoneyView,
    pub reason: Option<String>,
    pub status: RefundViewStatus,
    pub failure_reason: Option<String>,
    /// The processor's id for a card refund; null until it has answered,
    /// on a failed refund, and for ACH refunds.
    pub processor_reference: Option<String>,
    /// ACH refunds only: the credit entry.
    pub ach: Option<AchCreditView>,
    #[schema(value_type = Object)]
    pub metadata: Metadata,
    pub created_at: String,
    pub collection: RefundCollectionView,
}

fn credit_view(e: &AchCreditEntry, c: &AchCollection) -> AchCreditView {
    AchCreditView {
        sec_code: e.sec_code.clone(),
        company_entry_description: e.company_entry_description.clone(),
        transaction_code: match c.account_type {
            inflow_core::bank::AccountType::Checking => "22".into(),
            inflow_core::bank::AccountType::Savings => "32".into(),
        },
        effective_date: e.effective_date.map(|d| d.to_string()),
        trace_number: e.trace_number.clone(),
        file_id: e.file_id.clone(),
        return_code: e.return_code.clone(),
        status_reason: e.status_reason.clone(),
        submitted_at: e.submitted_at.map(time),
        completed_at: e.completed_at.map(time),
        returned_at: e.returned_at.map(time),
    }
}

/// An ACH refund (`rail: ach`).
pub fn ach_refund_view(e: &AchCreditEntry, c: &AchCollection) -> RefundView {
    RefundView {
        id: e.id.clone(),
        object: "refund",
        rail: "ach",
        customer_id: e.customer_id.to_string(),
        collection_id: e.collection_id.to_string(),
        amount: e.amount.into(),
        reason: e.reason.clone(),
        status: RefundViewStatus::of_credit(&e.status),
        failure_reason: (e.status == "returned")
            .then(|| e.status_reason.clone())
            .flatten(),
        processor_reference: None,
        ach: Some(credit_view(e, c)),
        metadata: e.metadata.clone(),
        created_at: time(e.created_at),
        collection: RefundCollectionView::Ach(Box::new(collection_view(c))),
    }
}

/// A NACHA reversing entry (`rvs_…`) of an erroneous debit (operator).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReversalView {
    pub id: String,
    /// Always `reversal`.
    pub object: &'static str,
    pub customer_id: String,
    /// The debit reversed.
    pub collection_id: String,
    /// Set when the whole file was reversed (`POST /v1/ach/files/{id}/reversal`).
    pub reversal_of_file_id: Option<String>,
    /// The original's amount.
    pub amount: MoneyView,
    /// `duplicate`, `wrong_receiver`, `wrong_amount` or `wrong_date`.
    pub reason: Option<String>,
    /// `pending`, `batched`, `submitted`, `completed`, `returned`, or
    /// `cancelled` (the debit was returned before the reversal was filed).
    pub status: String,
    pub status_reason: Option<String>,
    /// The original's SEC code.
    pub sec_code: String,
    /// Always `REVERSAL`.
    pub company_entry_description: String,
    pub effective_date: Option<String>,
    pub trace_number: Option<String>,
    /// The reversing file.
    pub file_id: Option<String>,
    pub return_code: Option<String>,
    pub created_at: String,
}

pub fn reversal_view(e: &AchCreditEntry) -> ReversalView {
    ReversalView {
        id: e.id.clone(),
        object: "reversal",
        customer_id: e.customer_id.to_string(),
        collection_id: e.collection_id.to_string(),
        reversal_of_file_id: e.reversal_of_file_id.clone(),
        amount: e.amount.into(),
        reason: e.reason.clone(),
        status: e.status.clone(),
        status_reason: e.status_reason.clone(),
        sec_code: e.sec_code.clone(),
        company_entry_description: e.company_entry_description.clone(),
        effective_date: e.effective_date.map(|d| d.to_string()),
        trace_number: e.trace_number.clone(),
        file_id: e.file_id.clone(),
        return_code: e.return_code.clone(),
        created_at: time(e.created_at),
    }
}
