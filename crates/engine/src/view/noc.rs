//! The notification of change on a collection, as integrators see it: the
//! corrected data with any DFI account number masked, and its parts.

use inflow_core::bank::AccountType;
use inflow_core::noc::NocCorrection;
use serde::Serialize;
use utoipa::ToSchema;

/// A notification of change received for this collection.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NocView {
    /// The change code (`C01`…).
    pub code: String,
    pub description: Option<String>,
    /// The corrected data as the bank sent it, except that a DFI account
    /// number in it (C01, C03, C06, C07) is masked: `****0001`, its parts one
    /// space apart (`231380104 ****0001 27`). The full number is kept only
    /// encrypted.
    #[schema(example = "****0001")]
    pub corrected_data: Option<String>,
    /// The corrected data's parts: what the bank says to change.
    pub correction: Option<NocCorrectionView>,
}

/// What a notification of change corrects.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NocCorrectionView {
    /// New routing number (C02, C03, C07).
    pub routing_number: Option<String>,
    /// New account number (C01, C03, C06, C07), masked.
    pub account_number: Option<MaskedAccountView>,
    /// New account type, from the new transaction code (C05, C06, C07).
    pub account_type: Option<AccountType>,
    /// New transaction code (C05, C06, C07).
    pub transaction_code: Option<String>,
    /// New name (C04).
    pub name: Option<String>,
    /// New individual identification number (C09).
    pub individual_id: Option<String>,
}

/// An account number shown without its digits.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MaskedAccountView {
    #[schema(example = "0001")]
    pub last4: String,
    #[schema(example = "****0001")]
    pub masked: String,
    /// Keyed fingerprint of routing + account number: the same as the
    /// `fingerprint` of the payment method once the correction is applied.
    pub fingerprint: String,
}

/// The NOC view of change code `code` with (masked) `corrected_data`.
pub fn noc_view(
    code: &str,
    corrected_data: Option<&str>,
    correction: Option<&NocCorrection>,
) -> NocView {
    NocView {
        code: code.to_owned(),
        description: nacha::ChangeCode::parse(code).map(|c| c.description().to_owned()),
        corrected_data: corrected_data.map(str::to_owned),
        correction: correction.map(|c| NocCorrectionView {
            routing_number: c.routing_number.clone(),
            account_number: c.account.as_ref().map(|a| MaskedAccountView {
                last4: a.last4.clone(),
                masked: a.masked(),
                fingerprint: a.fingerprint.clone(),
            }),
            account_type: c.account_type,
            transaction_code: c.transaction_code.clone(),
            name: c.name.clone(),
            individual_id: c.individual_id.clone(),
        }),
    }
}
