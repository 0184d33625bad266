//! Reports: the day's settlement per rail and destination account
//! ([`settlement`], operator), a customer's return rates against the NACHA
//! thresholds (operator; computed by `inflow_engine::alerts`, which also
//! raises `customer.return_rate_exceeded` when one is crossed), and the
//! daily reconciliation files ([`daily_files`], operator and customers).

pub mod daily_files;
pub mod settlement;

pub use settlement::settlement_report;

use std::collections::BTreeMap;

use axum::extract::{RawQuery, State};
use axum::{Extension, Json};
use inflow_core::ids::CustomerId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::auth::Auth;
use crate::http::body::parse_query;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReturnRateParams {
    pub customer_id: String,
}

pub use inflow_engine::alerts::{
    ADMINISTRATIVE_CODES, RETURN_RATE_WINDOW_DAYS, UNAUTHORIZED_CODES,
};

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

fn rate(r: inflow_engine::alerts::Rate) -> RateView {
    RateView {
        returns: r.returns,
        rate: r.rate,
        threshold: r.threshold,
        exceeded: r.exceeded(),
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
    let mut tx = state.store.read().await?;
    tx.get_customer(&customer)
        .await
        .map_err(ApiError::not_found_if_missing("customer"))?;
    let r = inflow_engine::alerts::return_rates(&mut tx, &customer, now).await?;
    Ok(Json(ReturnRateReport {
        object: "return_rate_report",
        customer_id: customer.to_string(),
        window_days: RETURN_RATE_WINDOW_DAYS,
        from: r.from.to_string(),
        to: r.to.to_string(),
        debit_entries: r.debit_entries,
        unauthorized: rate(r.unauthorized),
        administrative: rate(r.administrative),
        overall: rate(r.overall),
        by_code: r.by_code,
    }))
}
