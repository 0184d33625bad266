//! The sandbox clock: where Inflow's time stands and a form to move it
//! forward, running every cutoff, settlement and sandbox-bank answer that
//! falls due (the API's `POST /v1/sandbox/clock/advance` handler). Outside
//! sandbox mode the page does not exist.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use maud::{html, Markup};

use crate::console::act;
use crate::console::csrf;
use crate::console::format::{eastern, time};
use crate::console::layout::{error_page, page};
use crate::console::session::Operator;
use crate::error::ApiError;
use crate::state::AppState;

fn sandbox_only(state: &AppState) -> Result<(), ApiError> {
    if state.sandbox_clock.is_none() {
        return Err(ApiError::not_found(
            "page (the sandbox clock exists only in sandbox mode)",
        ));
    }
    Ok(())
}

/// `GET /console/clock`.
pub async fn show(State(state): State<AppState>, op: Operator) -> Response {
    if let Err(e) = sandbox_only(&state) {
        return error_page(e);
    }
    page(
        &op,
        "/console/clock",
        "Sandbox clock",
        true,
        form(&state, &op, None),
    )
    .into_response()
}

fn form(state: &AppState, op: &Operator, report: Option<Markup>) -> Markup {
    let now = state.clock.now();
    html! {
        @if let Some(r) = report { (r) }
        p { "Inflow's time: " strong { (time(now, super::tz(state))) } " — " (eastern(now)) }
        form.card method="post" action="/console/clock" {
            (csrf::field(op))
            fieldset {
                legend { "Advance by (at most 90 days)" }
                label for="days" { "Days" } input id="days" name="days" type="number" min="0" max="90" value="0";
                label for="hours" { "Hours" } input id="hours" name="hours" type="number" min="0" value="0";
                label for="minutes" { "Minutes" } input id="minutes" name="minutes" type="number" min="0" value="0";
            }
            button type="submit" { "Advance the clock" }
        }
    }
}

/// `POST /console/clock`.
pub async fn advance(
    State(state): State<AppState>,
    op: Operator,
    body: axum::body::Bytes,
) -> Response {
    if let Err(e) = sandbox_only(&state) {
        return error_page(e);
    }
    let f = match csrf::verify(&op, &body) {
        Ok(f) => f,
        Err(refused) => return refused.into_response(),
    };
    let mut req = serde_json::Map::new();
    for name in ["days", "hours", "minutes"] {
        let v = f.filled(name).unwrap_or("0");
        match v.parse::<u32>() {
            Ok(n) => req.insert(name.into(), n.into()),
            Err(_) => {
                return error_page(ApiError::invalid(
                    "invalid_duration",
                    format!("{name} must be a whole number"),
                    name,
                ))
            }
        };
    }
    let auth = act::operator(&op);
    let audit = act::audit(&op, &auth);
    let body = serde_json::Value::Object(req)
        .to_string()
        .into_bytes()
        .into();
    match crate::api::sandbox::advance_clock(State(state.clone()), Extension(auth), audit, body)
        .await
    {
        Ok(Json(r)) => {
            let jobs = serde_json::to_value(&r.jobs).unwrap_or_default();
            let report = html! {
                div.note role="status" {
                    p { "The clock moved. What ran meanwhile:" }
                    ul {
                        @for (k, v) in jobs.as_object().into_iter().flatten() {
                            @if v.as_u64().unwrap_or(0) > 0 { li { (k) ": " (v) } }
                        }
                    }
                }
            };
            page(
                &op,
                "/console/clock",
                "Sandbox clock",
                true,
                form(&state, &op, Some(report)),
            )
            .into_response()
        }
        Err(e) => error_page(e),
    }
}
