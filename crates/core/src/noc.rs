//! A notification of change (NOC) as Inflow keeps it on a collection.
//!
//! The corrected data a bank sends with C01, C03, C06 and C07 carries a DFI
//! account number. Inflow never keeps that number in clear: the whole
//! corrected-data field is sealed (AES-256-GCM, see [`crate::crypto::Vault`])
//! and only its non-secret parts are kept readable here — the routing
//! number, the account's last 4 and keyed fingerprint, the account type and
//! transaction code, a name or an identification number. Sealing and
//! parsing happen in the engine (`inflow_engine::inbound::corrected`), which
//! knows the NACHA layouts.

use serde::{Deserialize, Serialize};

use crate::bank::AccountType;

/// The structured, sealed form of a NOC's corrected data.
///
/// Stored as JSON (`collections.noc_correction`) except for [`Self::sealed`],
/// which lives in its own binary column.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NocCorrection {
    /// The corrected-data field as received, sealed with the collection id
    /// (see [`noc_seal_context`]). Empty when there was nothing to seal.
    #[serde(skip)]
    pub sealed: Vec<u8>,
    /// New routing number (C02, C03, C07).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing_number: Option<String>,
    /// New DFI account number (C01, C03, C06, C07), masked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<MaskedAccount>,
    /// Account type implied by a new transaction code (C05, C06, C07).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_type: Option<AccountType>,
    /// New transaction code, two digits (C05, C06, C07).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_code: Option<String>,
    /// New individual or company name (C04).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New individual identification number (C09).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub individual_id: Option<String>,
}

/// An account number as Inflow shows it: last 4 and a keyed fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MaskedAccount {
    pub last4: String,
    /// HMAC of routing + account under the master key: equal to the
    /// fingerprint of a payment method holding the same bank account.
    pub fingerprint: String,
}

impl MaskedAccount {
    /// `****0001`
    pub fn masked(&self) -> String {
        format!("****{}", self.last4)
    }
}

/// The associated data a collection's NOC corrected data is sealed with:
/// the row id plus the column, so it cannot be swapped with the row's
/// sealed source account number.
pub fn noc_seal_context(collection_id: &str) -> String {
    format!("{collection_id}/noc")
}

/// The associated data an inbound return/NOC entry's corrected data is
/// sealed with (`ach_returns` row id).
pub fn return_seal_context(return_id: &str) -> String {
    format!("{return_id}/corrected_data")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sealed_bytes_are_not_part_of_the_json_form() {
        let c = NocCorrection {
            sealed: vec![1, 2, 3],
            account: Some(MaskedAccount {
                last4: "0001".into(),
                fingerprint: "ab".into(),
            }),
            ..Default::default()
        };
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(json, r#"{"account":{"last4":"0001","fingerprint":"ab"}}"#);
        let back: NocCorrection = serde_json::from_str(&json).unwrap();
        assert!(back.sealed.is_empty());
        assert_eq!(back.account.unwrap().masked(), "****0001");
    }
}
