//! Recurring ACH debit schedules: the resource, its lifecycle and its retry
//! policy. The dates a schedule runs on are in [`recurrence`].
//!
//! ```text
//! active ──▶ paused ──▶ active (resume)
//!   │  │        │
//!   │  │        ├──▶ cancelled / stopped
//!   │  └──▶ completed (every occurrence created)
//!   └──▶ cancelled / stopped
//! ```
//! `cancelled`, `completed` and `stopped` are final.

pub mod recurrence;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::bank::string_enum;
use crate::collection::{Authorization, SecCode};
use crate::ids::{AccountId, CollectionId, CustomerId, PaymentMethodId, ScheduleId};
use crate::model::Metadata;
use crate::money::Money;
use crate::ValidationError;

pub use recurrence::{DayOfMonth, Frequency, Recurrence, ScheduleEnd, MAX_OCCURRENCES};

string_enum!(
/// Where a schedule is in its life.
ScheduleStatus, "schedule status" {
    Active => "active",
    Paused => "paused",
    Cancelled => "cancelled",
    Completed => "completed",
    Stopped => "stopped",
});

impl ScheduleStatus {
    /// Can a schedule in `self` move to `to`?
    pub fn can_become(self, to: ScheduleStatus) -> bool {
        use ScheduleStatus::*;
        matches!(
            (self, to),
            (Active, Paused | Cancelled | Completed | Stopped)
                | (Paused, Active | Cancelled | Stopped)
        )
    }

    /// Nothing will happen to it any more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            ScheduleStatus::Cancelled | ScheduleStatus::Completed | ScheduleStatus::Stopped
        )
    }
}

/// Return codes that stop a schedule: the account is closed, unknown or
/// invalid, or the payer says the debits are not (or no longer) authorised.
pub const STOPPING_RETURN_CODES: &[&str] = &["R02", "R03", "R04", "R05", "R07", "R10", "R29"];

/// Return codes a retry policy may re-present (NACHA reinitiation: R01
/// insufficient and R09 uncollected funds only).
pub const RETRYABLE_RETURN_CODES: &[&str] = &["R01", "R09"];

/// NACHA's reserved company entry description for a reinitiated entry.
pub const RETRY_ENTRY_DESCRIPTION: &str = "RETRY PYMT";

/// NACHA's limit on reinitiation: within 180 days of the original entry's settlement date.
pub const RETRY_WINDOW_DAYS: u64 = 180;

/// Re-present R01/R09 returns: at most `max_retries` (1 or 2) new entries
/// per occurrence, each `days_after_return` calendar days after the return
/// arrived (moved to a banking day), within [`RETRY_WINDOW_DAYS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub days_after_return: u32,
}

impl RetryPolicy {
    pub const DEFAULT_DAYS_AFTER_RETURN: u32 = 3;

    pub fn new(max_retries: u32, days_after_return: Option<u32>) -> Result<Self, ValidationError> {
        if !(1..=2).contains(&max_retries) {
            return Err(ValidationError::new(
                "retryPolicy.maxRetries",
                "invalid_retry_policy",
                "maxRetries must be 1 or 2: NACHA allows at most two reinitiations of a returned entry",
            ));
        }
        let days = days_after_return.unwrap_or(Self::DEFAULT_DAYS_AFTER_RETURN);
        if !(1..=30).contains(&days) {
            return Err(ValidationError::new(
                "retryPolicy.daysAfterReturn",
                "invalid_retry_policy",
                "daysAfterReturn must be 1 to 30",
            ));
        }
        Ok(Self {
            max_retries,
            days_after_return: days,
        })
    }
}

/// One step of a schedule's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleStatusChange {
    pub status: ScheduleStatus,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

/// The amount changing, kept as the originator's proof of notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AmountChange {
    pub from_minor: i64,
    pub to_minor: i64,
    pub changed_at: DateTime<Utc>,
    /// The first occurrence created with the new amount.
    pub from_occurrence: u32,
}

/// How a collection belongs to a schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleLink {
    pub schedule_id: ScheduleId,
    /// 1-based occurrence number.
    pub occurrence: u32,
    /// 0 for the occurrence's first presentment, 1 and 2 for retries.
    pub retry: u32,
    /// For a retry: the occurrence's first collection.
    pub retry_of: Option<CollectionId>,
}

/// A refused lifecycle step.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a {from} schedule cannot become {to}")]
pub struct ScheduleTransitionError {
    pub from: ScheduleStatus,
    pub to: ScheduleStatus,
}

/// A recurring ACH debit schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub id: ScheduleId,
    pub customer_id: CustomerId,
    pub status: ScheduleStatus,
    pub status_reason: Option<String>,
    pub status_history: Vec<ScheduleStatusChange>,
    pub payment_method_id: PaymentMethodId,
    pub destination_account_id: AccountId,
    pub amount: Money,
    pub amount_changed_at: Option<DateTime<Utc>>,
    pub amount_history: Vec<AmountChange>,
    /// Resolved when the schedule was made (or its payment method changed).
    pub sec_code: SecCode,
    pub authorization: Authorization,
    pub recurrence: Recurrence,
    pub company_entry_description: Option<String>,
    pub reference: Option<String>,
    pub external_id: Option<String>,
    pub metadata: Metadata,
    pub retry_policy: Option<RetryPolicy>,
    /// The next occurrence to create (1-based); `total + 1` once all exist.
    pub next_occurrence: u32,
    /// The run date of `next_occurrence`, `None` once all exist.
    pub next_run_date: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Schedule {
    /// Move to `to`, recording why and when.
    pub fn transition(
        &mut self,
        to: ScheduleStatus,
        reason: Option<String>,
        at: DateTime<Utc>,
    ) -> Result<(), ScheduleTransitionError> {
        if !self.status.can_become(to) {
            return Err(ScheduleTransitionError {
                from: self.status,
                to,
            });
        }
        self.status = to;
        self.status_reason = reason.clone();
        self.status_history.push(ScheduleStatusChange {
            status: to,
            reason,
            at,
        });
        self.updated_at = at;
        Ok(())
    }

    /// Point `next_occurrence` at `n` and cache its run date.
    pub fn set_next_occurrence(&mut self, cal: &crate::calendar::BankingCalendar, n: u32) {
        self.next_occurrence = n;
        self.next_run_date = self.recurrence.run_date(cal, n);
    }

    /// Every occurrence has been created.
    pub fn all_created(&self) -> bool {
        self.next_occurrence > self.recurrence.total()
    }
}

#[cfg(test)]
mod tests {
    use super::ScheduleStatus::*;
    use super::*;

    #[test]
    fn final_states_never_move() {
        for from in ScheduleStatus::ALL {
            for to in ScheduleStatus::ALL {
                if from.is_final() {
                    assert!(!from.can_become(*to), "{from} -> {to}");
                }
            }
        }
        assert!(Active.can_become(Paused) && Paused.can_become(Active));
        assert!(Paused.can_become(Stopped));
        assert!(!Paused.can_become(Completed), "resume first");
    }

    #[test]
    fn retry_policy_allows_one_or_two_retries() {
        assert!(RetryPolicy::new(0, None).is_err());
        assert!(RetryPolicy::new(3, None).is_err());
        assert_eq!(
            RetryPolicy::new(2, None).unwrap().days_after_return,
            RetryPolicy::DEFAULT_DAYS_AFTER_RETURN
        );
        assert_eq!(
            RetryPolicy::new(1, Some(31)).unwrap_err().field,
            "retryPolicy.daysAfterReturn"
        );
    }
}
