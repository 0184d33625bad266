//! Postings: what each status change of a collection writes to the ledger,
//! always inside the transaction that makes the change.
//!
//! | change | transaction | entries |
//! |---|---|---|
//! | → `submitted` | `ach_submitted` | Dr ACH clearing *amount*; Cr destination pending *net*; Cr fee revenue *fees* |
//! | → `completed` | `ach_completed` | Dr destination pending; Cr destination available (what is pending for it) |
//! | → `returned` | `ach_returned` | the exact opposite of everything still posted for the collection |
//! | → `returned`, return fee | `ach_return_fee` | Dr destination available *fee*; Cr fee revenue |
//! | → `failed`/`cancelled` after posting | `ach_reversed` | as `ach_returned` |
//! | offset entry of a balanced file (at the cutoff) | `ach_offset` | Dr ACH settlement *batch total*; Cr ACH clearing |
//! | → `reversed` (its reversing entry filed) | `ach_reversed` | as `ach_returned` (no return fee) |
//! | ACH refund created | `ach_refund` | Dr destination available *amount*; Cr ACH clearing |
//! | ACH refund returned / cancelled | `ach_refund_returned` / `ach_refund_cancelled` | Dr ACH clearing; Cr destination available |
//! | offset debit of a credit file (at the cutoff) | `ach_credit_offset` | Dr ACH clearing *batch total*; Cr ACH settlement |
//! | card capture / settle / refund / void | `card_captured` / `ach_completed`-like / `card_refunded` / `card_voided` | see [`post_card_capture`], [`post_card_settled`], [`post_card_refund`], [`post_card_void`] |
//!
//! A reversal reads the collection's own entries (after its row is locked
//! by the status update), so it undoes exactly what was posted, from
//! pending or available, whatever a concurrent worker did first.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use inflow_core::calendar::local_date;
use inflow_core::collection::{AchCollection, CollectionStatus};
use inflow_core::fees::CollectionFees;
use inflow_core::ids::{AccountId, CollectionId, LedgerTransactionId};
use inflow_core::money::{Currency, Money};
use inflow_store::repo::ledger::{kind, Direction, LedgerAccount, NewEntry, NewLedgerTransaction};
use inflow_store::{StoreError, Tx};

fn entry(account: LedgerAccount, direction: Direction, amount: i64) -> Option<NewEntry> {
    (amount > 0).then_some(NewEntry {
        account,
        direction,
        amount,
    })
}

struct Head<'a> {
    kind: &'static str,
    reference: String,
    collection_id: Option<&'a CollectionId>,
    account_id: &'a AccountId,
    currency: Currency,
    posted_on: NaiveDate,
    gross: i64,
    now: DateTime<Utc>,
}

fn build(h: Head<'_>, entries: impl IntoIterator<Item = Option<NewEntry>>) -> NewLedgerTransaction {
    NewLedgerTransaction {
        id: LedgerTransactionId::generate(h.now),
        kind: h.kind,
        reference: h.reference,
        collection_id: h.collection_id.cloned(),
        account_id: Some(h.account_id.clone()),
        currency: h.currency,
        posted_on: h.posted_on,
        gross_amount: h.gross,
        created_at: h.now,
        entries: entries.into_iter().flatten().collect(),
    }
}

/// Post `txs`, built balanced by the functions here (checked in debug
/// builds; the store refuses an unbalanced posting in any build).
pub(crate) async fn post(tx: &mut Tx, txs: &[NewLedgerTransaction]) -> Result<(), StoreError> {
    debug_assert!(
        txs.iter().all(NewLedgerTransaction::is_balanced),
        "an unbalanced posting was built: {txs:?}"
    );
    tx.post_ledger_transactions(txs).await
}

/// The fees actually deducted from `amount` (never more than the amount).
pub fn fees_charged(amount: i64, fees: &CollectionFees) -> i64 {
    fees.total().clamp(0, amount)
}

