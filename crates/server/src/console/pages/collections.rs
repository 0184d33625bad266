//! Collections: search and filter like `GET /v1/collections` (the page
//! runs that inquiry, across every customer when none is chosen), a direct
//! jump by id or trace number, and the detail page with its timeline and
//! actions ([`super::collection_detail`]).

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use inflow_core::ids::CustomerId;
use inflow_store::ListQuery;
use maud::{html, Markup};
use serde_json::Value;

use crate::console::csrf::Fields;
use crate::console::format::{self, money_str, time_str};
use crate::console::layout::{error_page, page};
use crate::console::session::Operator;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub use super::collection_detail::{confirm, detail, perform};

/// The inquiry filters the form passes through to the API, as
/// (form field, API parameter, label).
const FILTERS: &[(&str, &str, &str)] = &[
    ("externalId", "externalId", "External id"),
    ("status", "status", "Status"),
    ("rail", "rail", "Rail"),
    ("last4", "last4", "Card last 4"),
    ("reference", "reference", "Reference"),
];

/// One search: the filters as typed and the page's results.
struct Search {
    fields: Fields,
    customers: Vec<(String, String)>,
    rows: Vec<Value>,
    next: Option<String>,
    note: Option<String>,
}

/// `GET /console/collections`.
pub async fn search(
    State(state): State<AppState>,
    op: Operator,
    RawQuery(q): RawQuery,
) -> Response {
    let fields = Fields::parse(q.as_deref().unwrap_or("").as_bytes());
    if let Some(id) = fields.filled("id") {
        return Redirect::to(&format!("/console/collections/{}", urlencode(id))).into_response();
    }
    if let (Some(trace), None) = (fields.filled("trace"), fields.filled("customer")) {
        let trace = trace.to_owned();
        return match by_trace(&state, &trace).await {
            Ok(Some(id)) => Redirect::to(&format!("/console/collections/{id}")).into_response(),
            Ok(None) => render(
                &state,
                &op,
                empty(
                    fields,
                    format!("No ACH collection has trace number {trace}."),
                ),
            ),
            Err(e) => error_page(e),
        };
    }
    match run(&state, fields).await {
        Ok(s) => render(&state, &op, s),
        Err(e) => error_page(e),
    }
}

fn empty(fields: Fields, note: String) -> Search {
    Search {
        fields,
        customers: Vec::new(),
        rows: Vec::new(),
        next: None,
        note: Some(note),
    }
}

fn render(state: &AppState, op: &Operator, s: Search) -> Response {
    page(
        op,
        "/console/collections",
        "Collections",
        state.config.sandbox,
        body(state, &s),
    )
    .into_response()
}

async fn by_trace(state: &AppState, trace: &str) -> ApiResult<Option<String>> {
    let mut tx = state.store.read().await?;
    let id = tx.collection_id_by_trace(trace).await?;
    tx.rollback().await?;
    Ok(id.map(|i| i.to_string()))
}

async fn customers(state: &AppState) -> ApiResult<Vec<(String, String)>> {
    let mut tx = state.store.read().await?;
    let list = tx
        .list_customers(&ListQuery::first(ListQuery::MAX_LIMIT))
        .await?;
    tx.rollback().await?;
    Ok(list
        .data
        .into_iter()
        .map(|c| (c.id.to_string(), c.name))
        .collect())
}

/// The API query for the form's filters (dates as whole days in the operator's zone).
fn api_query(state: &AppState, f: &Fields) -> ApiResult<String> {
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("limit", f.filled("limit").unwrap_or("25"));
    for (field, param, _) in FILTERS {
        if let Some(v) = f.filled(field) {
            q.append_pair(param, v);
        }
    }
    if let Some(t) = f.filled("trace") {
        q.append_pair("traceNumber", t);
    }
    if let Some(after) = f.filled("after") {
        q.append_pair("startingAfter", after);
    }
    for (field, param, end) in [("from", "createdFrom", false), ("to", "createdTo", true)] {
        if let Some(d) = f.filled(field) {
            q.append_pair(param, &day_bound(state, field, d, end)?);
        }
    }
    Ok(q.finish())
}

fn day_bound(state: &AppState, field: &str, d: &str, end: bool) -> ApiResult<String> {
    let date = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
        .map_err(|_| ApiError::invalid("invalid_date", "dates are YYYY-MM-DD", field))?;
    let time = if end {
        chrono::NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(chrono::NaiveTime::MIN)
    } else {
        chrono::NaiveTime::MIN
    };
    let local = date
        .and_time(time)
        .and_local_timezone(super::tz(state))
        .earliest()
        .ok_or_else(|| {
            ApiError::invalid(
                "invalid_date",
                "that time does not exist in the console's time zone",
                field,
            )
        })?;
    Ok(crate::api::common::time(local.with_timezone(&chrono::Utc)))
}

