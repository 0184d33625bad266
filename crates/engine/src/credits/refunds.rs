//! Refunding an ACH collection by credit entry (`POST /v1/collections/{id}/refunds`
//! on an ACH collection).
//!
//! - Only a completed debit (good funds) is refundable; a debit still in
//!   flight (`batched`, `submitted`, `processing`) is refused with `409
//!   collection_in_flight` unless the operator passes the override.
//! - Refunds never add up to more than the amount collected, net of the
//!   earlier refunds that were not returned (a returned refund gave the
//!   money back to the account, so it may be refunded again).
//! - A collection with a reversal is not refundable.
//! - Ledger (`ach_refund`, at creation): Dr destination available, Cr ACH
//!   clearing — refused with `409 insufficient_available_balance` when the
//!   available balance would go negative, unless the operator allows that
//!   for the account. The balance is checked after posting, in the same
//!   transaction (the posting holds the balance row), so two concurrent
//!   refunds cannot both pass.

use chrono::{DateTime, Utc};
use inflow_core::calendar::local_date;
use inflow_core::collection::{AchCollection, AchEntryType, CollectionStatus};
use inflow_core::ids::{CollectionId, CustomerId, RefundId};
use inflow_core::model::Metadata;
use inflow_core::money::Money;
use inflow_store::repo::ach_credits::{AchCreditEntry, KIND_REFUND, KIND_REVERSAL};
use inflow_store::repo::ledger::{kind, Direction, LedgerAccount, NewEntry, NewLedgerTransaction};
use inflow_store::{StoreError, Tx};

use super::{conflict, credit_event, refund_sec_code, status, CreditError, REFUND_DESCRIPTION};

/// What the caller asks for.
#[derive(Debug, Clone, Default)]
pub struct AchRefundAsk {
    /// Default: everything still refundable.
    pub amount: Option<Money>,
    pub reason: Option<String>,
    pub metadata: Metadata,
    /// Operator override: refund before the debit completed.
    pub before_completion: bool,
}

/// How much of `c` may still be refunded, given its credit entries.
pub fn refundable(c: &AchCollection, entries: &[AchCreditEntry]) -> i64 {
    let refunded: i64 = entries
        .iter()
        .filter(|e| e.kind == KIND_REFUND)
        .filter(|e| e.status != status::RETURNED && e.status != status::CANCELLED)
        .map(|e| e.amount.minor())
        .sum();
    (c.amount.minor() - refunded).max(0)
}

