//! Collections: the lifecycle every pull payment follows, whatever its rail.
//!
//! ```text
//! scheduled ──▶ pending ──▶ submitted ──▶ processing ──▶ completed
//!    │            │  ▲          │              │             │
//!    ▼            ▼  │          ▼              ▼             ▼
//! cancelled   on_hold┘       failed         returned      returned (late, ≤60 days)
//! ```
//! A filed debit (`submitted`, `processing` or `completed`) becomes
//! `reversed` when the operator's NACHA reversing entry for it is filed.
//! A transition not drawn here is refused; that is what keeps a returned or
//! cancelled collection from ever moving money again.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::bank::{string_enum, AccountType, HolderType, RoutingNumber};
pub use crate::calendar::ProcessingMode;
use crate::ids::{AccountId, CollectionId, CounterpartyId, CustomerId, PaymentMethodId};
use crate::model::Metadata;
use crate::money::Money;

string_enum!(
/// Where a collection is in its lifecycle.
CollectionStatus, "collection status" {
    Scheduled => "scheduled",
    Pending => "pending",
    OnHold => "on_hold",
    Batched => "batched",
    Submitted => "submitted",
    Processing => "processing",
    Completed => "completed",
    Returned => "returned",
    Failed => "failed",
    Cancelled => "cancelled",
    Reversed => "reversed",
});
string_enum!(
    /// The payment network.
    Rail, "rail" { Ach => "ach", Card => "card" });
string_enum!(
    /// A live debit, or a zero-amount prenotification that validates the account.
    AchEntryType, "collection type" { Debit => "debit", Prenote => "prenote" });
string_enum!(
    /// NACHA Standard Entry Class codes Inflow originates.
    SecCode, "SEC code" { Ppd => "PPD", Ccd => "CCD", Web => "WEB", Tel => "TEL" });
string_enum!(
    /// WEB/TEL payment type code: a single entry or one of a recurring series.
    PaymentType, "payment type" { Single => "single", Recurring => "recurring" });
string_enum!(
/// Why an `on_hold` collection waits, which decides what releases it.
/// A collection held for several reasons shows the first that applies;
/// it is released only when every reason has cleared.
HoldCode, "hold code" {
    DestinationBlocked => "destination_blocked",
    PrenotePending => "prenote_pending",
    CustomerSuspended => "customer_suspended",
    PaymentMethodBlocked => "payment_method_blocked",
    PaymentMethodInactive => "payment_method_inactive",
    SchedulePaused => "schedule_paused",
});
string_enum!(
    /// How the payer authorised the debit (the originator's proof).
    AuthorizationType, "authorization type" { Written => "written", Phone => "phone", Online => "online" });

impl CollectionStatus {
    /// Can a collection in `self` move to `to`?
    pub fn can_become(self, to: CollectionStatus) -> bool {
        use CollectionStatus::*;
        matches!(
            (self, to),
            (Scheduled, Pending | OnHold | Cancelled | Failed)
                | (Pending, Batched | Submitted | OnHold | Cancelled | Failed)
                | (OnHold, Pending | Scheduled | Cancelled | Failed)
                | (Batched, Submitted | Returned | Failed)
                | (Submitted, Processing | Returned | Failed)
                | (Submitted | Processing | Completed, Reversed)
                | (Processing, Completed | Returned)
                | (Completed, Returned)
        )
    }

    /// The customer may still cancel: the entry is not in a file yet.
    pub fn is_cancellable(self) -> bool {
        matches!(
            self,
            CollectionStatus::Scheduled | CollectionStatus::Pending | CollectionStatus::OnHold
        )
    }

    /// Nothing will happen to it any more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            CollectionStatus::Returned
                | CollectionStatus::Failed
                | CollectionStatus::Cancelled
                | CollectionStatus::Reversed
        )
    }
}

impl SecCode {
    /// The NACHA rules differ by SEC code: TEL entries carry no addenda.
    pub fn allows_addenda(self) -> bool {
        !matches!(self, SecCode::Tel)
    }

    /// WEB and TEL entries carry a payment type code (`R`/`S`).
    pub fn has_payment_type(self) -> bool {
        matches!(self, SecCode::Web | SecCode::Tel)
    }

    /// Consumer SEC codes (PPD, WEB, TEL) vs the corporate one (CCD).
    pub fn is_consumer(self) -> bool {
        !matches!(self, SecCode::Ccd)
    }
}

/// One step of a collection's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    pub status: CollectionStatus,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

/// The payer's authorisation, kept as the originator's proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Authorization {
    #[serde(rename = "type")]
    pub kind: AuthorizationType,
    pub obtained_at: DateTime<Utc>,
    pub ip_address: Option<String>,
    pub evidence_ref: Option<String>,
}

/// A refused lifecycle step.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a {from} collection cannot become {to}")]
pub struct TransitionError {
    pub from: CollectionStatus,
    pub to: CollectionStatus,
}

