//! The card collection and its lifecycle: which step may follow which, and
//! the amounts (authorized ≥ captured ≥ refunded) every step must respect.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::CardBrand;
use crate::bank::string_enum;
use crate::fees::{percent_of, CollectionFees};
use crate::ids::{AccountId, CollectionId, CustomerId, PaymentMethodId, RefundId};
use crate::model::Metadata;
use crate::money::Money;

string_enum!(
/// Where a card collection is in its lifecycle.
CardStatus, "card collection status" {
    Pending => "pending",
    Authorized => "authorized",
    Captured => "captured",
    Completed => "completed",
    Declined => "declined",
    Voided => "voided",
    PartiallyRefunded => "partially_refunded",
    Refunded => "refunded",
    Disputed => "disputed",
    DisputeWon => "dispute_won",
    DisputeLost => "dispute_lost",
});

string_enum!(
    /// What Inflow asks the processor to do.
    CardOperation, "card processor operation" {
        Authorize => "authorize", Capture => "capture", Void => "void", Refund => "refund" });

string_enum!(
    /// A refund is `pending` while the processor's answer is awaited.
    RefundStatus, "refund status" { Pending => "pending", Succeeded => "succeeded", Failed => "failed" });

string_enum!(
    /// `sale` (authorize and capture), `authorization` (hold only) or
    /// `force` (capture of an approval code obtained elsewhere).
    CardTxType, "card transaction type" { Sale => "sale", Authorization => "authorization", Force => "force" });

impl CardStatus {
    /// Can a card collection in `self` move to `to`?
    pub fn can_become(self, to: CardStatus) -> bool {
        use CardStatus::*;
        matches!(
            (self, to),
            (Pending, Authorized | Declined)
                | (Authorized, Captured | Voided)
                | (Captured, Completed | Voided | PartiallyRefunded | Refunded)
                | (Completed, PartiallyRefunded | Refunded)
                | (PartiallyRefunded, PartiallyRefunded | Refunded | Completed)
                | (Captured | Completed | PartiallyRefunded, Disputed)
                | (Disputed, DisputeWon | DisputeLost)
        )
    }

    /// Money was captured and not all of it has been given back.
    pub fn is_refundable(self) -> bool {
        matches!(
            self,
            CardStatus::Captured | CardStatus::Completed | CardStatus::PartiallyRefunded
        )
    }

    /// Nothing will happen to it any more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            CardStatus::Declined
                | CardStatus::Voided
                | CardStatus::Refunded
                | CardStatus::DisputeWon
                | CardStatus::DisputeLost
        )
    }
}

/// One step of a card collection's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardStatusChange {
    pub status: CardStatus,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

/// A processor call committed but not yet answered (the collection takes no
/// other operation meanwhile).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingOperation {
    pub operation: CardOperation,
    /// Minor units (0 for a void).
    pub amount: i64,
    /// The processor's idempotency key for the call.
    pub reference: String,
    pub requested_at: DateTime<Utc>,
}

/// A refused lifecycle step.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a {from} card collection cannot become {to}")]
pub struct CardTransitionError {
    pub from: CardStatus,
    pub to: CardStatus,
}

/// A card collection: the card as it was (masked), the amounts, and what
/// the processor answered. Never the card number or security code.
#[derive(Debug, Clone, PartialEq)]
pub struct CardCollection {
    pub id: CollectionId,
    pub customer_id: CustomerId,
    pub tx_type: CardTxType,
    pub status: CardStatus,
    pub status_reason: Option<String>,
    pub status_history: Vec<CardStatusChange>,
    /// The amount asked for.
    pub amount: Money,
    pub authorized_minor: i64,
    pub captured_minor: i64,
    pub refunded_minor: i64,
    pub destination_account_id: AccountId,
    pub payment_method_id: PaymentMethodId,
    pub brand: CardBrand,
    pub last4: String,
    pub exp_month: u32,
    pub exp_year: i32,
    pub fingerprint: String,
    pub holder_name: String,
    pub approval_code: Option<String>,
    pub processor_ref: Option<String>,
    pub decline_code: Option<String>,
    pub decline_message: Option<String>,
    pub cvc_result: Option<String>,
    pub external_id: Option<String>,
    pub reference: Option<String>,
    pub metadata: Metadata,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub authorized_at: Option<DateTime<Utc>>,
    pub captured_at: Option<DateTime<Utc>>,
    pub voided_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    /// An authorization not captured by then is voided.
    pub expires_at: Option<DateTime<Utc>>,
    /// The customer's card fee rule when the collection was made.
    pub fee_fixed: i64,
    pub fee_percentage_bps: i64,
    pub pending_operation: Option<PendingOperation>,
    /// The processor batch that settled it.
    pub batch_id: Option<String>,
}

