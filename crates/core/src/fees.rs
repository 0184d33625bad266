//! Fee rules: a customer's fee schedule (or the operator's default) and the
//! fees it charges on one collection.
//!
//! Fees are computed once, when a collection is created, and stored on it;
//! a later change of the schedule never changes a collection already made.
//! The net credit to the destination account (`totalCreditAmount`) is the
//! amount less the fees charged on it. The return fee is stored too, and is
//! charged only if the collection is returned.

use serde::{Deserialize, Serialize};

use crate::calendar::ProcessingMode;
use crate::error::ValidationError;

/// The largest fee field accepted (in minor units): the NACHA amount limit.
pub const MAX_FEE_MINOR: i64 = 9_999_999_999;
/// 100% in basis points.
pub const MAX_BASIS_POINTS: i64 = 10_000;

/// What an operator charges a customer. All amounts in minor units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeeSchedule {
    /// Charged on every ACH debit.
    pub ach_fixed: i64,
    /// Added for same-day ACH debits.
    pub ach_same_day_surcharge: i64,
    /// Percentage of the amount, in basis points (1/100 of a percent).
    pub ach_percentage_bps: i64,
    /// Lower bound of the percentage fee (0: none).
    pub ach_percentage_min: i64,
    /// Upper bound of the percentage fee (0: none).
    pub ach_percentage_max: i64,
    /// Charged when an ACH debit is returned.
    pub ach_return_fee: i64,
    /// Card: percentage of the captured amount, in basis points.
    pub card_percentage_bps: i64,
    /// Card: fixed fee per capture.
    pub card_fixed: i64,
    /// Card: charged when a capture is disputed (chargeback), kept whatever
    /// the dispute's outcome.
    #[serde(default)]
    pub card_dispute_fee: i64,
}

impl FeeSchedule {
    /// Check every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), ValidationError> {
        let money = [
            ("achFixed", self.ach_fixed),
            ("achSameDaySurcharge", self.ach_same_day_surcharge),
            ("achPercentageMin", self.ach_percentage_min),
            ("achPercentageMax", self.ach_percentage_max),
            ("achReturnFee", self.ach_return_fee),
            ("cardFixed", self.card_fixed),
            ("cardDisputeFee", self.card_dispute_fee),
        ];
        for (field, v) in money {
            if !(0..=MAX_FEE_MINOR).contains(&v) {
                return Err(ValidationError::new(
                    field,
                    "invalid_fee",
                    format!("{field} must be between 0 and {MAX_FEE_MINOR} minor units"),
                ));
            }
        }
        for (field, v) in [
            ("achPercentageBps", self.ach_percentage_bps),
            ("cardPercentageBps", self.card_percentage_bps),
        ] {
            if !(0..=MAX_BASIS_POINTS).contains(&v) {
                return Err(ValidationError::new(
                    field,
                    "invalid_fee",
                    format!("{field} must be between 0 and {MAX_BASIS_POINTS} basis points"),
                ));
            }
        }
        if self.ach_percentage_max != 0 && self.ach_percentage_max < self.ach_percentage_min {
            return Err(ValidationError::new(
                "achPercentageMax",
                "invalid_fee",
                "achPercentageMax must be 0 (no cap) or at least achPercentageMin",
            ));
        }
        Ok(())
    }

    /// The fees an ACH debit of `amount` minor units is charged.
    /// Prenotes (amount 0) are free.
    pub fn ach_fees(&self, amount: i64, mode: ProcessingMode) -> CollectionFees {
        if amount == 0 {
            return CollectionFees::default();
        }
        let mut percentage = percent_of(amount, self.ach_percentage_bps);
        if self.ach_percentage_bps > 0 {
            percentage = percentage.max(self.ach_percentage_min);
            if self.ach_percentage_max > 0 {
                percentage = percentage.min(self.ach_percentage_max);
            }
        }
        CollectionFees {
            fixed: self.ach_fixed,
            same_day: match mode {
                ProcessingMode::SameDay => self.ach_same_day_surcharge,
                ProcessingMode::Standard => 0,
            },
            percentage,
            return_fee: self.ach_return_fee,
        }
    }

    /// The fees a card capture of `amount` minor units is charged.
    pub fn card_fees(&self, amount: i64) -> CollectionFees {
        CollectionFees {
            fixed: self.card_fixed,
            same_day: 0,
            percentage: percent_of(amount, self.card_percentage_bps),
            return_fee: 0,
        }
    }
}

/// `bps` basis points of `amount`, rounded half up, in minor units.
pub fn percent_of(amount: i64, bps: i64) -> i64 {
    let v = i128::from(amount) * i128::from(bps);
    i64::try_from((v + 5_000) / 10_000).unwrap_or(i64::MAX)
}

/// The fees charged on one collection, fixed when it was created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectionFees {
    pub fixed: i64,
    pub same_day: i64,
    pub percentage: i64,
    /// Charged only if the collection is returned.
    pub return_fee: i64,
}

impl CollectionFees {
    /// The fees deducted from the credit (the return fee is not among them).
    pub fn total(&self) -> i64 {
        self.fixed + self.same_day + self.percentage
    }

    /// The net credit for a collection of `amount`: `totalCreditAmount`.
    pub fn net_of(&self, amount: i64) -> i64 {
        amount - self.total()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule() -> FeeSchedule {
        FeeSchedule {
            ach_fixed: 25,
            ach_same_day_surcharge: 100,
            ach_percentage_bps: 80,
            ach_percentage_min: 10,
            ach_percentage_max: 500,
            ach_return_fee: 1_500,
            card_percentage_bps: 290,
            card_fixed: 30,
            card_dispute_fee: 1_500,
        }
    }

    #[test]
    fn percentage_is_capped_and_rounded() {
        let s = schedule();
        assert_eq!(s.ach_fees(1_000, ProcessingMode::Standard).percentage, 10);
        assert_eq!(s.ach_fees(10_000, ProcessingMode::Standard).percentage, 80);
        assert_eq!(
            s.ach_fees(1_000_000, ProcessingMode::Standard).percentage,
            500
        );
        assert_eq!(percent_of(10_001, 50), 50);
        assert_eq!(percent_of(100, 50), 1);
    }

    #[test]
    fn same_day_adds_the_surcharge_and_prenotes_are_free() {
        let s = schedule();
        let f = s.ach_fees(10_000, ProcessingMode::SameDay);
        assert_eq!(f.total(), 25 + 100 + 80);
        assert_eq!(f.net_of(10_000), 10_000 - 205);
        assert_eq!(
            s.ach_fees(0, ProcessingMode::SameDay),
            CollectionFees::default()
        );
        assert_eq!(s.card_fees(10_000).total(), 30 + 290);
    }

    #[test]
    fn validation_names_the_field() {
        let mut s = schedule();
        s.ach_percentage_max = 5;
        assert_eq!(s.validate().unwrap_err().field, "achPercentageMax");
        s = schedule();
        s.card_percentage_bps = 10_001;
        assert_eq!(s.validate().unwrap_err().field, "cardPercentageBps");
        s = schedule();
        s.ach_fixed = -1;
        assert_eq!(s.validate().unwrap_err().field, "achFixed");
        assert!(schedule().validate().is_ok());
    }
}
