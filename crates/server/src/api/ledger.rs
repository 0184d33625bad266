//! Balances and ledger entries of destination accounts, and the operator's
//! fee schedules (`/v1/fee-schedules/{customerId|default}`).

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Json};
use inflow_core::fees::FeeSchedule;
use inflow_core::ids::{AccountId, CustomerId};
use inflow_store::repo::fee_schedules::DEFAULT_KEY;
use inflow_store::repo::ledger::{Balances, EntryRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::common::{time, to_json, ListResponse, PageParams};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::audit::Audit;
use crate::http::auth::Auth;
use crate::http::body::{parse_json, parse_query};
use crate::http::idempotency::{run_write, WriteRequest};
use crate::state::AppState;

/// Balances of a destination account, in minor units as strings (they can
/// be negative: a return after the funds became available).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BalancesView {
    pub currency: String,
    /// Credited for submitted collections not yet through the good-funds period.
    #[schema(example = "9975")]
    pub pending: String,
    /// Completed collections, net of fees, returns and return fees.
    pub available: String,
    /// pending + available.
    pub total: String,
}

impl BalancesView {
    pub fn new(currency: &str, b: Balances) -> Self {
        Self {
            currency: currency.to_owned(),
            pending: b.pending.to_string(),
            available: b.available.to_string(),
            total: b.total().to_string(),
        }
    }
}

/// One ledger entry on a destination account.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LedgerEntryView {
    pub id: String,
    /// Always `ledger_entry`.
    pub object: &'static str,
    pub transaction_id: String,
    /// `ach_submitted`, `ach_completed`, `ach_returned`, `ach_return_fee`, `ach_reversed`, `card_captured`,
    /// `card_settled`, `card_refunded`, `card_voided`, `card_disputed`, `card_dispute_fee`, `card_dispute_won`.
    pub transaction_type: String,
    /// `pending` or `available`.
    pub balance: &'static str,
    /// `credit` (adds to the balance) or `debit`.
    pub direction: String,
    /// Minor units, positive.
    pub amount: String,
    pub currency: String,
    pub collection_id: Option<String>,
    /// The banking day the posting belongs to (US/Eastern, YYYY-MM-DD).
    pub posted_on: String,
    pub created_at: String,
}

/// Entries are numbered; the API shows `len_<number>`.
const ENTRY_PREFIX: &str = "len_";

fn entry_view(e: EntryRow) -> LedgerEntryView {
    let created = e.created().map(time).unwrap_or_default();
    LedgerEntryView {
        id: format!("{ENTRY_PREFIX}{}", e.id),
        object: "ledger_entry",
        transaction_id: e.transaction_id,
        transaction_type: e.transaction_kind,
        balance: if e.ledger_account_kind.ends_with("pending") {
            "pending"
        } else {
            "available"
        },
        direction: e.direction,
        amount: e.amount.to_string(),
        currency: e.currency,
        collection_id: e.collection_id,
        posted_on: e.posted_on,
        created_at: created,
    }
}

