//! One collection: its facts, its timeline (status history, events, their
//! webhook deliveries, ledger entries, the NACHA file and trace, returns
//! and NOCs) and the operator's actions — cancel, void, refund — each
//! behind a confirmation page and each run by the API's own handler.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use inflow_core::ids::{AccountId, CollectionId};
use inflow_store::StoreError;
use maud::{html, Markup};
use serde_json::Value;

use crate::console::act;
use crate::console::csrf;
use crate::console::format::{money, money_str, time, time_str};
use crate::console::layout::{error_page, page};
use crate::console::session::Operator;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// What the detail page shows.
struct Detail {
    view: Value,
    events: Vec<inflow_store::repo::events::Event>,
    deliveries: Vec<inflow_store::repo::webhook_deliveries::Delivery>,
    ledger: Vec<inflow_store::repo::ledger::EntryRow>,
    returns: Vec<inflow_store::repo::returns::AchReturn>,
}

fn parse(id: &str) -> ApiResult<CollectionId> {
    CollectionId::parse("id", id).map_err(|_| ApiError::not_found("collection"))
}

/// The collection as `GET /v1/collections/{id}` shows it, of any customer.
async fn view_of(tx: &mut inflow_store::Tx, id: &CollectionId) -> ApiResult<Value> {
    let v = match tx.get_ach_collection(None, id).await {
        Ok(c) => serde_json::to_value(inflow_engine::view::collection_view(&c)),
        Err(StoreError::NotFound) => match tx.get_card_collection(None, id).await {
            Ok(c) => serde_json::to_value(inflow_engine::view::card_collection_view(&c)),
            Err(StoreError::NotFound) => return Err(ApiError::not_found("collection")),
            Err(e) => return Err(e.into()),
        },
        Err(e) => return Err(e.into()),
    };
    v.map_err(|_| ApiError::internal())
}

async fn load(state: &AppState, id: &str) -> ApiResult<Detail> {
    let id = parse(id)?;
    let mut tx = state.store.read().await?;
    let view = view_of(&mut tx, &id).await?;
    let events = tx.events_for_object(id.as_str()).await?;
    let mut deliveries = Vec::new();
    for e in &events {
        deliveries.extend(tx.deliveries_for_event(&e.id).await?);
    }
    let account = AccountId::parse(
        "account",
        view["destinationAccountId"].as_str().unwrap_or(""),
    )?;
    let entries = tx
        .list_ledger_entries(
            &account,
            0,
            &inflow_store::ListQuery::first(inflow_store::ListQuery::MAX_LIMIT),
        )
        .await?;
    let ledger = entries
        .data
        .into_iter()
        .filter(|e| e.collection_id.as_deref() == Some(id.as_str()))
        .collect();
    let returns = tx.ach_returns_of_collection(&id).await?;
    tx.rollback().await?;
    Ok(Detail {
        view,
        events,
        deliveries,
        ledger,
        returns,
    })
}

/// `GET /console/collections/{id}`.
pub async fn detail(
    State(state): State<AppState>,
    op: Operator,
    Path(id): Path<String>,
) -> Response {
    match load(&state, &id).await {
        Ok(d) => {
            let title = format!("Collection {id}");
            page(
                &op,
                "/console/collections",
                &title,
                state.config.sandbox,
                body(&state, &d),
            )
            .into_response()
        }
        Err(e) => error_page(e),
    }
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or("")
}