/// Create a refund of ACH collection `id` of `customer`, with its posting
/// and `refund.created` event. Returns the refund and its collection.
pub async fn create_ach_refund(
    tx: &mut Tx,
    customer: &CustomerId,
    id: &CollectionId,
    ask: AchRefundAsk,
    now: DateTime<Utc>,
) -> Result<(AchCreditEntry, AchCollection), CreditError> {
    tx.lock_collection_row(id).await?;
    let c = match tx.get_ach_collection(Some(customer), id).await {
        Ok(c) => c,
        Err(StoreError::NotFound) => return Err(CreditError::NotFound("collection")),
        Err(e) => return Err(e.into()),
    };
    if c.entry_type == AchEntryType::Prenote {
        return Err(conflict(
            "collection_not_refundable",
            "a prenote moves no money and cannot be refunded",
        ));
    }
    use CollectionStatus::*;
    match c.status {
        Completed => {}
        Batched | Submitted | Processing if ask.before_completion => {}
        Batched | Submitted | Processing => {
            return Err(conflict(
                "collection_in_flight",
                format!(
                    "the debit is {} and has not completed (good funds) yet; refund it once it is completed",
                    c.status
                ),
            ))
        }
        Scheduled | Pending | OnHold => {
            return Err(conflict(
                "collection_not_refundable",
                format!(
                    "a {} collection is not in a file yet: cancel it instead",
                    c.status
                ),
            ))
        }
        Returned | Failed | Cancelled | Reversed => {
            return Err(conflict(
                "collection_not_refundable",
                format!("a {} collection collected nothing to refund", c.status),
            ))
        }
    }
    let entries = tx.ach_credit_entries_of(&c.id).await?;
    if entries.iter().any(|e| e.kind == KIND_REVERSAL) {
        return Err(conflict(
            "collection_reversed",
            "the collection has a reversal; it cannot be refunded as well",
        ));
    }
    let left = refundable(&c, &entries);
    let minor = match ask.amount {
        None => left,
        Some(a) => {
            if a.currency() != c.amount.currency() {
                return Err(CreditError::Invalid {
                    code: "currency_mismatch",
                    message: format!("the collection is in {}", c.amount.currency().code()),
                    param: "amount.currency",
                });
            }
            if a.minor() <= 0 {
                return Err(CreditError::Invalid {
                    code: "invalid_amount",
                    message: "a refund amount must be above zero".into(),
                    param: "amount.value",
                });
            }
            a.minor()
        }
    };
    if minor <= 0 || minor > left {
        return Err(conflict(
            "amount_exceeds_refundable",
            format!(
                "cannot refund {minor}: {} was collected and {} already refunded",
                c.amount.minor(),
                c.amount.minor() - left
            ),
        ));
    }
    let amount = Money::new(c.amount.currency(), minor)
        .map_err(|e| StoreError::Corrupt(format!("collection {}: {e}", c.id)))?;
    let refund = AchCreditEntry {
        id: RefundId::generate(now).to_string(),
        kind: KIND_REFUND.into(),
        customer_id: c.customer_id.clone(),
        collection_id: c.id.clone(),
        destination_account_id: c.destination_account_id.clone(),
        amount,
        status: status::PENDING.into(),
        status_reason: None,
        sec_code: refund_sec_code(c.sec_code).as_str().into(),
        company_entry_description: REFUND_DESCRIPTION.into(),
        reason: ask.reason,
        metadata: ask.metadata,
        before_completion: c.status != Completed,
        reversal_of_file_id: None,
        effective_date: None,
        trace_number: None,
        file_id: None,
        return_code: None,
        created_at: now,
        updated_at: now,
        submitted_at: None,
        completed_at: None,
        returned_at: None,
    };
    tx.insert_ach_credit_entry(&refund).await?;
    post_refund(tx, &refund, now).await?;
    let allowed = tx
        .account_allows_negative(&refund.destination_account_id)
        .await?;
    let balances = tx.ledger_balances(&refund.destination_account_id).await?;
    if balances.available < 0 && !allowed {
        return Err(conflict(
            "insufficient_available_balance",
            format!(
                "the refund would leave the destination account's available balance at {} (it is {} before it); the operator may allow negative balances for the account",
                balances.available,
                balances.available + minor
            ),
        ));
    }
    credit_event(tx, &refund, &c, now).await?;
    Ok((refund, c))
}

/// `ach_refund`: Dr destination available, Cr ACH clearing (reference: the refund id).
async fn post_refund(
    tx: &mut Tx,
    r: &AchCreditEntry,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let cur = r.amount.currency();
    let amount = r.amount.minor();
    crate::ledger::post(
        tx,
        &[NewLedgerTransaction {
            id: inflow_core::ids::LedgerTransactionId::generate(now),
            kind: "ach_refund",
            reference: r.id.clone(),
            collection_id: None,
            account_id: Some(r.destination_account_id.clone()),
            currency: cur,
            posted_on: local_date(now),
            gross_amount: amount,
            created_at: now,
            entries: vec![
                NewEntry {
                    account: LedgerAccount::available(&r.destination_account_id, cur),
                    direction: Direction::Debit,
                    amount,
                },
                NewEntry {
                    account: LedgerAccount::operator(kind::ACH_CLEARING, cur),
                    direction: Direction::Credit,
                    amount,
                },
            ],
        }],
    )
    .await
}