/// The `ach_submitted` posting of a collection just filed, or `None` for a
/// zero-amount entry (a prenote moves no money).
pub fn submitted_posting(
    c: &AchCollection,
    posted_on: NaiveDate,
    now: DateTime<Utc>,
) -> Option<NewLedgerTransaction> {
    let amount = c.amount.minor();
    if amount <= 0 {
        return None;
    }
    let cur = c.amount.currency();
    let fee = fees_charged(amount, &c.fees);
    let head = Head {
        kind: "ach_submitted",
        reference: c.id.to_string(),
        collection_id: Some(&c.id),
        account_id: &c.destination_account_id,
        currency: cur,
        posted_on,
        gross: amount,
        now,
    };
    Some(build(
        head,
        [
            entry(
                LedgerAccount::operator(kind::ACH_CLEARING, cur),
                Direction::Debit,
                amount,
            ),
            entry(
                LedgerAccount::pending(&c.destination_account_id, cur),
                Direction::Credit,
                amount - fee,
            ),
            entry(
                LedgerAccount::operator(kind::FEE_REVENUE, cur),
                Direction::Credit,
                fee,
            ),
        ],
    ))
}

/// Post the offset entries of a balanced file (or of its companion file of
/// credits): each is the ODFI crediting the operator's settlement account
/// with a batch's debits, so it moves that total from ACH clearing (owed by
/// the network) to ACH settlement (the operator's account at the ODFI).
/// One `ach_offset` transaction per entry, referenced by its trace number.
pub async fn post_offsets(
    tx: &mut Tx,
    offsets: &[crate::files::OffsetEntry],
    currency: Currency,
    posted_on: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let postings: Vec<NewLedgerTransaction> = offsets
        .iter()
        .filter(|o| o.amount > 0)
        .map(|o| NewLedgerTransaction {
            id: LedgerTransactionId::generate(now),
            kind: "ach_offset",
            reference: o.trace_number.clone(),
            collection_id: None,
            account_id: None,
            currency,
            posted_on,
            gross_amount: o.amount,
            created_at: now,
            entries: vec![
                NewEntry {
                    account: LedgerAccount::operator(kind::ACH_SETTLEMENT, currency),
                    direction: Direction::Debit,
                    amount: o.amount,
                },
                NewEntry {
                    account: LedgerAccount::operator(kind::ACH_CLEARING, currency),
                    direction: Direction::Credit,
                    amount: o.amount,
                },
            ],
        })
        .collect();
    post(tx, &postings).await
}

/// Post the `submitted` credits of a whole file in a few statements.
pub async fn post_submitted(
    tx: &mut Tx,
    filed: &[AchCollection],
    posted_on: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let postings: Vec<NewLedgerTransaction> = filed
        .iter()
        .filter_map(|c| submitted_posting(c, posted_on, now))
        .collect();
    post(tx, &postings).await
}

/// Post what `c` moving from `before` to its current status means for the
/// ledger. Call it right after the status update, in the same transaction.
pub async fn on_status_change(
    tx: &mut Tx,
    before: CollectionStatus,
    c: &AchCollection,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    use CollectionStatus::*;
    let posted_on = local_date(now);
    match c.status {
        Submitted if before != Submitted => {
            if let Some(p) = submitted_posting(c, posted_on, now) {
                post(tx, &[p]).await?;
            }
            Ok(())
        }
        Completed if before != Completed => complete(tx, c, posted_on, now).await,
        Returned if before != Returned => {
            // The reversal and the return fee post together: one set of
            // balance-row locks, taken in order (no deadlock with a
            // concurrent completion on PostgreSQL).
            let mut postings = Vec::new();
            if let Some(r) = reversal(tx, c, "ach_returned", posted_on, now).await? {
                postings.push(r);
                postings.extend(return_fee(c, posted_on, now));
            }
            post(tx, &postings).await
        }
        Reversed if before != Reversed => {
            match reversal(tx, c, "ach_reversed", posted_on, now).await? {
                Some(r) => post(tx, &[r]).await,
                None => Ok(()),
            }
        }
        Failed | Cancelled if matches!(before, Batched | Submitted | Processing | Completed) => {
            match reversal(tx, c, "ach_reversed", posted_on, now).await? {
                Some(r) => post(tx, &[r]).await,
                None => Ok(()),
            }
        }
        _ => Ok(()),
    }
}