/// The form's amount range (dollars) as the inquiry's `amountFrom` /
/// `amountTo` (cents); a 400 naming the form field if negative or inverted.
fn amount_range(f: &Fields) -> ApiResult<[(&'static str, Option<i64>); 2]> {
    let (min, max) = (
        format::amount_bound(f, "min")?,
        format::amount_bound(f, "max")?,
    );
    for (field, v) in [("min", min), ("max", max)] {
        if v.is_some_and(|v| v < 0) {
            return Err(ApiError::invalid(
                "invalid_amount",
                "amounts are 0 or more",
                field,
            ));
        }
    }
    if let (Some(lo), Some(hi)) = (min, max) {
        if lo > hi {
            return Err(ApiError::invalid(
                "invalid_amount",
                "the largest amount is below the smallest",
                "max",
            ));
        }
    }
    Ok([("amountFrom", min), ("amountTo", max)])
}

/// One page of the search: the customer's collections, or without a
/// customer every customer's in one list, newest first — the inquiry of
/// `GET /v1/collections`, its filters (amounts included) in the store's query.
async fn run(state: &AppState, fields: Fields) -> ApiResult<Search> {
    let customers = customers(state).await?;
    let mut q = api_query(state, &fields)?;
    for (param, v) in amount_range(&fields)? {
        if let Some(v) = v {
            q.push_str(&format!("&{param}={v}"));
        }
    }
    let customer = fields
        .filled("customer")
        .map(|c| CustomerId::parse("customer", c))
        .transpose()?;
    let page =
        crate::api::collections::inquiry::inquire(state, customer.as_ref(), Some(&q)).await?;
    let next = if page.has_more {
        page.next_cursor.clone()
    } else {
        None
    };
    let page = serde_json::to_value(page).map_err(|_| ApiError::internal())?;
    let rows = page["data"].as_array().cloned().unwrap_or_default();
    Ok(Search {
        fields,
        customers,
        rows,
        next,
        note: None,
    })
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn body(state: &AppState, s: &Search) -> Markup {
    let tz = super::tz(state);
    let f = &s.fields;
    html! {
        form.filters method="get" action="/console/collections" role="search" {
            div { label for="f-id" { "Collection id" } input id="f-id" name="id" value=(f.get("id").unwrap_or("")); }
            div { label for="f-trace" { "Trace number" } input id="f-trace" name="trace" inputmode="numeric" value=(f.get("trace").unwrap_or("")); }
            div {
                label for="f-customer" { "Customer" }
                select id="f-customer" name="customer" {
                    option value="" { "All customers" }
                    @for (id, name) in &s.customers {
                        option value=(id) selected[f.get("customer") == Some(id.as_str())] { (name) }
                    }
                }
            }
            @for (field, _, label) in FILTERS {
                div { label for=(format!("f-{field}")) { (label) } input id=(format!("f-{field}")) name=(field) value=(f.get(field).unwrap_or("")); }
            }
            div { label for="f-from" { "Created from" } input id="f-from" type="date" name="from" value=(f.get("from").unwrap_or("")); }
            div { label for="f-to" { "Created to" } input id="f-to" type="date" name="to" value=(f.get("to").unwrap_or("")); }
            div { label for="f-min" { "Amount at least ($)" } input id="f-min" name="min" inputmode="decimal" value=(f.get("min").unwrap_or("")); }
            div { label for="f-max" { "Amount at most ($)" } input id="f-max" name="max" inputmode="decimal" value=(f.get("max").unwrap_or("")); }
            div { label for="f-limit" { "Per page" } input id="f-limit" name="limit" inputmode="numeric" placeholder="25" value=(f.get("limit").unwrap_or("")); }
            div.actions { button type="submit" { "Search" } a href="/console/collections" { "Clear" } }
        }
        @if let Some(n) = &s.note { p.note role="status" { (n) } }
        p.hint { "Times in " (tz.name()) ". Newest first; without a customer, every customer's collections in one list." }
        table {
            caption { (s.rows.len()) " collections" }
            thead { tr {
                th scope="col" { "Id" } th scope="col" { "Rail" } th scope="col" { "Type" } th scope="col" { "Amount" }
                th scope="col" { "Status" } th scope="col" { "Trace" } th scope="col" { "Account / card" } th scope="col" { "Created" }
            } }
            tbody {
                @for r in &s.rows {
                    tr {
                        td { a href=(format!("/console/collections/{}", r["id"].as_str().unwrap_or(""))) { (r["id"].as_str().unwrap_or("")) } }
                        td { (r["rail"].as_str().unwrap_or("")) }
                        td { (r["type"].as_str().unwrap_or("")) }
                        td.num { (money_str(r["amount"]["value"].as_str().unwrap_or(""))) }
                        td { span class=(format!("status {}", r["status"].as_str().unwrap_or(""))) { (r["status"].as_str().unwrap_or("")) } }
                        td { (r["traceNumber"].as_str().unwrap_or("—")) }
                        td { (last4(r)) }
                        td { (time_str(r["createdAt"].as_str().unwrap_or(""), tz)) }
                    }
                }
            }
        }
        @if let Some(after) = &s.next {
            p { a href=(next_link(f, after)) rel="next" { "Next page" } }
        }
    }
}

/// `••••1234` of the bank account or card.
pub fn last4(r: &Value) -> String {
    let l = r["source"]["last4"]
        .as_str()
        .or(r["card"]["last4"].as_str())
        .unwrap_or("");
    format!("••••{l}")
}

fn next_link(f: &Fields, after: &str) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for name in [
        "customer",
        "trace",
        "externalId",
        "status",
        "rail",
        "last4",
        "reference",
        "from",
        "to",
        "min",
        "max",
        "limit",
    ] {
        if let Some(v) = f.filled(name) {
            q.append_pair(name, v);
        }
    }
    q.append_pair("after", after);
    format!("/console/collections?{}", q.finish())
}
