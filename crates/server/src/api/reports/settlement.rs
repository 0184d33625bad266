//! `GET /v1/reports/settlement`: one day's settlement, one section per rail.
//!
//! - **ACH**: collections placed in the day's files (`submitted`), completed
//!   and returned (or reversed); ties to the day's outbound NACHA files
//!   (submitted gross = the files' total debit).
//! - **Cards**: captures, settlements, refunds, voids and disputes; ties to
//!   the day's batch closes (every collection a batch close settled that
//!   day has its `card_settled` posting that day, and every such posting
//!   belongs to a collection settled that day — except a collection with
//!   nothing left pending at the close, refunded or disputed in full
//!   before it, which moves no money when settled).
//!
//! Fees, net and available change are per destination account across both
//! rails; `accountsMatchClearing` checks them against the ACH and card
//! clearing accounts.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{RawQuery, State};
use axum::{Extension, Json};
use chrono::{Days, NaiveDate, NaiveTime};
use inflow_core::calendar::eastern_instant;
use inflow_core::card::{CardCollection, CardStatus};
use inflow_store::repo::ledger::kind;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::auth::Auth;
use crate::http::body::parse_query;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SettlementParams {
    /// The banking day (YYYY-MM-DD, US/Eastern).
    pub date: String,
}

/// A count and a gross amount (minor units).
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CountAmount {
    pub count: i64,
    pub amount: String,
}

/// The ACH rail's day (gross amounts).
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AchFigures {
    /// Collections placed in the day's files.
    pub submitted: CountAmount,
    /// Collections that completed.
    pub completed: CountAmount,
    /// Collections returned (also late) or reversed.
    pub returned: CountAmount,
    /// ACH refunds made (credit entries; their posting is at creation).
    pub refunded: CountAmount,
}

/// The card rail's day (gross amounts).
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CardFigures {
    /// Sales, forces and captures of authorizations.
    pub captured: CountAmount,
    /// Collections a batch close settled (pending → available).
    pub settled: CountAmount,
    pub refunded: CountAmount,
    /// Captures voided before settlement.
    pub voided: CountAmount,
    /// Disputes (chargebacks) opened.
    pub disputed: CountAmount,
}

/// One destination account's (or all accounts') day.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SettlementLine {
    /// Absent on the totals line.
    pub account_id: Option<String>,
    pub ach: AchFigures,
    pub card: CardFigures,
    /// Net fee revenue (both rails): fees charged, less fees given back, plus return and dispute fees.
    pub fees: String,
    /// Net change of the destination balance (pending + available).
    pub net: String,
    /// Net change of the available balance.
    pub available_change: String,
}

/// An outbound NACHA file's control totals.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FileTotalsView {
    pub id: String,
    pub file_name: String,
    pub entry_count: i64,
    pub total_debit: String,
    pub total_credit: String,
}

/// The ACH section: the day's figures and the NACHA files they tie to.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AchSection {
    #[serde(flatten)]
    pub figures: AchFigures,
    pub nacha_files: Vec<FileTotalsView>,
    /// The total debit of the day's debit files (credit files of refunds
    /// and reversals, and their offset files, are listed but not counted).
    pub nacha_total_debit: String,
    /// The submitted gross equals the total debit of the day's outbound files.
    pub ties_out: bool,
}

/// One processor batch close of the day.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BatchCloseView {
    pub batch_id: String,
    /// Collections it settled.
    pub count: i64,
    /// Their captured gross.
    pub captured_amount: String,
}

/// The card section: the day's figures and the batch closes they tie to.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CardSection {
    #[serde(flatten)]
    pub figures: CardFigures,
    pub batch_closes: Vec<BatchCloseView>,
    /// Collections settled by the day's batch closes with no `card_settled`
    /// posting although funds were pending, or posted as settled without a
    /// batch close that day (both empty when the section ties out).
    pub unmatched_collections: Vec<String>,
    /// Every collection the day's batch closes settled has its settlement
    /// posting that day, and every settlement posting a batch close.
    pub ties_out: bool,
}