async fn complete(
    tx: &mut Tx,
    c: &AchCollection,
    posted_on: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let r = Reversed {
        collection_id: &c.id,
        destination: &c.destination_account_id,
        amount: c.amount,
        clearing: kind::ACH_CLEARING,
    };
    complete_of(tx, r, "ach_completed", posted_on, now).await
}

/// Move what is pending for a collection to available.
async fn complete_of(
    tx: &mut Tx,
    c: Reversed<'_>,
    kind_name: &'static str,
    posted_on: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let cur = c.amount.currency();
    let pending = LedgerAccount::pending(c.destination, cur);
    let nets = tx.ledger_nets_for_collection(c.collection_id).await?;
    let amount = nets.get(&pending.id()).copied().unwrap_or(0);
    if amount <= 0 {
        return Ok(());
    }
    let head = Head {
        kind: kind_name,
        reference: c.collection_id.to_string(),
        collection_id: Some(c.collection_id),
        account_id: c.destination,
        currency: cur,
        posted_on,
        gross: c.amount.minor(),
        now,
    };
    let available = LedgerAccount::available(c.destination, cur);
    let p = build(
        head,
        [
            entry(pending, Direction::Debit, amount),
            entry(available, Direction::Credit, amount),
        ],
    );
    post(tx, &[p]).await
}

/// The posting that undoes everything still posted for `c`; `None` if
/// nothing is.
async fn reversal(
    tx: &mut Tx,
    c: &AchCollection,
    kind_name: &'static str,
    posted_on: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Option<NewLedgerTransaction>, StoreError> {
    let r = Reversed {
        collection_id: &c.id,
        destination: &c.destination_account_id,
        amount: c.amount,
        clearing: kind::ACH_CLEARING,
    };
    reversal_of(tx, r, kind_name, posted_on, now).await
}

/// The collection a completion or reversal concerns.
struct Reversed<'a> {
    collection_id: &'a CollectionId,
    destination: &'a AccountId,
    amount: Money,
    clearing: &'static str,
}

