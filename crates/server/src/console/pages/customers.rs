//! Customers and their destination accounts with balances (pending and
//! available, from the ledger), each account's newest ledger entries a
//! click away on the collections it came from.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use inflow_core::model::{Account, Customer};
use inflow_store::repo::ledger::Balances;
use inflow_store::ListQuery;
use maud::html;

use crate::console::format::money;
use crate::console::layout::{error_page, page};
use crate::console::session::Operator;
use crate::error::ApiResult;
use crate::state::AppState;

type Row = (Customer, Vec<(Account, Balances)>);

async fn load(state: &AppState) -> ApiResult<Vec<Row>> {
    let all = ListQuery::first(ListQuery::MAX_LIMIT);
    let mut tx = state.store.read().await?;
    let mut out = Vec::new();
    for c in tx.list_customers(&all).await?.data {
        let mut accounts = Vec::new();
        for a in tx.list_accounts(&c.id, &all).await?.data {
            let b = tx.ledger_balances(&a.id).await?;
            accounts.push((a, b));
        }
        out.push((c, accounts));
    }
    tx.rollback().await?;
    Ok(out)
}

/// `GET /console/customers`.
pub async fn list(State(state): State<AppState>, op: Operator) -> Response {
    let rows = match load(&state).await {
        Ok(r) => r,
        Err(e) => return error_page(e),
    };
    page(&op, "/console/customers", "Customers and balances", state.config.sandbox, html! {
        @if rows.is_empty() { p { "No customers yet." } }
        @for (c, accounts) in &rows {
            section.customer {
                h2 { (c.name) }
                p { (c.id.as_str()) " — " (c.kind.as_str()) ", " (c.status.as_str())
                    " — " a href=(format!("/console/collections?customer={}", c.id.as_str())) { "collections" } }
                table {
                    thead { tr { th scope="col" { "Destination account" } th scope="col" { "Name" } th scope="col" { "Status" } th scope="col" { "Pending" } th scope="col" { "Available" } } }
                    tbody {
                        @for (a, b) in accounts {
                            tr { td { (a.id.as_str()) } td { (a.name) } td { (a.status.as_str()) } td.num { (money(b.pending)) } td.num { (money(b.available)) } }
                        }
                        @if accounts.is_empty() { tr { td colspan="5" { "No destination accounts." } } }
                    }
                }
            }
        }
    })
    .into_response()
}
