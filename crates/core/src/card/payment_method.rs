//! A saved card: brand, last 4, expiry and fingerprint in clear; the number
//! only sealed; the security code never.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::CardBrand;
use crate::ids::{CounterpartyId, CustomerId, PaymentMethodId};
use crate::model::{Metadata, PaymentMethodStatus};

/// The cardholder's billing address (postal code used for AVS).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BillingAddress {
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: String,
    /// ISO 3166-1 alpha-2, `US` by default.
    pub country: Option<String>,
}

/// A card payment method.
#[derive(Debug, Clone, PartialEq)]
pub struct CardPaymentMethod {
    pub id: PaymentMethodId,
    pub customer_id: CustomerId,
    pub counterparty_id: Option<CounterpartyId>,
    pub status: PaymentMethodStatus,
    pub external_id: Option<String>,
    pub brand: CardBrand,
    pub last4: String,
    pub exp_month: u32,
    pub exp_year: i32,
    /// Keyed hash of the number: the same card under every customer.
    pub fingerprint: String,
    /// Sealed with the payment method id as context.
    pub number_sealed: Vec<u8>,
    pub holder_name: String,
    pub billing_address: BillingAddress,
    /// `pass`, `fail` or `unchecked`: the processor's answer to the CVC given at creation.
    pub cvc_check: String,
    pub metadata: Metadata,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}