async fn reversal_of(
    tx: &mut Tx,
    c: Reversed<'_>,
    kind_name: &'static str,
    posted_on: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Option<NewLedgerTransaction>, StoreError> {
    let nets = tx.ledger_nets_for_collection(c.collection_id).await?;
    Ok(reversal_from_nets(c, &nets, kind_name, posted_on, now))
}

/// The posting that undoes `nets` (what is posted for the collection).
fn reversal_from_nets(
    c: Reversed<'_>,
    nets: &BTreeMap<String, i64>,
    kind_name: &'static str,
    posted_on: NaiveDate,
    now: DateTime<Utc>,
) -> Option<NewLedgerTransaction> {
    let cur = c.amount.currency();
    let accounts = [
        LedgerAccount::pending(c.destination, cur),
        LedgerAccount::available(c.destination, cur),
        LedgerAccount::operator(kind::FEE_REVENUE, cur),
        LedgerAccount::operator(c.clearing, cur),
    ];
    let mut entries = Vec::new();
    for a in accounts {
        let net = nets.get(&a.id()).copied().unwrap_or(0);
        let e = if net > 0 {
            entry(a, Direction::Debit, net)
        } else {
            entry(a, Direction::Credit, -net)
        };
        entries.push(e);
    }
    if entries.iter().all(Option::is_none) {
        return None;
    }
    let head = Head {
        kind: kind_name,
        reference: c.collection_id.to_string(),
        collection_id: Some(c.collection_id),
        account_id: c.destination,
        currency: cur,
        posted_on,
        gross: c.amount.minor(),
        now,
    };
    Some(build(head, entries))
}

/// Post the `returned` reversals (and return fees) of many collections
/// just moved to `returned`, in a few statements: what is posted for them
/// is read in one query (after their rows are locked by the status
/// update), and everything is posted together, as [`on_status_change`]
/// does for one.
pub async fn post_returned(
    tx: &mut Tx,
    returned: &[AchCollection],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let posted_on = local_date(now);
    let ids: Vec<&str> = returned.iter().map(|c| c.id.as_str()).collect();
    let nets = tx.ledger_nets_for_collections(&ids).await?;
    let none = BTreeMap::new();
    let mut postings = Vec::with_capacity(returned.len() * 2);
    for c in returned {
        let r = Reversed {
            collection_id: &c.id,
            destination: &c.destination_account_id,
            amount: c.amount,
            clearing: kind::ACH_CLEARING,
        };
        let collection_nets = nets.get(c.id.as_str()).unwrap_or(&none);
        if let Some(p) = reversal_from_nets(r, collection_nets, "ach_returned", posted_on, now) {
            postings.push(p);
            postings.extend(return_fee(c, posted_on, now));
        }
    }
    post(tx, &postings).await
}

fn return_fee(
    c: &AchCollection,
    posted_on: NaiveDate,
    now: DateTime<Utc>,
) -> Option<NewLedgerTransaction> {
    let fee = c.fees.return_fee;
    if fee <= 0 {
        return None;
    }
    let cur = c.amount.currency();
    let head = Head {
        kind: "ach_return_fee",
        reference: c.id.to_string(),
        collection_id: Some(&c.id),
        account_id: &c.destination_account_id,
        currency: cur,
        posted_on,
        gross: 0,
        now,
    };
    let p = build(
        head,
        [
            entry(
                LedgerAccount::available(&c.destination_account_id, cur),
                Direction::Debit,
                fee,
            ),
            entry(
                LedgerAccount::operator(kind::FEE_REVENUE, cur),
                Direction::Credit,
                fee,
            ),
        ],
    );
    Some(p)
}

/// A card operation to post (for the card rail). `reference` must be unique
/// per operation kind: the collection id for a capture, the refund id for a
/// refund.
#[derive(Debug, Clone)]
pub struct CardPosting<'a> {
    pub reference: String,
    pub collection_id: &'a CollectionId,
    pub destination: &'a AccountId,
    pub amount: Money,
    /// The fees charged (a capture) or given back (a refund), from
    /// [`inflow_core::fees::FeeSchedule::card_fees`].
    pub fees: i64,
    pub now: DateTime<Utc>,
}

/// Card capture: Dr card clearing *amount*; Cr destination pending *net*;
/// Cr fee revenue *fees*. Settlement of the capture later moves pending to
/// available with [`post_card_settled`].
pub async fn post_card_capture(tx: &mut Tx, p: CardPosting<'_>) -> Result<(), StoreError> {
    let (cur, amount) = (p.amount.currency(), p.amount.minor());
    let fee = p.fees.clamp(0, amount);
    let head = card_head("card_captured", &p);
    let t = build(
        head,
        [
            entry(
                LedgerAccount::operator(kind::CARD_CLEARING, cur),
                Direction::Debit,
                amount,
            ),
            entry(
                LedgerAccount::pending(p.destination, cur),
                Direction::Credit,
                amount - fee,
            ),
            entry(
                LedgerAccount::operator(kind::FEE_REVENUE, cur),
                Direction::Credit,
                fee,
            ),
        ],
    );
    post(tx, &[t]).await
}

/// Card settlement: what the capture of `collection_id` left pending moves
/// to available (reference: the collection id).
pub async fn post_card_settled(
    tx: &mut Tx,
    collection_id: &CollectionId,
    destination: &AccountId,
    amount: Money,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let r = Reversed {
        collection_id,
        destination,
        amount,
        clearing: kind::CARD_CLEARING,
    };
    complete_of(tx, r, "card_settled", local_date(now), now).await
}

