//! Operator reports: the day's settlement per destination account (tied to
//! the ledger and to the NACHA files of the day), and a customer's return
//! rates against the NACHA thresholds.

use std::collections::BTreeMap;

use axum::extract::{RawQuery, State};
use axum::{Extension, Json};
use chrono::{Duration, NaiveDate};
use inflow_core::calendar::local_date;
use inflow_core::ids::CustomerId;
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

/// One destination account's (or all accounts') day.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SettlementLine {
    /// Absent on the totals line.
    pub account_id: Option<String>,
    /// Collections placed in the day's files (gross).
    pub submitted: CountAmount,
    /// Collections that completed (gross).
    pub completed: CountAmount,
    /// Collections returned (also late) or reversed, card refunds, voids and
    /// disputes (gross).
    pub returned: CountAmount,
    /// Net fee revenue: fees charged, less fees given back on reversals, plus return fees.
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

/// Whether the report's figures agree.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TiesOut {
    /// The day's submitted amount equals the total debit of the day's outbound files.
    pub submitted_matches_nacha_files: bool,
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
    /// Net debit of the clearing accounts that day (what the banks owe).
    pub clearing_debit: String,
    pub nacha_files: Vec<FileTotalsView>,
    pub nacha_total_debit: String,
    pub ties_out: TiesOut,
}

#[derive(Default)]
struct Acc {
    submitted: (i64, i64),
    completed: (i64, i64),
    returned: (i64, i64),
    fees: i64,
    net: i64,
    available: i64,
    clearing: i64,
}

fn line(account_id: Option<String>, a: &Acc) -> SettlementLine {
    let ca = |(count, amount): (i64, i64)| CountAmount {
        count,
        amount: amount.to_string(),
    };
    SettlementLine {
        account_id,
        submitted: ca(a.submitted),
        completed: ca(a.completed),
        returned: ca(a.returned),
        fees: a.fees.to_string(),
        net: a.net.to_string(),
        available_change: a.available.to_string(),
    }
}

/// The day's settlement per destination account. Operator keys only.
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

/// Build the settlement report of `date` from the ledger and the files.
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
            "ach_submitted" | "card_captured" => &mut a.submitted,
            "ach_completed" | "card_settled" => &mut a.completed,
            "ach_returned" | "ach_reversed" | "card_refunded" | "card_voided" | "card_disputed" => {
                &mut a.returned
            }
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
        for (t, v) in [
            (&mut total.submitted, a.submitted),
            (&mut total.completed, a.completed),
            (&mut total.returned, a.returned),
        ] {
            t.0 += v.0;
            t.1 += v.1;
        }
        total.fees += a.fees;
        total.net += a.net;
        total.available += a.available;
        total.clearing += a.clearing;
    }
    let files = tx.outbound_file_totals(date).await?;
    let nacha_total: i64 = files.iter().map(|f| f.total_debit).sum();
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
        ties_out: TiesOut {
            submitted_matches_nacha_files: total.submitted.1 == nacha_total,
            accounts_match_clearing: total.net + total.fees == total.clearing,
        },
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReturnRateParams {
    pub customer_id: String,
}

/// NACHA return codes counted as unauthorized.
pub const UNAUTHORIZED_CODES: [&str; 6] = ["R05", "R07", "R10", "R11", "R29", "R51"];
/// NACHA return codes counted as administrative.
pub const ADMINISTRATIVE_CODES: [&str; 3] = ["R02", "R03", "R04"];
/// The window the rates are measured over.
pub const RETURN_RATE_WINDOW_DAYS: i64 = 60;

/// One rate against its threshold.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RateView {
    pub returns: i64,
    /// returns / debit entries (0 when there were none).
    pub rate: f64,
    pub threshold: f64,
    pub exceeded: bool,
}

/// A customer's return rates over the last 60 days.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReturnRateReport {
    /// Always `return_rate_report`.
    pub object: &'static str,
    pub customer_id: String,
    pub window_days: i64,
    pub from: String,
    pub to: String,
    /// ACH debits submitted in the window.
    pub debit_entries: i64,
    /// R05, R07, R10, R11, R29, R51 (threshold 0.5%).
    pub unauthorized: RateView,
    /// R02, R03, R04 (threshold 3%).
    pub administrative: RateView,
    /// Every return code (threshold 15%).
    pub overall: RateView,
    /// Returns per code in the window.
    pub by_code: BTreeMap<String, i64>,
}

fn rate(returns: i64, entries: i64, threshold: f64) -> RateView {
    let rate = if entries == 0 {
        0.0
    } else {
        returns as f64 / entries as f64
    };
    RateView {
        returns,
        rate,
        threshold,
        exceeded: rate > threshold,
    }
}

/// A customer's unauthorized, administrative and overall return rates over
/// the last 60 days against the NACHA thresholds. Operator keys only.
#[utoipa::path(get, path = "/v1/reports/return-rates", tag = "reports", params(ReturnRateParams),
    responses((status = 200, body = ReturnRateReport), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn return_rates(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<ReturnRateReport>> {
    auth.require_admin()?;
    let params: ReturnRateParams = parse_query(q.as_deref())?;
    let customer = CustomerId::parse("customerId", &params.customer_id)?;
    let now = state.clock.now();
    let since = now - Duration::days(RETURN_RATE_WINDOW_DAYS);
    let mut tx = state.store.read().await?;
    tx.get_customer(&customer)
        .await
        .map_err(|_| ApiError::not_found("customer"))?;
    let entries = tx.debits_submitted_since(&customer, since).await?;
    let by_code: BTreeMap<String, i64> = tx
        .returns_by_code_since(&customer, since)
        .await?
        .into_iter()
        .collect();
    let count = |codes: &[&str]| -> i64 {
        by_code
            .iter()
            .filter(|(c, _)| codes.contains(&c.as_str()))
            .map(|(_, n)| n)
            .sum()
    };
    let all: i64 = by_code.values().sum();
    Ok(Json(ReturnRateReport {
        object: "return_rate_report",
        customer_id: customer.to_string(),
        window_days: RETURN_RATE_WINDOW_DAYS,
        from: local_date(since).to_string(),
        to: local_date(now).to_string(),
        debit_entries: entries,
        unauthorized: rate(count(&UNAUTHORIZED_CODES), entries, 0.005),
        administrative: rate(count(&ADMINISTRATIVE_CODES), entries, 0.03),
        overall: rate(all, entries, 0.15),
        by_code,
    }))
}