/// List the ledger entries of a destination account, newest first, each with
/// the collection it came from.
#[utoipa::path(get, path = "/v1/accounts/{id}/entries", tag = "accounts",
    params(("id" = String, Path), PageParams),
    responses((status = 200, body = ListResponse<LedgerEntryView>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_entries(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<ListResponse<LedgerEntryView>>> {
    let id = AccountId::parse("id", &id).map_err(|_| ApiError::not_found("account"))?;
    let params: PageParams = parse_query(q.as_deref())?;
    let before = match params.starting_after.as_deref() {
        None => 0,
        Some(s) => s
            .strip_prefix(ENTRY_PREFIX)
            .and_then(|n| n.parse::<i64>().ok())
            .filter(|n| *n > 0)
            .ok_or_else(|| {
                ApiError::invalid(
                    "invalid_cursor",
                    "startingAfter must be the id of a ledger entry (len_…)",
                    "startingAfter",
                )
            })?,
    };
    let query = PageParams {
        limit: params.limit,
        starting_after: None,
    }
    .to_query()?;
    let mut tx = state.store.read().await?;
    tx.get_account(auth.customer_id()?, &id)
        .await
        .map_err(ApiError::not_found_if_missing("account"))?;
    let page = tx.list_ledger_entries(&id, before, &query).await?;
    Ok(Json(ListResponse::from_page(
        page,
        |e| format!("{ENTRY_PREFIX}{}", e.id),
        entry_view,
    )))
}

/// A fee schedule (all amounts in minor units; percentages in basis points).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FeeScheduleBody {
    #[serde(default)]
    pub ach_fixed: i64,
    #[serde(default)]
    pub ach_same_day_surcharge: i64,
    #[serde(default)]
    pub ach_percentage_bps: i64,
    /// Lower bound of the percentage fee (0: none).
    #[serde(default)]
    pub ach_percentage_min: i64,
    /// Upper bound of the percentage fee (0: none).
    #[serde(default)]
    pub ach_percentage_max: i64,
    #[serde(default)]
    pub ach_return_fee: i64,
    #[serde(default)]
    pub card_percentage_bps: i64,
    #[serde(default)]
    pub card_fixed: i64,
    /// Charged when a card capture is disputed (kept whatever the outcome).
    #[serde(default)]
    pub card_dispute_fee: i64,
}

impl From<&FeeScheduleBody> for FeeSchedule {
    fn from(b: &FeeScheduleBody) -> Self {
        Self {
            ach_fixed: b.ach_fixed,
            ach_same_day_surcharge: b.ach_same_day_surcharge,
            ach_percentage_bps: b.ach_percentage_bps,
            ach_percentage_min: b.ach_percentage_min,
            ach_percentage_max: b.ach_percentage_max,
            ach_return_fee: b.ach_return_fee,
            card_percentage_bps: b.card_percentage_bps,
            card_fixed: b.card_fixed,
            card_dispute_fee: b.card_dispute_fee,
        }
    }
}

/// The fee schedule resource.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeeScheduleView {
    /// Always `fee_schedule`.
    pub object: &'static str,
    /// `default` or the customer's id.
    pub id: String,
    /// `customer` (its own), `default` (the operator's default applies) or `none`.
    pub source: &'static str,
    #[serde(flatten)]
    pub schedule: FeeAmounts,
}

/// The amounts of a fee schedule as returned. The same fields as
/// [`FeeScheduleBody`], which refuses unknown fields and so cannot be
/// flattened into a response that adds `object`, `id` and `source`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeeAmounts {
    pub ach_fixed: i64,
    pub ach_same_day_surcharge: i64,
    pub ach_percentage_bps: i64,
    /// Lower bound of the percentage fee (0: none).
    pub ach_percentage_min: i64,
    /// Upper bound of the percentage fee (0: none).
    pub ach_percentage_max: i64,
    pub ach_return_fee: i64,
    pub card_percentage_bps: i64,
    pub card_fixed: i64,
    /// Charged when a card capture is disputed (kept whatever the outcome).
    pub card_dispute_fee: i64,
}

impl From<FeeSchedule> for FeeAmounts {
    fn from(s: FeeSchedule) -> Self {
        Self {
            ach_fixed: s.ach_fixed,
            ach_same_day_surcharge: s.ach_same_day_surcharge,
            ach_percentage_bps: s.ach_percentage_bps,
            ach_percentage_min: s.ach_percentage_min,
            ach_percentage_max: s.ach_percentage_max,
            ach_return_fee: s.ach_return_fee,
            card_percentage_bps: s.card_percentage_bps,
            card_fixed: s.card_fixed,
            card_dispute_fee: s.card_dispute_fee,
        }
    }
}

/// `default` or a customer id; 404 for anything else.
fn schedule_key(id: &str) -> ApiResult<String> {
    if id == DEFAULT_KEY {
        return Ok(id.to_owned());
    }
    CustomerId::parse("id", id)
        .map(|c| c.to_string())
        .map_err(|_| ApiError::not_found("fee schedule"))
}

