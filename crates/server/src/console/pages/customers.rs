//! Customers: their fee schedule and debit limits (as the API's customer
//! and fee-schedule handlers return them), their destination accounts with
//! balances (pending and available, from the ledger), and an account's
//! ledger entries ([`super::account`]).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use inflow_core::model::{Account, Customer};
use inflow_store::repo::ledger::Balances;
use inflow_store::ListQuery;
use maud::{html, Markup};
use serde_json::Value;

use crate::console::act;
use crate::console::format::{money, money_str};
use crate::console::layout::{error_page, page};
use crate::console::session::Operator;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// A customer, its accounts with balances, its fee schedule and limits (JSON as the API shows them).
struct Row {
    customer: Customer,
    accounts: Vec<(Account, Balances)>,
    fees: Value,
    limits: Value,
}

async fn load(state: &AppState, op: &Operator) -> ApiResult<Vec<Row>> {
    let all = ListQuery::first(ListQuery::MAX_LIMIT);
    let mut tx = state.store.read().await?;
    let mut out = Vec::new();
    for c in tx.list_customers(&all).await?.data {
        let mut accounts = Vec::new();
        for a in tx.list_accounts(&c.id, &all).await?.data {
            let b = tx.ledger_balances(&a.id).await?;
            accounts.push((a, b));
        }
        out.push(Row {
            customer: c,
            accounts,
            fees: Value::Null,
            limits: Value::Null,
        });
    }
    tx.rollback().await?;
    for r in &mut out {
        let id = r.customer.id.to_string();
        let Json(fees) = crate::api::ledger::get_fee_schedule(
            State(state.clone()),
            Extension(act::operator(op)),
            Path(id.clone()),
        )
        .await?;
        let Json(c) = crate::api::customers::get(
            State(state.clone()),
            Extension(act::operator(op)),
            Path(id),
        )
        .await?;
        r.fees = serde_json::to_value(fees).map_err(|_| ApiError::internal())?;
        r.limits = serde_json::to_value(c).map_err(|_| ApiError::internal())?["achLimits"].take();
    }
    Ok(out)
}

fn fee_line(fees: &Value) -> Markup {
    html! {
        (fees["source"].as_str().unwrap_or("")) " schedule: "
        @for (k, v) in super::fees::amounts(fees) {
            @let n = v.as_i64().unwrap_or(0);
            (k) " " @if k.ends_with("Bps") { (n) " bps" } @else { (money(n)) } "; "
        }
    }
}

fn limit_line(limits: &Value) -> Markup {
    html! {
        @for (k, v) in limits.as_object().into_iter().flatten() {
            (k) " " @if let Some(m) = v["value"].as_str() { (money_str(m)) } @else { "no limit" } "; "
        }
    }
}

/// `GET /console/customers`.
pub async fn list(State(state): State<AppState>, op: Operator) -> Response {
    let rows = match load(&state, &op).await {
        Ok(r) => r,
        Err(e) => return error_page(e),
    };
    page(&op, "/console/customers", "Customers and balances", state.config.sandbox, html! {
        p { a href="/console/fees/default" { "The operator's default fee schedule…" } }
        @if rows.is_empty() { p { "No customers yet." } }
        @for row in &rows {
            @let (c, accounts) = (&row.customer, &row.accounts);
            section.customer {
                h2 { (c.name) }
                p { (c.id.as_str()) " — " (c.kind.as_str()) ", " (c.status.as_str())
                    " — " a href=(format!("/console/collections?customer={}", c.id.as_str())) { "collections" } }
                p { strong { "Fees: " } (fee_line(&row.fees)) " " a href=(format!("/console/fees/{}", c.id.as_str())) { "Edit…" } }
                p { strong { "ACH debit limits: " } (limit_line(&row.limits)) " " a href=(format!("/console/customers/{}/limits", c.id.as_str())) { "Edit…" } }
                table {
                    thead { tr { th scope="col" { "Destination account" } th scope="col" { "Name" } th scope="col" { "Status" } th scope="col" { "Pending" } th scope="col" { "Available" } } }
                    tbody {
                        @for (a, b) in accounts {
                            tr { td { a href=(format!("/console/customers/{}/accounts/{}", c.id.as_str(), a.id.as_str())) { (a.id.as_str()) } } td { (a.name) } td { (a.status.as_str()) } td.num { (money(b.pending)) } td.num { (money(b.available)) } }
                        }
                        @if accounts.is_empty() { tr { td colspan="5" { "No destination accounts." } } }
                    }
                }
            }
        }
    })
    .into_response()
}