/// An ACH debit or prenote and everything needed to put it in a NACHA file.
/// The bank account is a snapshot taken when the collection was made (a
/// later NOC changes the payment method, not entries already filed).
#[derive(Debug, Clone, PartialEq)]
pub struct AchCollection {
    pub id: CollectionId,
    pub customer_id: CustomerId,
    pub entry_type: AchEntryType,
    pub status: CollectionStatus,
    pub status_reason: Option<String>,
    pub status_history: Vec<StatusChange>,
    pub amount: Money,
    pub destination_account_id: AccountId,
    pub payment_method_id: Option<PaymentMethodId>,
    pub counterparty_id: Option<CounterpartyId>,
    pub routing_number: RoutingNumber,
    /// Sealed with the collection id as context.
    pub account_number_sealed: Vec<u8>,
    pub account_last4: String,
    pub account_fingerprint: String,
    pub account_type: AccountType,
    pub holder_name: String,
    pub holder_type: HolderType,
    pub sec_code: SecCode,
    pub processing_mode: ProcessingMode,
    pub payment_type: Option<PaymentType>,
    pub effective_date: NaiveDate,
    /// The banking day whose cutoff first carries the entry.
    pub release_date: NaiveDate,
    pub authorization: Authorization,
    pub company_name: String,
    pub company_id: String,
    pub company_entry_description: String,
    pub addenda: Option<String>,
    pub reference: Option<String>,
    pub purpose: Option<String>,
    pub external_id: Option<String>,
    pub metadata: Metadata,
    pub trace_number: Option<String>,
    pub file_id: Option<String>,
    pub return_code: Option<String>,
    pub return_trace: Option<String>,
    pub noc_code: Option<String>,
    /// The NOC's corrected data as received, with any account number
    /// masked (`****0001`); the full data is sealed in `noc_correction`.
    pub noc_corrected_data: Option<String>,
    /// The NOC's corrected data sealed, and its non-secret parts.
    pub noc_correction: Option<crate::noc::NocCorrection>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub returned_at: Option<DateTime<Utc>>,
    /// Set while `on_hold`: what it waits for.
    pub hold: Option<HoldCode>,
    /// Set for the occurrences of a recurring schedule (and their retries).
    pub schedule: Option<crate::schedule::ScheduleLink>,
    /// The fees charged on it, fixed at creation (`totalCreditAmount` = amount − fees).
    pub fees: crate::fees::CollectionFees,
}

impl AchCollection {
    /// Move to `to`, recording why and when; refuses steps the lifecycle forbids.
    pub fn transition(
        &mut self,
        to: CollectionStatus,
        reason: Option<String>,
        at: DateTime<Utc>,
    ) -> Result<(), TransitionError> {
        if !self.status.can_become(to) {
            return Err(TransitionError {
                from: self.status,
                to,
            });
        }
        self.status = to;
        self.status_reason = reason.clone();
        self.status_history.push(StatusChange {
            status: to,
            reason,
            at,
        });
        self.updated_at = at;
        if to != CollectionStatus::OnHold {
            self.hold = None;
        }
        match to {
            CollectionStatus::Submitted => self.submitted_at = Some(at),
            CollectionStatus::Completed => self.completed_at = Some(at),
            CollectionStatus::Returned => self.returned_at = Some(at),
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::CollectionStatus::*;
    use super::*;

    #[test]
    fn the_drawn_lifecycle_is_allowed() {
        for (from, to) in [
            (Scheduled, Pending),
            (Pending, Submitted),
            (Pending, Batched),
            (Batched, Submitted),
            (Pending, OnHold),
            (OnHold, Pending),
            (Submitted, Processing),
            (Processing, Completed),
            (Completed, Returned),
            (Processing, Returned),
            (Submitted, Failed),
            (Pending, Cancelled),
        ] {
            assert!(from.can_become(to), "{from} -> {to}");
        }
    }

    #[test]
    fn final_states_never_move_and_money_never_flows_backwards() {
        for from in CollectionStatus::ALL {
            for to in CollectionStatus::ALL {
                if from.is_final() {
                    assert!(!from.can_become(*to), "{from} -> {to}");
                }
            }
        }
        assert!(!Completed.can_become(Processing));
        assert!(
            !Submitted.can_become(Cancelled),
            "a filed entry cannot be cancelled"
        );
        assert!(!Submitted.can_become(Pending));
        assert!(
            !Batched.can_become(Cancelled) && !Batched.can_become(Pending),
            "a built file's entries stay in it"
        );
    }

    #[test]
    fn only_unfiled_collections_are_cancellable() {
        let cancellable: Vec<_> = CollectionStatus::ALL
            .iter()
            .filter(|s| s.is_cancellable())
            .collect();
        assert_eq!(cancellable, vec![&Scheduled, &Pending, &OnHold]);
    }
}
