//! The saved bank account (payment method) resource: masked, never the
//! account number.

use inflow_core::bank::{AccountType, HolderType};
use inflow_core::model::{
    AccountValidation, BankPaymentMethod, Metadata, PaymentMethodStatus, PaymentMethodType,
    ValidationMethod, ValidationStatus,
};
use serde::Serialize;
use utoipa::ToSchema;

use super::time;

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsBankAccountView {
    pub routing_number: String,
    pub last4: String,
    /// `****6789`; the full number is never returned.
    pub account_number_masked: String,
    pub account_type: AccountType,
    pub holder_name: String,
    pub holder_type: HolderType,
    /// Equal for the same routing and account number within this Inflow.
    pub fingerprint: String,
}

/// Whether the account is known to exist. Customers whose policy requires
/// it debit only validated accounts.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ValidationView {
    pub status: ValidationStatus,
    pub method: Option<ValidationMethod>,
    /// The prenote that validated (or is validating) the account.
    pub prenote_id: Option<String>,
    pub validated_at: Option<String>,
}

impl From<&AccountValidation> for ValidationView {
    fn from(v: &AccountValidation) -> Self {
        Self {
            status: v.status,
            method: v.method,
            prenote_id: v.prenote_id.as_ref().map(|p| p.to_string()),
            validated_at: v.validated_at.map(time),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentMethodView {
    pub id: String,
    /// Always `payment_method`.
    pub object: &'static str,
    #[serde(rename = "type")]
    pub kind: PaymentMethodType,
    pub customer_id: String,
    pub counterparty_id: Option<String>,
    pub status: PaymentMethodStatus,
    pub status_reason: Option<String>,
    pub external_id: Option<String>,
    pub us_bank_account: UsBankAccountView,
    pub validation: ValidationView,
    #[schema(value_type = Object)]
    pub metadata: Metadata,
    pub created_at: String,
    pub updated_at: String,
}

pub fn payment_method_view(p: &BankPaymentMethod) -> PaymentMethodView {
    PaymentMethodView {
        id: p.id.to_string(),
        object: "payment_method",
        kind: PaymentMethodType::UsBankAccount,
        customer_id: p.customer_id.to_string(),
        counterparty_id: p.counterparty_id.as_ref().map(|c| c.to_string()),
        status: p.status,
        status_reason: p.status_reason.clone(),
        external_id: p.external_id.clone(),
        us_bank_account: UsBankAccountView {
            routing_number: p.routing_number.to_string(),
            last4: p.account_last4.clone(),
            account_number_masked: format!("****{}", p.account_last4),
            account_type: p.account_type,
            holder_name: p.holder_name.clone(),
            holder_type: p.holder_type,
            fingerprint: p.fingerprint.clone(),
        },
        validation: ValidationView::from(&p.validation),
        metadata: p.metadata.clone(),
        created_at: time(p.created_at),
        updated_at: time(p.updated_at),
    }
}
