//! Reports: the settlement report of a day and every customer's return
//! rates, each from the API's own report handler.

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use maud::{html, Markup};
use serde_json::Value;

use crate::console::act;
use crate::console::csrf::Fields;
use crate::console::format::{money_str, percent};
use crate::console::layout::{error_page, page};
use crate::console::session::Operator;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

async fn load(
    state: &AppState,
    op: &Operator,
    date: &str,
) -> ApiResult<(Value, Vec<(String, Value)>)> {
    let q: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("date", date)
        .finish();
    let Json(settlement) = crate::api::reports::settlement::settlement(
        State(state.clone()),
        Extension(act::operator(op)),
        RawQuery(Some(q)),
    )
    .await?;
    let mut tx = state.store.read().await?;
    let customers = tx
        .list_customers(&inflow_store::ListQuery::first(
            inflow_store::ListQuery::MAX_LIMIT,
        ))
        .await?
        .data;
    tx.rollback().await?;
    let mut rates = Vec::new();
    for c in customers {
        let q = format!("customerId={}", c.id.as_str());
        let Json(r) = crate::api::reports::return_rates(
            State(state.clone()),
            Extension(act::operator(op)),
            RawQuery(Some(q)),
        )
        .await?;
        rates.push((
            c.name,
            serde_json::to_value(r).map_err(|_| ApiError::internal())?,
        ));
    }
    Ok((
        serde_json::to_value(settlement).map_err(|_| ApiError::internal())?,
        rates,
    ))
}

/// `GET /console/reports?date=YYYY-MM-DD` (default: today, US/Eastern).
pub async fn show(State(state): State<AppState>, op: Operator, RawQuery(q): RawQuery) -> Response {
    let f = Fields::parse(q.as_deref().unwrap_or("").as_bytes());
    let today = inflow_core::calendar::local_date(state.clock.now()).to_string();
    let date = f.filled("date").unwrap_or(&today).to_owned();
    match load(&state, &op, &date).await {
        Ok((s, rates)) => page(&op, "/console/reports", "Reports", state.config.sandbox, html! {
            form.filters method="get" action="/console/reports" {
                div { label for="date" { "Settlement day" } input id="date" type="date" name="date" value=(date); }
                div.actions { button type="submit" { "Show" } }
            }
            h2 { "Settlement report, " (date) }
            (lines(&s))
            h2 { "Return rates, last 60 days" }
            table {
                thead { tr { th scope="col" { "Customer" } th scope="col" { "Debits" } th scope="col" { "Unauthorized" } th scope="col" { "Administrative" } th scope="col" { "Overall" } } }
                tbody {
                    @for (name, r) in &rates {
                        tr {
                            td { (name) } td.num { (r["debitEntries"]) }
                            @for k in ["unauthorized", "administrative", "overall"] { td.num { (rate(&r[k])) } }
                        }
                    }
                }
            }
        }).into_response(),
        Err(e) => error_page(e),
    }
}

fn rate(r: &Value) -> Markup {
    let v = r["rate"].as_f64().unwrap_or(0.0);
    html! { (percent(v)) @if r["exceeded"] == true { " " strong.bad { "over" } } }
}

/// The report's per-account lines and totals as a table.
fn lines(s: &Value) -> Markup {
    let mut rows: Vec<&Value> = s["accounts"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    rows.push(&s["totals"]);
    let keys: Vec<String> = s["totals"]
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    html! {
        div { "Ties out: " (cell(&s["tiesOut"])) }
        div.grid2 {
            section { h3 { "ACH" } (cell(&s["ach"])) }
            section { h3 { "Card" } (cell(&s["card"])) }
        }
        div.scroll {
            table {
                thead { tr { @for k in &keys { th scope="col" { (k) } } } }
                tbody {
                    @for (i, r) in rows.iter().enumerate() {
                        tr { @for k in &keys {
                            td { @if i + 1 == rows.len() && k == "accountId" { strong { "Total" } } @else { (cell(&r[k.as_str()])) } }
                        } }
                    }
                }
            }
        }
    }
}

fn cell(v: &Value) -> Markup {
    match v {
        Value::Object(o) if o.contains_key("count") && o.contains_key("amount") => {
            html! { (o["count"]) " · " (money_str(o["amount"].as_str().unwrap_or(""))) }
        }
        Value::Object(o) => html! {
            ul.plain { @for (k, v) in o { li { (k) ": " (cell(v)) } } }
        },
        Value::String(s)
            if !s.is_empty()
                && s.trim_start_matches('-')
                    .bytes()
                    .all(|b| b.is_ascii_digit()) =>
        {
            html! { (money_str(s)) }
        }
        Value::String(s) => html! { (s) },
        Value::Array(a) if a.is_empty() => html! { "none" },
        Value::Array(a) => html! { ol { @for v in a { li { (cell(v)) } } } },
        Value::Bool(b) => html! { @if *b { "yes" } @else { strong.bad { "no" } } },
        Value::Null => html! {},
        other => html! { (other.to_string()) },
    }
}