fn body(state: &AppState, d: &Detail) -> Markup {
    let tz = super::tz(state);
    let v = &d.view;
    let id = s(v, "id");
    html! {
        dl.facts {
            dt { "Customer" } dd { (s(v, "customerId")) }
            dt { "Rail / type" } dd { (s(v, "rail")) " " (s(v, "type")) }
            dt { "Amount" } dd { (money_str(s(&v["amount"], "value"))) }
            dt { "Status" } dd { span class=(format!("status {}", s(v, "status"))) { (s(v, "status")) } @if let Some(r) = v["statusReason"].as_str() { " — " (r) } }
            dt { "Account / card" } dd { (super::collections::last4(v)) @if let Some(r) = v["source"]["routingNumber"].as_str() { " at routing " (r) } }
            @if let Some(t) = v["traceNumber"].as_str() { dt { "Trace number" } dd { (t) } }
            @if let Some(f) = v["fileId"].as_str() { dt { "NACHA file" } dd { a href=(format!("/console/files/{f}")) { (f) } } }
            @if let Some(c) = v["achReturnCode"].as_str() { dt { "Return" } dd { (c) " " (v["achReturnDescription"].as_str().unwrap_or("")) } }
            @if let Some(e) = v["effectiveDate"].as_str() { dt { "Effective date" } dd { (e) } }
            @if let Some(x) = v["externalId"].as_str() { dt { "External id" } dd { (x) } }
        }
        (actions(v, id))
        h2 { "Status history" }
        ol.timeline {
            @for h in v["statusHistory"].as_array().into_iter().flatten() {
                li { time { (time_str(s(h, "at"), tz)) } " " strong { (s(h, "status")) } @if let Some(r) = h["reason"].as_str() { " — " (r) } }
            }
        }
        h2 { "Events and webhook deliveries" }
        table {
            thead { tr { th scope="col" { "Event" } th scope="col" { "Type" } th scope="col" { "At" } th scope="col" { "Deliveries" } th scope="col" { "Action" } } }
            tbody {
                @for e in &d.events {
                    tr {
                        td { (e.id.as_str()) } td { (e.event_type) } td { (time(e.created_at, tz)) }
                        td {
                            @for dl in d.deliveries.iter().filter(|x| x.event_id == e.id) {
                                span.delivery { (dl.endpoint_id.as_str()) ": " (dl.status.as_str()) " (" (dl.attempts) " attempts"
                                    @if let Some(c) = dl.last_status_code { ", last HTTP " (c) } ")" } br;
                            }
                        }
                        td { a href=(format!("/console/webhooks?event={}", e.id.as_str())) { "Redeliver…" } }
                    }
                }
            }
        }
        h2 { "Ledger entries" }
        table {
            thead { tr { th scope="col" { "Entry" } th scope="col" { "Kind" } th scope="col" { "Ledger account" } th scope="col" { "Direction" } th scope="col" { "Amount" } th scope="col" { "Posted on" } } }
            tbody {
                @for e in &d.ledger {
                    tr { td { (e.id) } td { (e.transaction_kind) } td { (e.ledger_account_kind) } td { (e.direction) } td.num { (money(e.amount)) } td { (e.posted_on) } }
                }
                @if d.ledger.is_empty() { tr { td colspan="6" { "No ledger entries yet." } } }
            }
        }
        h2 { "Returns and NOCs" }
        @if d.returns.is_empty() { p { "None received." } }
        ul {
            @for r in &d.returns {
                li { (r.kind) " " strong { (r.code) } " — " (money(r.amount)) ", inbound file " a href=(format!("/console/files/{}", r.inbound_file_id)) { (r.inbound_file_id) } ", trace " (r.entry_trace) }
            }
        }
    }
}

/// The actions this collection allows, as links to their confirmation.
fn actions(v: &Value, id: &str) -> Markup {
    let allowed: Vec<&Action> = ACTIONS.iter().filter(|a| (a.allowed)(v)).collect();
    html! {
        @if !allowed.is_empty() {
            p.actions {
                @for a in allowed { a.button href=(format!("/console/collections/{id}/{}", a.name)) { (a.label) "…" } " " }
            }
        }
    }
}

/// An operator action on a collection.
struct Action {
    name: &'static str,
    label: &'static str,
    /// Whether the collection (as the API shows it) allows it now.
    allowed: fn(&Value) -> bool,
    explain: &'static str,
}

