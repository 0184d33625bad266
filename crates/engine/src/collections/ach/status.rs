//! How a new ACH collection starts: refused as a duplicate (same amount from
//! the same account within the window, unless allowed), refused or held by
//! the customer's account-validation policy, held for a blocked destination
//! account, scheduled for a later release, or pending.

use chrono::{DateTime, Utc};
use inflow_core::calendar::EntryPlan;
use inflow_core::collection::{AchEntryType, CollectionStatus, HoldCode, SecCode};
use inflow_core::model::{Account, AccountStatus, AccountValidation, Customer, ValidationStatus};
use inflow_core::Refusal;
use inflow_store::Tx;

use super::source::ResolvedSource;
use super::{CollectionRules, NewAchCollection};
use crate::usecase::UseCaseResult;

/// The initial status, its reason and hold.
pub(super) struct Initial {
    pub(super) status: CollectionStatus,
    pub(super) reason: Option<String>,
    pub(super) hold: Option<HoldCode>,
}

/// `duplicate_transaction` unless `allowDuplicate`.
pub(super) async fn refuse_duplicate(
    tx: &mut Tx,
    customer: &Customer,
    req: &NewAchCollection,
    source: &ResolvedSource,
    rules: &CollectionRules,
    now: DateTime<Utc>,
) -> UseCaseResult<()> {
    if req.allow_duplicate {
        return Ok(());
    }
    let first = tx
        .find_duplicate_collection(
            &customer.id,
            &source.fingerprint,
            req.amount.minor(),
            req.entry_type,
            now - rules.duplicate_window,
        )
        .await?;
    match first {
        Some(first) => Err(Refusal::conflict(
            "duplicate_transaction",
            format!(
                "{first} already collects the same amount from the same bank account within the duplicate window; \
                 send \"allowDuplicate\": true if this is intended"
            ),
        )
        .with_field("allowDuplicate")
        .into()),
        None => Ok(()),
    }
}

/// A prenote hold comes first: when it clears, a still-blocked destination
/// keeps the collection held (see `crate::holds`).
pub(super) fn initial(
    customer: &Customer,
    req: &NewAchCollection,
    sec_code: SecCode,
    source: &ResolvedSource,
    destination: &Account,
    plan: &EntryPlan,
) -> Result<Initial, Refusal> {
    let prenote_hold = validation_policy(
        customer,
        req.entry_type,
        sec_code,
        source.validation.as_ref(),
    )?;
    let (status, reason, hold) = if let Some(reason) = prenote_hold {
        (
            CollectionStatus::OnHold,
            Some(reason),
            Some(HoldCode::PrenotePending),
        )
    } else if destination.status == AccountStatus::Blocked {
        (
            CollectionStatus::OnHold,
            Some("destination account is blocked".to_owned()),
            Some(HoldCode::DestinationBlocked),
        )
    } else if plan.deferred {
        (
            CollectionStatus::Scheduled,
            Some(format!("held until {}", plan.release_date)),
            None,
        )
    } else {
        (CollectionStatus::Pending, None, None)
    };
    Ok(Initial {
        status,
        reason,
        hold,
    })
}

/// The customer's account-validation policy for a live debit: `Ok(None)`
/// it may go, `Ok(Some(reason))` it waits for the account's prenote, and a
/// refusal when the account is not validated and no prenote is out.
fn validation_policy(
    customer: &Customer,
    entry_type: AchEntryType,
    sec_code: SecCode,
    validation: Option<&AccountValidation>,
) -> Result<Option<String>, Refusal> {
    let policy = &customer.ach_policy;
    let rule = if entry_type != AchEntryType::Debit {
        return Ok(None);
    } else if policy.require_prenote {
        "the customer requires a cleared prenote before live debits"
    } else if sec_code == SecCode::Web && policy.web_requires_validated_account {
        "the customer requires a validated account for WEB debits"
    } else {
        return Ok(None);
    };
    let refuse = |detail: &str| {
        Err(
            Refusal::conflict("account_not_validated", format!("{rule}; {detail}"))
                .with_field("paymentMethodId"),
        )
    };
    match validation {
        None => refuse("a one-time bank account cannot be validated; save it as a payment method and send a prenote"),
        Some(v) => match v.status {
            ValidationStatus::Validated => Ok(None),
            ValidationStatus::Pending => Ok(Some(format!(
                "held until prenote {} clears ({rule})",
                v.prenote_id
                    .as_ref()
                    .map(|p| p.to_string())
                    .unwrap_or_else(|| "of this account".into())
            ))),
            ValidationStatus::Failed => refuse("the account's prenote was returned; correct the account and send a new prenote"),
            ValidationStatus::Unvalidated => refuse("send a prenote (type `prenote`) first, or have the operator mark the account validated"),
        },
    }
}
