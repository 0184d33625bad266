//! Webhook endpoints (every customer's and the operator's), their recent
//! deliveries, and redelivering an event — through the API's
//! `POST /v1/events/{id}/redeliver` handler, audited as a console action.

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use inflow_core::ids::CustomerId;
use inflow_core::webhook::WebhookEndpoint;
use inflow_store::repo::webhook_deliveries::{Delivery, DeliveryFilter};
use inflow_store::ListQuery;
use maud::{html, Markup};

use crate::console::act;
use crate::console::csrf;
use crate::console::format::time;
use crate::console::layout::{error_page, page};
use crate::console::session::Operator;
use crate::error::ApiResult;
use crate::state::AppState;

/// Every endpoint with its newest deliveries.
async fn load(
    state: &AppState,
    event: Option<&str>,
) -> ApiResult<Vec<(WebhookEndpoint, Vec<Delivery>)>> {
    let mut tx = state.store.read().await?;
    let all = ListQuery::first(ListQuery::MAX_LIMIT);
    let mut owners: Vec<Option<CustomerId>> = vec![None];
    owners.extend(
        tx.list_customers(&all)
            .await?
            .data
            .into_iter()
            .map(|c| Some(c.id)),
    );
    let filter = DeliveryFilter {
        status: None,
        event_id: event
            .map(|e| inflow_core::ids::EventId::parse("event", e))
            .transpose()?,
    };
    let mut out = Vec::new();
    for owner in &owners {
        for e in tx
            .list_webhook_endpoints(owner.as_ref(), None, &all)
            .await?
            .data
        {
            let d = tx
                .list_deliveries(&e.id, &filter, &ListQuery::first(20))
                .await?
                .data;
            out.push((e, d));
        }
    }
    tx.rollback().await?;
    Ok(out)
}

/// `GET /console/webhooks` (`?event=evt_…` narrows the deliveries to one event).
pub async fn list(State(state): State<AppState>, op: Operator, RawQuery(q): RawQuery) -> Response {
    let f = csrf::Fields::parse(q.as_deref().unwrap_or("").as_bytes());
    match load(&state, f.filled("event")).await {
        Ok(rows) => page(
            &op,
            "/console/webhooks",
            "Webhooks",
            state.config.sandbox,
            body(&state, &op, &rows, &f),
        )
        .into_response(),
        Err(e) => error_page(e),
    }
}

fn body(
    state: &AppState,
    op: &Operator,
    rows: &[(WebhookEndpoint, Vec<Delivery>)],
    f: &csrf::Fields,
) -> Markup {
    let tz = super::tz(state);
    html! {
        @if let Some(e) = f.filled("redelivered") { p.note role="status" { "Event " (e) " queued for redelivery." } }
        @if let Some(e) = f.filled("event") { p { "Deliveries of event " code { (e) } ". " a href="/console/webhooks" { "All deliveries" } } }
        @if rows.is_empty() { p { "No webhook endpoints." } }
        @for (e, deliveries) in rows {
            section.endpoint {
                h2 { (e.url.as_str()) }
                p { (e.id.as_str()) " — " (e.customer_id.as_ref().map_or("operator", |c| c.as_str())) ", " (e.status.as_str())
                    @if let Some(r) = &e.disabled_reason { " (" (r) ")" }
                    @if e.consecutive_failures > 0 { ", " strong { (e.consecutive_failures) " failures in a row" } } }
                table {
                    thead { tr { th scope="col" { "Event" } th scope="col" { "Type" } th scope="col" { "Status" } th scope="col" { "Attempts" } th scope="col" { "Last attempt" } th scope="col" { "Action" } } }
                    tbody {
                        @for d in deliveries {
                            tr class=[(d.status.as_str() != "succeeded").then_some("warn")] {
                                td { (d.event_id.as_str()) } td { (d.event_type) } td { (d.status.as_str()) } td.num { (d.attempts) }
                                td { @if let Some(t) = d.last_attempt_at { (time(t, tz)) } @if let Some(c) = d.last_status_code { " HTTP " (c) } @if let Some(err) = &d.last_error { " " (err) } }
                                td {
                                    @if e.status.as_str() == "enabled" {
                                        form method="post" action=(format!("/console/events/{}/redeliver", d.event_id.as_str())) {
                                            (csrf::field(op))
                                            input type="hidden" name="endpoint" value=(e.id.as_str());
                                            button type="submit" { "Redeliver" }
                                        }
                                    } @else { "endpoint disabled" }
                                }
                            }
                        }
                        @if deliveries.is_empty() { tr { td colspan="6" { "No deliveries." } } }
                    }
                }
            }
        }
    }
}

/// `POST /console/events/{id}/redeliver`.
pub async fn redeliver(
    State(state): State<AppState>,
    op: Operator,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let f = match csrf::verify(&op, &body) {
        Ok(f) => f,
        Err(refused) => return refused.into_response(),
    };
    let mut req = serde_json::Map::new();
    if let Some(e) = f.filled("endpoint") {
        req.insert("endpointId".into(), e.into());
    }
    let auth = act::operator(&op);
    let audit = act::audit(&op, &auth);
    let req = act::write(serde_json::Value::Object(req.clone()));
    match crate::api::events::redeliver(
        State(state.clone()),
        Extension(auth),
        Path(id.clone()),
        req,
    )
    .await
    {
        Ok(_) => {
            audit
                .record_after(
                    &state,
                    "event.redelivered",
                    ("event", id.clone()),
                    None,
                    serde_json::json!({ "endpointId": f.filled("endpoint") }),
                )
                .await;
            let q: String = form_urlencoded::Serializer::new(String::new())
                .append_pair("redelivered", &id)
                .finish();
            Redirect::to(&format!("/console/webhooks?{q}")).into_response()
        }
        Err(e) => error_page(e),
    }
}