/// Whether the report's figures agree.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TiesOut {
    /// ACH: the day's submitted amount equals the total debit of the day's outbound files.
    pub submitted_matches_nacha_files: bool,
    /// Cards: the day's settlements match the day's batch closes.
    pub card_settled_matches_batch_closes: bool,
    /// Per the ledger: net + fees of all accounts = the ACH and card clearing movement.
    pub accounts_match_clearing: bool,
}

/// The settlement report of one day.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SettlementReport {
    /// Always `settlement_report`.
    pub object: &'static str,
    pub date: String,
    pub currency: String,
    pub accounts: Vec<SettlementLine>,
    pub totals: SettlementLine,
    /// Net debit of the clearing accounts that day (what the banks and the processor owe).
    pub clearing_debit: String,
    pub ach: AchSection,
    pub card: CardSection,
    pub ties_out: TiesOut,
}

type Pair = (i64, i64);

#[derive(Default)]
struct Acc {
    ach: [Pair; 4],
    card: [Pair; 5],
    fees: i64,
    net: i64,
    available: i64,
    clearing: i64,
}

impl Acc {
    fn add(&mut self, other: &Acc) {
        for (t, v) in self.ach.iter_mut().zip(other.ach) {
            t.0 += v.0;
            t.1 += v.1;
        }
        for (t, v) in self.card.iter_mut().zip(other.card) {
            t.0 += v.0;
            t.1 += v.1;
        }
        self.fees += other.fees;
        self.net += other.net;
        self.available += other.available;
        self.clearing += other.clearing;
    }
}

fn ca((count, amount): Pair) -> CountAmount {
    CountAmount {
        count,
        amount: amount.to_string(),
    }
}

fn ach_figures(a: &Acc) -> AchFigures {
    AchFigures {
        submitted: ca(a.ach[0]),
        completed: ca(a.ach[1]),
        returned: ca(a.ach[2]),
        refunded: ca(a.ach[3]),
    }
}

fn card_figures(a: &Acc) -> CardFigures {
    CardFigures {
        captured: ca(a.card[0]),
        settled: ca(a.card[1]),
        refunded: ca(a.card[2]),
        voided: ca(a.card[3]),
        disputed: ca(a.card[4]),
    }
}

fn line(account_id: Option<String>, a: &Acc) -> SettlementLine {
    SettlementLine {
        account_id,
        ach: ach_figures(a),
        card: card_figures(a),
        fees: a.fees.to_string(),
        net: a.net.to_string(),
        available_change: a.available.to_string(),
    }
}