impl CardCollection {
    /// Move to `to`, recording why and when; refuses steps the lifecycle forbids.
    pub fn transition(
        &mut self,
        to: CardStatus,
        reason: Option<String>,
        at: DateTime<Utc>,
    ) -> Result<(), CardTransitionError> {
        if !self.status.can_become(to) {
            return Err(CardTransitionError {
                from: self.status,
                to,
            });
        }
        self.record(to, reason, at);
        match to {
            CardStatus::Captured => self.captured_at = Some(at),
            CardStatus::Voided => self.voided_at = Some(at),
            CardStatus::Completed => self.completed_at = Some(at),
            _ => {}
        }
        Ok(())
    }

    /// Set the first status (no predecessor to check).
    pub fn record(&mut self, to: CardStatus, reason: Option<String>, at: DateTime<Utc>) {
        self.status = to;
        self.status_reason = reason.clone();
        self.status_history.push(CardStatusChange {
            status: to,
            reason,
            at,
        });
        self.updated_at = at;
    }

    /// What may still be refunded.
    pub fn refundable_minor(&self) -> i64 {
        self.captured_minor - self.refunded_minor
    }

    /// The amount fees are charged on: the capture once there is one, the
    /// authorization (or the amount asked for) before, nothing if no money
    /// will move.
    pub fn fee_base_minor(&self) -> i64 {
        match self.status {
            CardStatus::Declined | CardStatus::Voided => 0,
            CardStatus::Pending => self.amount.minor(),
            CardStatus::Authorized => self.authorized_minor,
            _ => self.captured_minor,
        }
    }

    /// The fees on [`Self::fee_base_minor`] (never more than it). Card fees
    /// are kept when money is refunded, given back when a capture is voided.
    pub fn fees(&self) -> CollectionFees {
        let base = self.fee_base_minor();
        if base == 0 {
            return CollectionFees::default();
        }
        let percentage = percent_of(base, self.fee_percentage_bps);
        let fixed = self.fee_fixed.clamp(0, base);
        CollectionFees {
            fixed,
            same_day: 0,
            percentage: percentage.clamp(0, base - fixed),
            return_fee: 0,
        }
    }

    /// What the destination account is credited in the end: the capture,
    /// less fees and refunds (`totalCreditAmount`).
    pub fn total_credit_minor(&self) -> i64 {
        self.fee_base_minor() - self.fees().total() - self.refunded_minor
    }

    /// Has the processor settled it (batch closed)?
    pub fn is_settled(&self) -> bool {
        self.completed_at.is_some()
    }
}

/// One refund of (part of) a captured card collection.
#[derive(Debug, Clone, PartialEq)]
pub struct CardRefund {
    pub id: RefundId,
    pub collection_id: CollectionId,
    pub customer_id: CustomerId,
    pub amount: Money,
    pub reason: Option<String>,
    /// The customer's own keys and values, as given with the refund.
    pub metadata: Metadata,
    /// Empty until the processor has answered.
    pub processor_ref: String,
    pub status: RefundStatus,
    pub failure_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::CardStatus::*;
    use super::*;

    #[test]
    fn the_drawn_lifecycle_is_allowed_and_final_states_never_move() {
        for (from, to) in [
            (Authorized, Captured),
            (Authorized, Voided),
            (Captured, Voided),
            (Captured, Completed),
            (Captured, PartiallyRefunded),
            (Completed, Refunded),
            (PartiallyRefunded, PartiallyRefunded),
            (PartiallyRefunded, Refunded),
        ] {
            assert!(from.can_become(to), "{from} -> {to}");
        }
        for from in CardStatus::ALL {
            for to in CardStatus::ALL {
                if from.is_final() {
                    assert!(!from.can_become(*to), "{from} -> {to}");
                }
            }
        }
        assert!(!Completed.can_become(Voided), "no void after settlement");
        assert!(!Authorized.can_become(Refunded), "no refund before capture");
    }
}