/// Card refund: Dr the destination *amount* — from what the capture still
/// has pending, the rest from available — and Cr card clearing *amount*.
/// Card fees are not given back on a refund (`p.fees` is ignored).
pub async fn post_card_refund(tx: &mut Tx, p: CardPosting<'_>) -> Result<(), StoreError> {
    let (cur, amount) = (p.amount.currency(), p.amount.minor());
    let pending = LedgerAccount::pending(p.destination, cur);
    let nets = tx.ledger_nets_for_collection(p.collection_id).await?;
    let from_pending = nets
        .get(&pending.id())
        .copied()
        .unwrap_or(0)
        .clamp(0, amount);
    let head = card_head("card_refunded", &p);
    let t = build(
        head,
        [
            entry(pending, Direction::Debit, from_pending),
            entry(
                LedgerAccount::available(p.destination, cur),
                Direction::Debit,
                amount - from_pending,
            ),
            entry(
                LedgerAccount::operator(kind::CARD_CLEARING, cur),
                Direction::Credit,
                amount,
            ),
        ],
    );
    post(tx, &[t]).await
}

/// Card void (before settlement): undoes exactly what the capture of
/// `collection_id` posted (reference: the collection id). Returns whether
/// anything was posted.
pub async fn post_card_void(
    tx: &mut Tx,
    collection_id: &CollectionId,
    destination: &AccountId,
    amount: Money,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let r = Reversed {
        collection_id,
        destination,
        amount,
        clearing: kind::CARD_CLEARING,
    };
    match reversal_of(tx, r, "card_voided", local_date(now), now).await? {
        Some(t) => post(tx, &[t]).await.map(|_| true),
        None => Ok(false),
    }
}

fn card_head<'a>(kind: &'static str, p: &'a CardPosting<'a>) -> Head<'a> {
    Head {
        kind,
        reference: p.reference.clone(),
        collection_id: Some(p.collection_id),
        account_id: p.destination,
        currency: p.amount.currency(),
        posted_on: local_date(p.now),
        gross: p.amount.minor(),
        now: p.now,
    }
}

/// Card dispute opened (reference: the processor's dispute id): Dr the
/// destination *amount* — from what the collection still has pending, the
/// rest from available — and Cr card clearing *amount* (the processor took
/// it back); then Dr destination available *fee*, Cr fee revenue (the
/// dispute fee, kept whatever the outcome).
pub async fn post_card_dispute(
    tx: &mut Tx,
    p: CardPosting<'_>,
    dispute_fee: i64,
) -> Result<(), StoreError> {
    let (cur, amount) = (p.amount.currency(), p.amount.minor());
    let pending = LedgerAccount::pending(p.destination, cur);
    let nets = tx.ledger_nets_for_collection(p.collection_id).await?;
    let from_pending = nets
        .get(&pending.id())
        .copied()
        .unwrap_or(0)
        .clamp(0, amount);
    let available = LedgerAccount::available(p.destination, cur);
    let head = card_head("card_disputed", &p);
    let t = build(
        head,
        [
            entry(pending, Direction::Debit, from_pending),
            entry(available.clone(), Direction::Debit, amount - from_pending),
            entry(
                LedgerAccount::operator(kind::CARD_CLEARING, cur),
                Direction::Credit,
                amount,
            ),
        ],
    );
    let mut fee_head = card_head("card_dispute_fee", &p);
    fee_head.gross = dispute_fee;
    let fee = build(
        fee_head,
        [
            entry(available, Direction::Debit, dispute_fee),
            entry(
                LedgerAccount::operator(kind::FEE_REVENUE, cur),
                Direction::Credit,
                dispute_fee,
            ),
        ],
    );
    let posts: Vec<_> = [t, fee]
        .into_iter()
        .filter(|t| !t.entries.is_empty())
        .collect();
    post(tx, &posts).await
}

/// Card dispute won (reference: the processor's dispute id): the processor
/// gives the amount back — Dr card clearing, Cr destination available.
pub async fn post_card_dispute_won(tx: &mut Tx, p: CardPosting<'_>) -> Result<(), StoreError> {
    let (cur, amount) = (p.amount.currency(), p.amount.minor());
    let head = card_head("card_dispute_won", &p);
    let t = build(
        head,
        [
            entry(
                LedgerAccount::operator(kind::CARD_CLEARING, cur),
                Direction::Debit,
                amount,
            ),
            entry(
                LedgerAccount::available(p.destination, cur),
                Direction::Credit,
                amount,
            ),
        ],
    );
    post(tx, &[t]).await
}
