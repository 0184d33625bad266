//! Eligibility: may an ACH collection not yet in a file move on toward one?
//!
//! The answer depends only on the live state of its parties
//! ([`Parties`]: customer, destination account, payment method, schedule),
//! never on how the collection got where it is:
//!
//! | state (first that applies)            | verdict                                 |
//! |---------------------------------------|-----------------------------------------|
//! | destination account `closed`          | fail                                    |
//! | customer `suspended`                  | hold `customer_suspended`               |
//! | destination account `blocked`         | hold `destination_blocked`              |
//! | payment method `blocked`              | hold `payment_method_blocked`           |
//! | payment method `inactive`             | hold `payment_method_inactive`          |
//! | schedule `paused`                     | hold `schedule_paused`                  |
//! | otherwise                             | eligible                                |
//!
//! (A payment method blocked by a return fails its collections at once,
//! see [`crate::status_changes`]; a later look only holds them.)
//!
//! The same [`verdict`] is applied where each status changes
//! ([`crate::status_changes`], through [`crate::holds`]), when a deferred
//! collection is released ([`crate::release`]) and — as defence in depth —
//! inside the cutoff transaction, just before the file is built
//! ([`screen`], called from `cutoff_in_tx`): an entry found ineligible
//! there is held or failed with its event and left out of the file.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use inflow_core::collection::{AchCollection, CollectionStatus, HoldCode};
use inflow_core::model::{AccountStatus, CustomerStatus, PaymentMethodStatus};
use inflow_core::schedule::ScheduleStatus;
pub use inflow_store::repo::eligibility::Parties;
use inflow_store::{StoreError, Tx};

use crate::events::status_event_row;

/// What an unfiled collection's parties allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Eligible,
    /// Wait (`on_hold`) until this clears; the reason names it.
    Hold(HoldCode, String),
    /// Can never be collected: fail with this reason.
    Fail(String),
}

/// The reason a collection held for `code` carries.
pub fn hold_reason(code: HoldCode) -> &'static str {
    match code {
        HoldCode::CustomerSuspended => "customer is suspended",
        HoldCode::DestinationBlocked => "destination account is blocked",
        HoldCode::PaymentMethodBlocked => "payment method is blocked",
        HoldCode::PaymentMethodInactive => "payment method is inactive",
        HoldCode::SchedulePaused => "schedule paused",
        HoldCode::PrenotePending => "waiting for the account's prenote to clear",
    }
}

/// The reason a collection whose destination account was closed fails with.
pub const DESTINATION_CLOSED: &str = "destination account is closed";

/// The verdict for a collection whose parties are `p` (see the module
/// documentation for the order).
pub fn verdict(p: &Parties) -> Verdict {
    let hold = |code| Verdict::Hold(code, hold_reason(code).to_owned());
    if p.account == AccountStatus::Closed {
        Verdict::Fail(DESTINATION_CLOSED.to_owned())
    } else if p.customer == CustomerStatus::Suspended {
        hold(HoldCode::CustomerSuspended)
    } else if p.account == AccountStatus::Blocked {
        hold(HoldCode::DestinationBlocked)
    } else if p.payment_method == Some(PaymentMethodStatus::Blocked) {
        hold(HoldCode::PaymentMethodBlocked)
    } else if p.payment_method == Some(PaymentMethodStatus::Inactive) {
        hold(HoldCode::PaymentMethodInactive)
    } else if p.schedule == Some(ScheduleStatus::Paused) {
        hold(HoldCode::SchedulePaused)
    } else {
        Verdict::Eligible
    }
}