const ACTIONS: &[Action] = &[
    Action {
        name: "validate-payment-method",
        label: "Mark the payment method validated",
        allowed: |v| v["rail"] == "ach" && v["paymentMethodId"].is_string(),
        explain: "The saved bank account this collection debits is marked validated (as PATCH /v1/payment-methods/{id} with validated: true does), e.g. after a check done elsewhere.",
    },
    Action { name: "cancel", label: "Cancel", allowed: |v| v["cancellable"] == true, explain: "The collection will not go into a file; its customer gets collection.cancelled." },
    Action { name: "void", label: "Void", allowed: |v| v["voidable"] == true, explain: "The card authorization or capture is voided before settlement." },
    Action { name: "refund", label: "Refund", allowed: |v| v["refundable"] == true || (v["rail"] == "ach" && v["status"] == "completed"), explain: "Money goes back to the payer (leave the amount empty to refund everything not yet refunded)." },
];

fn action(name: &str) -> ApiResult<&'static Action> {
    ACTIONS
        .iter()
        .find(|a| a.name == name)
        .ok_or_else(|| ApiError::not_found("action"))
}

/// `GET /console/collections/{id}/{action}`: the confirmation.
pub async fn confirm(
    State(state): State<AppState>,
    op: Operator,
    Path((id, name)): Path<(String, String)>,
) -> Response {
    let a = match action(&name) {
        Ok(a) => a,
        Err(e) => return error_page(e),
    };
    let detail = match load(&state, &id).await {
        Ok(d) => d,
        Err(e) => return error_page(e),
    };
    let v = &detail.view;
    let title = format!("{} {id}?", a.label);
    page(&op, "/console/collections", &title, state.config.sandbox, html! {
        p { (a.explain) }
        p { (money_str(s(&v["amount"], "value"))) ", " (s(v, "status")) ", " (super::collections::last4(v)) }
        form.card method="post" action=(format!("/console/collections/{id}/{name}")) {
            (csrf::field(&op))
            @if a.name != "validate-payment-method" {
                label for="reason" { "Reason (kept in the status history)" }
                input id="reason" name="reason" maxlength="200";
            }
            @if a.name == "refund" {
                label for="amount" { "Amount in dollars (optional)" }
                input id="amount" name="amount" inputmode="decimal";
            }
            div.actions {
                button.danger type="submit" { "Yes, " (a.label.to_lowercase()) }
                a href=(format!("/console/collections/{id}")) { "No, go back" }
            }
        }
    }).into_response()
}

/// `POST /console/collections/{id}/{action}`: run it through the API handler.
pub async fn perform(
    State(state): State<AppState>,
    op: Operator,
    Path((id, name)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let fields = match csrf::verify(&op, &body) {
        Ok(f) => f,
        Err(refused) => return refused.into_response(),
    };
    match run(&state, &op, &id, &name, &fields).await {
        Ok(()) => Redirect::to(&format!("/console/collections/{id}")).into_response(),
        Err(e) => error_page(e),
    }
}

async fn run(
    state: &AppState,
    op: &Operator,
    id: &str,
    name: &str,
    f: &csrf::Fields,
) -> ApiResult<()> {
    action(name)?;
    let v = {
        let mut tx = state.store.read().await?;
        let v = view_of(&mut tx, &parse(id)?).await?;
        tx.rollback().await?;
        v
    };
    let auth = act::acting_for(state, op, s(&v, "customerId")).await?;
    let audit = act::audit(op, &auth);
    let mut req = serde_json::Map::new();
    if let Some(r) = f.filled("reason") {
        req.insert("reason".into(), r.into());
    }
    if let Some(cents) = crate::console::format::amount_bound(f, "amount")? {
        req.insert(
            "amount".into(),
            serde_json::json!({"currency": "USD", "value": cents.to_string()}),
        );
    }
    let req = act::write(Value::Object(req));
    let (st, path) = (State(state.clone()), Path(id.to_owned()));
    match name {
        "validate-payment-method" => {
            let pm = Path(s(&v, "paymentMethodId").to_owned());
            let body = act::write(serde_json::json!({ "validated": true }));
            crate::api::payment_methods::update(st, Extension(auth), pm, audit, body).await?
        }
        "cancel" => crate::api::collections::cancel(st, Extension(auth), path, audit, req).await?,
        "void" => crate::api::cards::void(st, Extension(auth), path, audit, req).await?,
        _ => crate::api::cards::refund(st, Extension(auth), path, audit, req).await?,
    };
    Ok(())
}
