//! Card request bodies (their errors map to HTTP in `crate::error`).

use inflow_core::card::{BillingAddress, CardTxType};
use inflow_core::model::Metadata;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::api::common::MoneyInput;

/// The most one card transaction may be for, in cents ($24,999.99).
pub const CARD_TRANSACTION_LIMIT_MINOR: i64 = 2_499_999;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CardInput {
    /// The card number (12–19 digits, Luhn-checked). Stored only encrypted.
    #[schema(example = "4242424242424242")]
    pub number: String,
    pub exp_month: u32,
    pub exp_year: i32,
    /// Passed to the processor once to verify it; never stored or logged.
    pub cvc: Option<String>,
    pub holder_name: String,
    pub billing_address: BillingAddress,
}

/// A sale, authorization or force on a saved card.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateCardCollectionRequest {
    /// `card` (required on `POST /v1/collections`, implied on `/v1/collections/card`).
    pub rail: Option<String>,
    /// `sale` (authorize and capture), `authorization` (hold only) or `force` (with `approvalCode`).
    #[serde(rename = "type")]
    pub kind: CardTxType,
    /// The customer's account the money goes to (`acc_…`)…
    pub destination_account_id: Option<String>,
    /// …or the same addressed by your `externalId` (exactly one of the two).
    pub destination_account_external_id: Option<String>,
    /// A saved card (`pm_…`)…
    pub payment_method_id: Option<String>,
    /// …or the same addressed by your `externalId`.
    pub payment_method_external_id: Option<String>,
    pub amount: MoneyInput,
    /// The security code, passed to the processor for this transaction only; never stored.
    pub cvc: Option<String>,
    /// For `force`: the approval code obtained elsewhere (voice or offline authorization).
    pub approval_code: Option<String>,
    pub reference: Option<String>,
    /// Your id for this collection; unique per customer.
    pub external_id: Option<String>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub metadata: Metadata,
    /// Create it even if it looks like a duplicate.
    #[serde(default)]
    pub allow_duplicate: bool,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CaptureRequest {
    /// Less than authorized: a partial force. Default: the authorized amount.
    pub amount: Option<MoneyInput>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VoidRequest {
    pub reason: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RefundRequest {
    /// Default: everything not yet refunded.
    pub amount: Option<MoneyInput>,
    pub reason: Option<String>,
    /// Your own keys and values, kept with the refund.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub metadata: Metadata,
    /// ACH only, operator keys only: refund before the debit has completed
    /// (good funds). Default `false`: an ACH debit still in flight is `409 collection_in_flight`.
    pub allow_before_completion: Option<bool>,
}