/// Check `collections` (all in one status, `scheduled` or `pending`)
/// against their parties' state with one query per few thousand (returning
/// only those with a party not active); hold or
/// fail the ineligible ones in `tx` (with `collection.on_hold` /
/// `collection.failed`, the reason prefixed by `context`) and return the
/// eligible ones. A collection another transaction moved meanwhile is in
/// neither.
pub async fn screen(
    tx: &mut Tx,
    collections: Vec<AchCollection>,
    context: &str,
    now: DateTime<Utc>,
) -> Result<Vec<AchCollection>, StoreError> {
    let Some(expected) = collections.first().map(|c| c.status) else {
        return Ok(collections);
    };
    let ids: Vec<_> = collections.iter().map(|c| c.id.clone()).collect();
    let mut verdicts: HashMap<String, Verdict> = tx
        .ach_states_not_all_active(&ids)
        .await?
        .into_iter()
        .map(|s| (s.id.to_string(), verdict(&s.parties)))
        .collect();
    let (mut eligible, mut moved) = (Vec::with_capacity(collections.len()), Vec::new());
    for mut c in collections {
        let (to, reason, hold) = match verdicts.remove(c.id.as_str()) {
            None | Some(Verdict::Eligible) => {
                eligible.push(c);
                continue;
            }
            Some(Verdict::Hold(code, why)) => (CollectionStatus::OnHold, why, Some(code)),
            Some(Verdict::Fail(why)) => (CollectionStatus::Failed, why, None),
        };
        tracing::warn!(collection_id = %c.id, status = %to, %reason, "{context}: collection not eligible");
        c.transition(to, Some(format!("{context}: {reason}")), now)
            .map_err(|e| StoreError::Corrupt(format!("collection {}: {e}", c.id)))?;
        c.hold = hold;
        moved.push(c);
    }
    if moved.is_empty() {
        return Ok(eligible);
    }
    let written = tx.update_ach_collections_if(&moved, expected).await?;
    let events: Vec<_> = moved
        .iter()
        .filter(|c| written.contains(c.id.as_str()))
        .map(|c| status_event_row(c, now))
        .collect();
    tx.insert_events(&events).await?;
    Ok(eligible)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parties() -> Parties {
        Parties {
            customer: CustomerStatus::Active,
            account: AccountStatus::Active,
            payment_method: Some(PaymentMethodStatus::Active),
            schedule: Some(ScheduleStatus::Active),
        }
    }

    fn code(v: Verdict) -> Option<HoldCode> {
        match v {
            Verdict::Hold(c, _) => Some(c),
            _ => None,
        }
    }

    #[test]
    fn everything_active_is_eligible_and_a_one_time_source_needs_no_payment_method() {
        assert_eq!(verdict(&parties()), Verdict::Eligible);
        let p = Parties {
            payment_method: None,
            schedule: None,
            ..parties()
        };
        assert_eq!(verdict(&p), Verdict::Eligible);
    }

    #[test]
    fn a_closed_destination_fails_whatever_else_holds() {
        let p = Parties {
            account: AccountStatus::Closed,
            customer: CustomerStatus::Suspended,
            payment_method: Some(PaymentMethodStatus::Blocked),
            schedule: Some(ScheduleStatus::Paused),
        };
        assert_eq!(verdict(&p), Verdict::Fail(DESTINATION_CLOSED.into()));
    }

    #[test]
    fn each_blocking_state_holds_with_its_own_code() {
        let cases = [
            (
                Parties {
                    customer: CustomerStatus::Suspended,
                    ..parties()
                },
                HoldCode::CustomerSuspended,
            ),
            (
                Parties {
                    account: AccountStatus::Blocked,
                    ..parties()
                },
                HoldCode::DestinationBlocked,
            ),
            (
                Parties {
                    payment_method: Some(PaymentMethodStatus::Blocked),
                    ..parties()
                },
                HoldCode::PaymentMethodBlocked,
            ),
            (
                Parties {
                    payment_method: Some(PaymentMethodStatus::Inactive),
                    ..parties()
                },
                HoldCode::PaymentMethodInactive,
            ),
            (
                Parties {
                    schedule: Some(ScheduleStatus::Paused),
                    ..parties()
                },
                HoldCode::SchedulePaused,
            ),
        ];
        for (p, expected) in cases {
            assert_eq!(code(verdict(&p)), Some(expected), "{p:?}");
        }
    }

    #[test]
    fn several_reasons_show_the_first_in_the_documented_order() {
        let p = Parties {
            customer: CustomerStatus::Suspended,
            account: AccountStatus::Blocked,
            payment_method: Some(PaymentMethodStatus::Inactive),
            schedule: Some(ScheduleStatus::Paused),
        };
        assert_eq!(code(verdict(&p)), Some(HoldCode::CustomerSuspended));
        let p = Parties {
            customer: CustomerStatus::Active,
            ..p
        };
        assert_eq!(code(verdict(&p)), Some(HoldCode::DestinationBlocked));
        let p = Parties {
            account: AccountStatus::Active,
            ..p
        };
        assert_eq!(code(verdict(&p)), Some(HoldCode::PaymentMethodInactive));
        let p = Parties {
            payment_method: Some(PaymentMethodStatus::Active),
            ..p
        };
        assert_eq!(code(verdict(&p)), Some(HoldCode::SchedulePaused));
    }
}