/// The fee schedule of a customer (its own, or the default that applies to
/// it), or the operator's default (`default`). Operator keys only.
#[utoipa::path(get, path = "/v1/fee-schedules/{id}", tag = "fees",
    params(("id" = String, Path, description = "`default` or a customer id")),
    responses((status = 200, body = FeeScheduleView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_fee_schedule(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> ApiResult<Json<FeeScheduleView>> {
    auth.require_admin()?;
    let key = schedule_key(&id)?;
    let mut tx = state.store.read().await?;
    if key != DEFAULT_KEY {
        tx.get_customer(&CustomerId::from_trusted(key.clone()))
            .await
            .map_err(ApiError::not_found_if_missing("customer"))?;
    }
    let (source, schedule) = match tx.get_fee_schedule(&key).await? {
        Some(s) if key == DEFAULT_KEY => ("default", s),
        Some(s) => ("customer", s),
        None => match tx.get_fee_schedule(DEFAULT_KEY).await? {
            Some(s) => ("default", s),
            None => ("none", FeeSchedule::default()),
        },
    };
    Ok(Json(FeeScheduleView {
        object: "fee_schedule",
        id: key,
        source,
        schedule: schedule.into(),
    }))
}

/// Set a customer's fee schedule, or the default (`default`). Applies to
/// collections created from then on. Operator keys only.
#[utoipa::path(put, path = "/v1/fee-schedules/{id}", tag = "fees",
    params(("id" = String, Path, description = "`default` or a customer id")), request_body = FeeScheduleBody,
    responses((status = 200, body = FeeScheduleView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn put_fee_schedule(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    Audit(audit): Audit,
    req: WriteRequest,
) -> ApiResult<Response> {
    auth.require_admin()?;
    let key = schedule_key(&id)?;
    let body: FeeScheduleBody = parse_json(&req.body)?;
    let schedule = FeeSchedule::from(&body);
    schedule.validate()?;
    let now = state.clock.now();
    run_write(&state, &auth, &req, move |tx| {
        Box::pin(async move {
            let source = if key == DEFAULT_KEY {
                "default"
            } else {
                tx.get_customer(&CustomerId::from_trusted(key.clone()))
                    .await
                    .map_err(ApiError::not_found_if_missing("customer"))?;
                "customer"
            };
            let before = tx.get_fee_schedule(&key).await?.map(|s| FeeScheduleView {
                object: "fee_schedule",
                id: key.clone(),
                source,
                schedule: s.into(),
            });
            tx.put_fee_schedule(&key, &schedule, now).await?;
            let view = FeeScheduleView {
                object: "fee_schedule",
                id: key,
                source,
                schedule: schedule.into(),
            };
            let mut change = audit.change("fee_schedule.updated", "fee_schedule", &view.id);
            if let Some(b) = &before {
                change = change.before(b);
            }
            change.after(&view).record(tx, now).await?;
            Ok((StatusCode::OK, to_json(&view)?))
        })
    })
    .await
}

/// What `POST /v1/ledger/check` found.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LedgerCheckView {
    /// Always `ledger_check`.
    pub object: &'static str,
    /// Every transaction balances and every balance is the sum of its entries.
    pub ok: bool,
    pub transactions: i64,
    pub entries: i64,
    pub accounts: i64,
    /// Transactions whose entries do not balance or do not match their totals.
    pub unbalanced_transactions: Vec<String>,
    pub balance_mismatches: Vec<BalanceMismatchView>,
}

/// A ledger account whose stored balance is not the sum of its entries.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BalanceMismatchView {
    pub ledger_account: String,
    pub balance: i64,
    pub sum_of_entries: i64,
}

/// Check the ledger now (operator keys only): every transaction balances
/// and matches its entries, every stored balance equals the sum of its
/// entries. A failure raises the `ledger.check_failed` alert event (once,
/// until a check passes again); the answer is 200 either way, with `ok`.
/// Every node also runs the check every `[alerts] ledger_check_interval_secs`.
#[utoipa::path(post, path = "/v1/ledger/check", tag = "accounts",
    responses((status = 200, body = LedgerCheckView), (status = 403, body = ErrorBody)))]
pub async fn check(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> ApiResult<Json<LedgerCheckView>> {
    auth.require_admin()?;
    let c = inflow_engine::alerts::check_ledger(&state.store, state.clock.now()).await?;
    Ok(Json(LedgerCheckView {
        object: "ledger_check",
        ok: c.is_ok(),
        transactions: c.transactions,
        entries: c.entries,
        accounts: c.accounts,
        unbalanced_transactions: c.unbalanced,
        balance_mismatches: c
            .balance_mismatches
            .into_iter()
            .map(
                |(ledger_account, balance, sum_of_entries)| BalanceMismatchView {
                    ledger_account,
                    balance,
                    sum_of_entries,
                },
            )
            .collect(),
    }))
}
