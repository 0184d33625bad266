//! A destination account: its balances and its ledger entries, newest
//! first and paged, as `GET /v1/accounts/{id}/entries` lists them.

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use inflow_core::ids::{AccountId, CustomerId};
use maud::html;

use crate::console::act;
use crate::console::csrf::Fields;
use crate::console::format::{money, money_str, time_str};
use crate::console::layout::{error_page, page};
use crate::console::session::Operator;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// `GET /console/customers/{customer}/accounts/{id}`.
pub async fn show(
    State(state): State<AppState>,
    op: Operator,
    Path((customer, id)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Response {
    let f = Fields::parse(q.as_deref().unwrap_or("").as_bytes());
    match render(&state, &op, &customer, &id, f.filled("after")).await {
        Ok(r) => r,
        Err(e) => error_page(e),
    }
}

async fn render(
    state: &AppState,
    op: &Operator,
    customer: &str,
    id: &str,
    after: Option<&str>,
) -> ApiResult<Response> {
    let cid =
        CustomerId::parse("customer", customer).map_err(|_| ApiError::not_found("customer"))?;
    let aid = AccountId::parse("id", id).map_err(|_| ApiError::not_found("account"))?;
    let (account, balances) = {
        let mut tx = state.store.read().await?;
        let a = tx
            .get_account(&cid, &aid)
            .await
            .map_err(ApiError::not_found_if_missing("account"))?;
        let b = tx.ledger_balances(&aid).await?;
        tx.rollback().await?;
        (a, b)
    };
    let query = {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("limit", "50");
        if let Some(a) = after {
            q.append_pair("startingAfter", a);
        }
        q.finish()
    };
    let auth = act::acting_for(state, op, customer).await?;
    let Json(entries) = crate::api::ledger::list_entries(
        State(state.clone()),
        Extension(auth),
        Path(id.to_owned()),
        RawQuery(Some(query)),
    )
    .await?;
    let tz = super::tz(state);
    let title = format!("Account {}", account.name);
    Ok(page(op, "/console/customers", &title, state.config.sandbox, html! {
        dl.facts {
            dt { "Account" } dd { (id) }
            dt { "Customer" } dd { (customer) }
            dt { "Pending" } dd { (money(balances.pending)) }
            dt { "Available" } dd { (money(balances.available)) }
        }
        h2 { "Ledger entries" }
        table {
            thead { tr { th scope="col" { "Entry" } th scope="col" { "Type" } th scope="col" { "Balance" } th scope="col" { "Direction" } th scope="col" { "Amount" } th scope="col" { "Collection" } th scope="col" { "Posted on" } th scope="col" { "At" } } }
            tbody {
                @for e in &entries.data {
                    tr {
                        td { (e.id) } td { (e.transaction_type) } td { (e.balance) } td { (e.direction) } td.num { (money_str(&e.amount)) }
                        td { @if let Some(c) = &e.collection_id { a href=(format!("/console/collections/{c}")) { (c) } } }
                        td { (e.posted_on) } td { (time_str(&e.created_at, tz)) }
                    }
                }
                @if entries.data.is_empty() { tr { td colspan="8" { "No entries yet." } } }
            }
        }
        @if let Some(next) = &entries.next_cursor {
            p { a rel="next" href=(format!("/console/customers/{customer}/accounts/{id}?after={next}")) { "Older entries" } }
        }
    })
    .into_response())
}
