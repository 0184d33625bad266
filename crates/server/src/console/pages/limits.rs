//! A customer's ACH debit limits (largest debit, daily and monthly totals)
//! as a form, saved through the API's `PATCH /v1/customers/{id}` handler
//! (`achLimits`); an empty field means no limit.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Json};
use maud::html;
use serde_json::{json, Map, Value};

use crate::console::act;
use crate::console::csrf;
use crate::console::layout::{error_page, page};
use crate::console::session::Operator;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

const LIMITS: &[(&str, &str)] = &[
    ("perEntryMax", "Largest single debit ($)"),
    ("dailyDebitMax", "Debits per US/Eastern day ($)"),
    ("monthlyDebitMax", "Debits per calendar month ($)"),
];

async fn customer(state: &AppState, op: &Operator, id: &str) -> ApiResult<Value> {
    let Json(c) = crate::api::customers::get(
        State(state.clone()),
        Extension(act::operator(op)),
        Path(id.to_owned()),
    )
    .await?;
    serde_json::to_value(c).map_err(|_| ApiError::internal())
}

/// `GET /console/customers/{id}/limits`.
pub async fn edit(State(state): State<AppState>, op: Operator, Path(id): Path<String>) -> Response {
    let c = match customer(&state, &op, &id).await {
        Ok(c) => c,
        Err(e) => return error_page(e),
    };
    let title = format!("ACH debit limits: {}", c["name"].as_str().unwrap_or(""));
    page(&op, "/console/customers", &title, state.config.sandbox, html! {
        p { "Leave a field empty for no limit of the customer's own (the operator's defaults then apply, if any)." }
        form.card method="post" action=(format!("/console/customers/{id}/limits")) {
            (csrf::field(&op))
            @for (k, label) in LIMITS {
                @let now = c["achLimits"][*k]["value"].as_str().and_then(|v| v.parse::<i64>().ok());
                label for=(k) { (label) }
                input id=(k) name=(k) inputmode="decimal" value=(now.map(crate::console::format::dollars_input).unwrap_or_default());
            }
            div.actions { button type="submit" { "Save the limits" } a href="/console/customers" { "Cancel" } }
        }
    })
    .into_response()
}

/// `POST /console/customers/{id}/limits`.
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
    let mut limits = Map::new();
    for (k, _) in LIMITS {
        let v = match crate::console::format::amount_bound(f, k)? {
            Some(cents) => json!({"currency": "USD", "value": cents.to_string()}),
            None => Value::Null,
        };
        limits.insert((*k).to_owned(), v);
    }
    let auth = act::operator(op);
    let audit = act::audit(op, &auth);
    let body = act::write(json!({ "achLimits": limits }));
    crate::api::customers::update(
        State(state.clone()),
        Extension(auth),
        Path(id.to_owned()),
        audit,
        body,
    )
    .await?;
    Ok(())
}