/// The day's settlement, one section per rail, per destination account. Operator keys only.
#[utoipa::path(get, path = "/v1/reports/settlement", tag = "reports", params(SettlementParams),
    responses((status = 200, body = SettlementReport), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn settlement(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<SettlementReport>> {
    auth.require_admin()?;
    let params: SettlementParams = parse_query(q.as_deref())?;
    let date = NaiveDate::parse_from_str(&params.date, "%Y-%m-%d").map_err(|_| {
        ApiError::invalid("invalid_date", "date must be a day as YYYY-MM-DD", "date")
    })?;
    let mut tx = state.store.read().await?;
    Ok(Json(settlement_report(&mut tx, date).await?))
}

/// Nothing was left pending for `c` at its batch close: refunded (or
/// disputed) for at least what the capture left pending after fees.
fn nothing_left_to_settle(c: &CardCollection) -> bool {
    let disputed = matches!(
        c.status,
        CardStatus::Disputed | CardStatus::DisputeWon | CardStatus::DisputeLost
    );
    disputed || c.captured_minor - c.fees().total() - c.refunded_minor <= 0
}

/// Build the settlement report of `date` from the ledger, the files and the batch closes.
pub async fn settlement_report(
    tx: &mut inflow_store::Tx,
    date: NaiveDate,
) -> Result<SettlementReport, inflow_store::StoreError> {
    let mut by_account: BTreeMap<String, Acc> = BTreeMap::new();
    for p in tx.day_postings(date).await? {
        let a = by_account
            .entry(p.account_id.unwrap_or_default())
            .or_default();
        let slot = match p.kind.as_str() {
            "ach_submitted" => &mut a.ach[0],
            "ach_completed" => &mut a.ach[1],
            "ach_returned" | "ach_reversed" => &mut a.ach[2],
            "ach_refund" => &mut a.ach[3],
            "card_captured" => &mut a.card[0],
            "card_settled" => &mut a.card[1],
            "card_refunded" => &mut a.card[2],
            "card_voided" => &mut a.card[3],
            "card_disputed" => &mut a.card[4],
            _ => continue,
        };
        slot.0 += p.count;
        slot.1 += p.gross_amount;
    }
    for m in tx.day_movements(date).await? {
        let a = by_account
            .entry(m.account_id.unwrap_or_default())
            .or_default();
        match m.ledger_account_kind.as_str() {
            kind::DESTINATION_PENDING => a.net += m.net,
            kind::DESTINATION_AVAILABLE => {
                a.net += m.net;
                a.available += m.net;
            }
            kind::FEE_REVENUE => a.fees += m.net,
            // ACH settlement: what balanced files' offsets moved out of clearing.
            kind::ACH_CLEARING | kind::CARD_CLEARING | kind::ACH_SETTLEMENT => a.clearing -= m.net,
            _ => {}
        }
    }
    let mut total = Acc::default();
    for a in by_account.values() {
        total.add(a);
    }

    let files = tx.outbound_file_totals(date).await?;
    // Credit files (refunds, reversals) and their offset files carry no
    // collection debits: only debit files tie to the submitted amount.
    let nacha_total: i64 = files
        .iter()
        .filter(|f| f.contents == "debits")
        .map(|f| f.total_debit)
        .sum();
    let ach_ties = total.ach[0].1 == nacha_total;

    let card = card_section(tx, date, card_figures(&total)).await?;
    let card_ties = card.ties_out;
    Ok(SettlementReport {
        object: "settlement_report",
        date: date.to_string(),
        currency: "USD".into(),
        accounts: by_account
            .iter()
            .map(|(id, a)| line(Some(id.clone()).filter(|s| !s.is_empty()), a))
            .collect(),
        totals: line(None, &total),
        clearing_debit: total.clearing.to_string(),
        ach: AchSection {
            figures: ach_figures(&total),
            nacha_files: files
                .into_iter()
                .map(|f| FileTotalsView {
                    id: f.id,
                    file_name: f.file_name,
                    entry_count: f.entry_count,
                    total_debit: f.total_debit.to_string(),
                    total_credit: f.total_credit.to_string(),
                })
                .collect(),
            nacha_total_debit: nacha_total.to_string(),
            ties_out: ach_ties,
        },
        card,
        ties_out: TiesOut {
            submitted_matches_nacha_files: ach_ties,
            card_settled_matches_batch_closes: card_ties,
            accounts_match_clearing: total.net + total.fees == total.clearing,
        },
    })
}

/// The card section: the day's batch closes against its `card_settled` postings.
async fn card_section(
    tx: &mut inflow_store::Tx,
    date: NaiveDate,
    figures: CardFigures,
) -> Result<CardSection, inflow_store::StoreError> {
    let from = eastern_instant(date, NaiveTime::MIN);
    let to = eastern_instant(date + Days::new(1), NaiveTime::MIN);
    let settled = tx.card_collections_settled_between(from, to).await?;
    let posted: BTreeSet<String> = tx
        .day_postings_of_kind(date, "card_settled")
        .await?
        .into_iter()
        .filter_map(|(collection, _)| collection)
        .collect();
    let mut batches: BTreeMap<String, Pair> = BTreeMap::new();
    let mut unmatched = Vec::new();
    let mut in_batches = BTreeSet::new();
    for c in &settled {
        let b = batches
            .entry(c.batch_id.clone().unwrap_or_default())
            .or_default();
        b.0 += 1;
        b.1 += c.captured_minor;
        let id = c.id.to_string();
        if !posted.contains(&id) && !nothing_left_to_settle(c) {
            unmatched.push(id.clone());
        }
        in_batches.insert(id);
    }
    unmatched.extend(posted.difference(&in_batches).cloned());
    unmatched.sort();
    Ok(CardSection {
        figures,
        batch_closes: batches
            .into_iter()
            .map(|(batch_id, (count, amount))| BatchCloseView {
                batch_id,
                count,
                captured_amount: amount.to_string(),
            })
            .collect(),
        ties_out: unmatched.is_empty(),
        unmatched_collections: unmatched,
    })
}
