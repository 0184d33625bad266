//! Disputes (chargebacks): a processor reports that a cardholder disputed
//! a captured collection — through its webhook or the reconciliation job's
//! look at its dispute list — and later whether the dispute was won or
//! lost. Each report is applied once, by the processor's dispute id:
//!
//! | report | collection | ledger | event |
//! |---|---|---|---|
//! | opened | → `disputed` | `card_disputed`: Dr destination (pending, then available) *amount*, Cr card clearing; `card_dispute_fee`: Dr destination available *cardDisputeFee*, Cr fee revenue | `collection.disputed` |
//! | won | → `dispute_won` | `card_dispute_won`: Dr card clearing *amount*, Cr destination available | `collection.dispute_won` |
//! | lost | → `dispute_lost` | nothing more (the money already went back) | `collection.dispute_lost` |
//!
//! The dispute fee is kept whatever the outcome.

use chrono::{DateTime, Utc};
use inflow_core::card::{CardCollection, CardStatus};
use inflow_core::money::Money;
use inflow_store::repo::card_disputes::CardDispute;
use inflow_store::{StoreError, Tx};

use super::error::CardError;
use crate::events::card_status_event;
use crate::ledger::{self, CardPosting};

/// Where a dispute stands at the processor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisputeStage {
    Open,
    Won,
    Lost,
}

/// A dispute as a processor reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisputeReport {
    /// The processor's id for the dispute (`dp_…` at Stripe).
    pub dispute_id: String,
    /// The disputed transaction (the collection's processor reference).
    pub processor_ref: String,
    /// Minor units disputed.
    pub amount_minor: i64,
    pub reason: String,
    pub stage: DisputeStage,
}

/// What applying a report did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// No collection has that processor reference.
    UnknownPayment,
    /// The collection is busy with a processor call; report it again later.
    Busy,
    /// The collection cannot be disputed (never captured, voided, fully
    /// refunded); nothing changed.
    NotDisputable(CardStatus),
    Opened,
    Closed(DisputeStage),
    /// Opened and closed in one report (first seen already decided).
    OpenedAndClosed(DisputeStage),
    /// Known and unchanged.
    Nothing,
}

fn corrupt(e: impl std::fmt::Display) -> CardError {
    StoreError::Corrupt(e.to_string()).into()
}

/// Apply `report` in `tx` (idempotent by the dispute id).
pub async fn apply(
    tx: &mut Tx,
    report: &DisputeReport,
    now: DateTime<Utc>,
) -> Result<Applied, CardError> {
    let Some(c) = tx
        .card_collection_by_processor_ref(&report.processor_ref)
        .await?
    else {
        return Ok(Applied::UnknownPayment);
    };
    let (dispute, opened) = match tx.get_card_dispute(&report.dispute_id).await? {
        Some(d) => (d, false),
        None => match open(tx, c, report, now).await? {
            Ok(d) => (d, true),
            Err(applied) => return Ok(applied),
        },
    };
    let outcome = match report.stage {
        DisputeStage::Open => None,
        s if dispute.status == "open" => Some(s),
        _ => None,
    };
    Ok(match (opened, outcome) {
        (true, None) => Applied::Opened,
        (false, None) => Applied::Nothing,
        (o, Some(stage)) => {
            close(tx, &dispute, stage, now).await?;
            if o {
                Applied::OpenedAndClosed(stage)
            } else {
                Applied::Closed(stage)
            }
        }
    })
}

/// Open the dispute on `c`: `Err(applied)` when it cannot be (yet).
async fn open(
    tx: &mut Tx,
    mut c: CardCollection,
    report: &DisputeReport,
    now: DateTime<Utc>,
) -> Result<Result<CardDispute, Applied>, CardError> {
    if c.pending_operation.is_some() {
        return Ok(Err(Applied::Busy));
    }
    let amount = report.amount_minor.min(c.refundable_minor());
    if !c.status.can_become(CardStatus::Disputed) || amount <= 0 {
        return Ok(Err(Applied::NotDisputable(c.status)));
    }
    let fee = tx
        .effective_fee_schedule(&c.customer_id)
        .await?
        .card_dispute_fee;
    let (was, refunded) = (c.status, c.refunded_minor);
    let why = format!(
        "disputed by the cardholder ({}): {amount} taken back by the processor, dispute {}",
        report.reason, report.dispute_id
    );
    c.transition(CardStatus::Disputed, Some(why), now)
        .map_err(corrupt)?;
    c.updated_at = now;
    if !tx.update_card_collection_if(&c, was, refunded).await? {
        return Ok(Err(Applied::Busy));
    }
    let d = CardDispute {
        processor_dispute_id: report.dispute_id.clone(),
        collection_id: c.id.clone(),
        amount,
        fee,
        reason: report.reason.clone(),
        status: "open".into(),
        created_at: now,
        updated_at: now,
    };
    if !tx.insert_card_dispute(&d).await? {
        return Err(corrupt(format!(
            "dispute {} recorded twice",
            d.processor_dispute_id
        )));
    }
    card_status_event(tx, &c, now).await?;
    ledger::post_card_dispute(tx, posting(&c, &d, now)?, fee).await?;
    Ok(Ok(d))
}

fn posting<'a>(
    c: &'a CardCollection,
    d: &CardDispute,
    now: DateTime<Utc>,
) -> Result<CardPosting<'a>, CardError> {
    Ok(CardPosting {
        reference: d.processor_dispute_id.clone(),
        collection_id: &c.id,
        destination: &c.destination_account_id,
        amount: Money::new(c.amount.currency(), d.amount).map_err(corrupt)?,
        fees: 0,
        now,
    })
}

/// Record the dispute's outcome on its collection.
async fn close(
    tx: &mut Tx,
    d: &CardDispute,
    stage: DisputeStage,
    now: DateTime<Utc>,
) -> Result<(), CardError> {
    let (status, to) = match stage {
        DisputeStage::Won => ("won", CardStatus::DisputeWon),
        DisputeStage::Lost => ("lost", CardStatus::DisputeLost),
        DisputeStage::Open => return Ok(()),
    };
    if !tx
        .close_card_dispute(&d.processor_dispute_id, status, now)
        .await?
    {
        return Ok(());
    }
    let mut c = tx.get_card_collection(None, &d.collection_id).await?;
    let (was, refunded) = (c.status, c.refunded_minor);
    let why = match stage {
        DisputeStage::Won => format!(
            "dispute {} won: {} given back",
            d.processor_dispute_id, d.amount
        ),
        _ => format!("dispute {} lost", d.processor_dispute_id),
    };
    c.transition(to, Some(why), now).map_err(corrupt)?;
    c.updated_at = now;
    if !tx.update_card_collection_if(&c, was, refunded).await? {
        return Err(corrupt(format!(
            "collection {} changed while its dispute closed",
            c.id
        )));
    }
    card_status_event(tx, &c, now).await?;
    if stage == DisputeStage::Won {
        ledger::post_card_dispute_won(tx, posting(&c, d, now)?).await?;
    }
    Ok(())
}
