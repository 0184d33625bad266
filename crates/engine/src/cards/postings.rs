//! What a card collection's money movements post to the ledger, in the
//! transaction that records them:
//!
//! | change | posting |
//! |---|---|
//! | → `captured` (sale, force, capture) | `card_captured`: Dr card clearing *captured*; Cr pending *net of fees*; Cr fee revenue |
//! | settled (batch close) | `card_settled`: what is pending for it → available |
//! | refund | `card_refunded`: Dr pending (what is left of it) then available; Cr card clearing |
//! | `captured` → `voided` | `card_voided`: the exact opposite of what the capture posted |
//!
//! Authorizations, declines and voids of authorizations move no money.

use chrono::{DateTime, Utc};
use inflow_core::card::{CardCollection, CardRefund, CardStatus, RefundStatus};
use inflow_store::{StoreError, Tx};

use crate::ledger::{self, CardPosting};

/// Post what the answer to `call` changed from `before` to `after`.
pub async fn after_call(
    tx: &mut Tx,
    before: &CardCollection,
    after: &CardCollection,
    refund: Option<&CardRefund>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if after.status == CardStatus::Captured && before.status != CardStatus::Captured {
        return on_capture(tx, after, now).await;
    }
    if after.status == CardStatus::Voided && before.status == CardStatus::Captured {
        return ledger::post_card_void(
            tx,
            &after.id,
            &after.destination_account_id,
            after.amount,
            now,
        )
        .await
        .map(|_| ());
    }
    if let Some(r) = refund.filter(|r| r.status == RefundStatus::Succeeded) {
        return ledger::post_card_refund(
            tx,
            CardPosting {
                reference: r.id.to_string(),
                collection_id: &after.id,
                destination: &after.destination_account_id,
                amount: r.amount,
                fees: 0,
                now,
            },
        )
        .await;
    }
    Ok(())
}

/// Money captured: credit the destination (pending) net of the card fees.
async fn on_capture(tx: &mut Tx, c: &CardCollection, now: DateTime<Utc>) -> Result<(), StoreError> {
    let amount = inflow_core::money::Money::new(c.amount.currency(), c.captured_minor)
        .map_err(|e| StoreError::Corrupt(format!("card collection {}: {e}", c.id)))?;
    ledger::post_card_capture(
        tx,
        CardPosting {
            reference: c.id.to_string(),
            collection_id: &c.id,
            destination: &c.destination_account_id,
            amount,
            fees: c.fees().total(),
            now,
        },
    )
    .await
}

/// The batch close settled `c`: what is pending for it becomes available.
pub async fn on_settled(
    tx: &mut Tx,
    c: &CardCollection,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    ledger::post_card_settled(tx, &c.id, &c.destination_account_id, c.amount, now).await
}
