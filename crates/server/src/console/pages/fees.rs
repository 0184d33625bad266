//! A fee schedule — a customer's own or the operator's `default` — shown as
//! a form with its current amounts, saved through the API's
//! `PUT /v1/fee-schedules/{id}` handler (which validates it and audits it).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Json};
use maud::html;
use serde_json::{Map, Value};

use crate::console::act;
use crate::console::csrf;
use crate::console::layout::{error_page, page};
use crate::console::session::Operator;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The schedule's amounts: the view's fields but its `object`, `id` and `source`.
pub fn amounts(v: &Value) -> impl Iterator<Item = (&String, &Value)> {
    v.as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| !matches!(k.as_str(), "object" | "id" | "source"))
}

/// Amounts in basis points are typed as such; every other field is dollars.
fn is_bps(field: &str) -> bool {
    field.ends_with("Bps")
}

async fn current(state: &AppState, op: &Operator, id: &str) -> ApiResult<Value> {
    let Json(v) = crate::api::ledger::get_fee_schedule(
        State(state.clone()),
        Extension(act::operator(op)),
        Path(id.to_owned()),
    )
    .await?;
    serde_json::to_value(v).map_err(|_| ApiError::internal())
}

/// `GET /console/fees/{id}` (`default` or a customer id).
pub async fn edit(State(state): State<AppState>, op: Operator, Path(id): Path<String>) -> Response {
    let v = match current(&state, &op, &id).await {
        Ok(v) => v,
        Err(e) => return error_page(e),
    };
    page(&op, "/console/customers", &format!("Fee schedule: {id}"), state.config.sandbox, html! {
        p { "Now: the " (v["source"].as_str().unwrap_or("")) " schedule applies. Saving gives "
            @if id == "default" { "the operator's default." } @else { "this customer a schedule of its own." } }
        form.card method="post" action=(format!("/console/fees/{id}")) {
            (csrf::field(&op))
            @for (k, val) in amounts(&v) {
                @let n = val.as_i64().unwrap_or(0);
                label for=(k) { (k) @if is_bps(k) { " (basis points)" } @else { " ($)" } }
                input id=(k) name=(k) inputmode="decimal"
                    value=(if is_bps(k) { n.to_string() } else { crate::console::format::dollars_input(n) });
            }
            div.actions { button type="submit" { "Save the schedule" } a href="/console/customers" { "Cancel" } }
        }
    })
    .into_response()
}

/// `POST /console/fees/{id}`.
pub async fn save(
    State(state): State<AppState>,
    op: Operator,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let f = match csrf::verify(&op, &body) {
        Ok(f) => f,
        Err(refused) => return refused.into_response(),
    };
    match store(&state, &op, &id, &f).await {
        Ok(()) => Redirect::to("/console/customers").into_response(),
        Err(e) => error_page(e),
    }
}

async fn store(state: &AppState, op: &Operator, id: &str, f: &csrf::Fields) -> ApiResult<()> {
    let now = current(state, op, id).await?;
    let mut body = Map::new();
    for (k, _) in amounts(&now) {
        let n = if is_bps(k) {
            let raw = f.filled(k).unwrap_or("0");
            raw.parse::<i64>().map_err(|_| {
                ApiError::invalid(
                    "invalid_amount",
                    "basis points are whole numbers",
                    k.as_str(),
                )
            })?
        } else {
            crate::console::format::amount_bound(f, k)?.unwrap_or(0)
        };
        body.insert(k.clone(), n.into());
    }
    let auth = act::operator(op);
    let audit = act::audit(op, &auth);
    crate::api::ledger::put_fee_schedule(
        State(state.clone()),
        Extension(auth),
        Path(id.to_owned()),
        audit,
        act::write(Value::Object(body)),
    )
    .await?;
    Ok(())
}
