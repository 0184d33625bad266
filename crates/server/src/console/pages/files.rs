//! ACH files: the list with totals and delivery state; a file's page,
//! rendered like `inflow ach inspect` (batches and entries, account numbers
//! masked) with the validator's findings; download; and running a cutoff
//! now, after a confirmation, through the API's own handler.

use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use maud::{html, Markup};
use serde_json::Value;

use crate::console::act;
use crate::console::csrf;
use crate::console::format::{money, time_str};
use crate::console::layout::{error_page, page};
use crate::console::session::Operator;
use crate::error::ApiResult;
use crate::state::AppState;

/// `GET /console/files`.
pub async fn list(State(state): State<AppState>, op: Operator, RawQuery(q): RawQuery) -> Response {
    let fields = csrf::Fields::parse(q.as_deref().unwrap_or("").as_bytes());
    let mut api_q = String::from("limit=50");
    if let Some(after) = fields.filled("after") {
        api_q.push_str("&startingAfter=");
        api_q.extend(form_urlencoded::byte_serialize(after.as_bytes()));
    }
    let listed = crate::api::ach::list_files(
        State(state.clone()),
        Extension(act::operator(&op)),
        RawQuery(Some(api_q)),
    )
    .await;
    let Json(files) = match listed {
        Ok(f) => f,
        Err(e) => return error_page(e),
    };
    let tz = super::tz(&state);
    page(&op, "/console/files", "ACH files", state.config.sandbox, html! {
        p.actions { a.button href="/console/cutoff" { "Run a cutoff now…" } }
        (super::inbound::form(&op))
        table {
            thead { tr {
                th scope="col" { "File" } th scope="col" { "Direction" } th scope="col" { "Name" } th scope="col" { "Created" }
                th scope="col" { "Batches" } th scope="col" { "Entries" } th scope="col" { "Debits" } th scope="col" { "Credits" } th scope="col" { "Delivery" }
            } }
            tbody {
                @for f in &files.data {
                    tr {
                        td { a href=(format!("/console/files/{}", f.id)) { (f.id) } }
                        td { (f.direction) } td { (f.file_name) } td { (time_str(&f.created_at, tz)) }
                        td.num { (f.batch_count) } td.num { (f.entry_count) }
                        td.num { (money(f.total_debit)) } td.num { (money(f.total_credit)) }
                        td { (f.delivery.as_ref().map(|d| d.status.as_str()).unwrap_or(f.status.as_str())) }
                    }
                }
                @if files.data.is_empty() { tr { td colspan="9" { "No files yet." } } }
            }
        }
        @if let Some(next) = &files.next_cursor { p { a rel="next" href=(format!("/console/files?after={next}")) { "Older files" } } }
    })
    .into_response()
}

/// `GET /console/files/{id}`.
pub async fn detail(
    State(state): State<AppState>,
    op: Operator,
    Path(id): Path<String>,
) -> Response {
    match file_page(&state, &op, &id).await {
        Ok(body) => page(
            &op,
            "/console/files",
            &format!("ACH file {id}"),
            state.config.sandbox,
            body,
        )
        .into_response(),
        Err(e) => error_page(e),
    }
}

async fn file_page(state: &AppState, op: &Operator, id: &str) -> ApiResult<Markup> {
    let Json(f) = crate::api::ach::get_file(
        State(state.clone()),
        Extension(act::operator(op)),
        Path(id.to_owned()),
    )
    .await?;
    let mut tx = state.store.read().await?;
    let returns = tx.ach_returns_of_file(id).await?;
    tx.rollback().await?;
    let tz = super::tz(state);
    let contents = if f.direction == "outbound" {
        let bytes = inflow_engine::files::file_bytes(&state.store, &state.vault, &f.id)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, file = %f.id, "cannot rebuild an ACH file");
                crate::error::ApiError::internal()
            })?;
        Some(inspect(&bytes))
    } else {
        None
    };
    Ok(html! {
        dl.facts {
            dt { "Name" } dd { (f.file_name) }
            dt { "Direction" } dd { (f.direction) }
            dt { "Created" } dd { (time_str(&f.created_at, tz)) }
            @if let Some(c) = &f.cutoff_at { dt { "Cutoff" } dd { (time_str(c, inflow_core::calendar::EASTERN)) " (US/Eastern)" } }
            dt { "Totals" } dd { (f.batch_count) " batches, " (f.entry_count) " entries, debits " (money(f.total_debit)) ", credits " (money(f.total_credit)) }
            @if let Some(d) = &f.delivery {
                dt { "Delivery" } dd { (d.status) ", " (d.attempts) " attempts" @if let Some(e) = &d.last_error { " — " (e) } }
            }
            @if let Some(h) = &f.sha256 { dt { "SHA-256" } dd { code { (h) } } }
        }
        @if f.direction == "outbound" {
            p.actions { a.button href=(format!("/console/files/{}/download", f.id)) download=(f.file_name) { "Download the file" } }
        }
        @if let Some(c) = contents { (c) }
        @if !returns.is_empty() {
            h2 { "Returns and NOCs in this file" }
            table {
                thead { tr { th scope="col" { "Kind" } th scope="col" { "Code" } th scope="col" { "Original trace" } th scope="col" { "Amount" } th scope="col" { "Collection" } } }
                tbody {
                    @for r in &returns {
                        tr {
                            td { (r.kind) } td { (r.code) } td { (r.original_trace) } td.num { (money(r.amount)) }
                            td { @if let Some(c) = &r.collection_id { a href=(format!("/console/collections/{c}")) { (c) } } @else { "unmatched" } }
                        }
                    }
                }
            }
        }
    })
}

/// The file as `inflow ach inspect` shows it (masked), and its validation.
fn inspect(bytes: &[u8]) -> Markup {
    let report = nacha::report::inspect(bytes, nacha::report::InspectOptions { unmask: false });
    let findings = nacha::report::validate_report(bytes, &nacha::ValidateOptions::strict());
    html! {
        h2 { "Validation" }
        @if findings.is_valid() && findings.warnings.is_empty() {
            p.ok role="status" { "Valid: no findings (strict rules, as for every file Inflow writes)." }
        } @else {
            ul.findings { @for e in findings.errors.iter().chain(&findings.warnings) { li { (e.to_string()) } } }
        }
        h2 { "Batches and entries" }
        @match report {
            Err(e) => p.bad { "The file cannot be read: " (e.to_string()) },
            Ok(r) => {
                @for b in &r.batches {
                    table {
                        caption { "Batch " (b.number.map(|n| n.to_string()).unwrap_or_default()) " — " (b.sec) " " (b.company_name) " (" (b.description) "), effective " (b.effective_date)
                            ": " (b.entry_count) " entries, debits " (money(b.debit_total as i64)) ", credits " (money(b.credit_total as i64)) }
                        thead { tr { th scope="col" { "Trace" } th scope="col" { "Code" } th scope="col" { "RDFI" } th scope="col" { "Account" } th scope="col" { "Name" } th scope="col" { "Amount" } } }
                        tbody {
                            @for e in &b.entries {
                                tr { td { (e.trace) } td { (e.transaction_code) } td { (e.rdfi) } td { (e.account) } td { (e.name) } td.num { (money(e.amount as i64)) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /console/files/{id}/download`: the NACHA text, as the API serves it.
pub async fn download(
    State(state): State<AppState>,
    op: Operator,
    Path(id): Path<String>,
) -> Response {
    let res = crate::api::ach::file_content(
        State(state.clone()),
        Extension(act::operator(&op)),
        Path(id.clone()),
    )
    .await;
    match res {
        Ok(mut r) => {
            if let Ok(v) = format!("attachment; filename=\"{id}.ach\"").parse() {
                r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
            }
            r
        }
        Err(e) => error_page(e),
    }
}

/// `GET /console/cutoff`: the confirmation.
pub async fn confirm_cutoff(State(state): State<AppState>, op: Operator) -> Response {
    let now = state.clock.now();
    let due = inflow_engine::cutoff::manual_cutoffs(&state.ach, now);
    page(&op, "/console/files", "Run a cutoff now?", state.config.sandbox, html! {
        p { "Every pending collection that is due goes into a file now, and the files are uploaded to the ODFI at once. "
            "This is the same as POST /v1/ach/cutoffs." }
        @if due.is_empty() { p.bad { "Today is not a banking day: the cutoff will be refused." } }
        @for c in &due { p { "Cutoff: " (crate::console::format::eastern(c.cutoff.at)) } }
        form.card method="post" action="/console/cutoff" {
            (csrf::field(&op))
            div.actions {
                button.danger type="submit" { "Yes, run the cutoff" }
                a href="/console/files" { "No, go back" }
            }
        }
    })
    .into_response()
}

/// `POST /console/cutoff`.
pub async fn run_cutoff(
    State(state): State<AppState>,
    op: Operator,
    body: axum::body::Bytes,
) -> Response {
    if let Err(refused) = csrf::verify(&op, &body) {
        return refused.into_response();
    }
    let auth = act::operator(&op);
    let audit = act::audit(&op, &auth);
    let ran = crate::api::ach::run_cutoff_now(State(state.clone()), Extension(auth), audit).await;
    let v = match ran {
        Ok(r) => match act::json(r).await {
            Ok(v) => v,
            Err(e) => return error_page(e),
        },
        Err(e) => return error_page(e),
    };
    page(
        &op,
        "/console/files",
        "Cutoff run",
        state.config.sandbox,
        cutoff_result(&v),
    )
    .into_response()
}

fn cutoff_result(v: &Value) -> Markup {
    let files = v["files"].as_array().cloned().unwrap_or_default();
    html! {
        p role="status" { (files.len()) " file(s) created, " (v["failed"].as_array().map_or(0, Vec::len)) " collection(s) failed, "
            (v["deferred"].as_array().map_or(0, Vec::len)) " deferred." }
        ul {
            @for f in &files {
                li { a href=(format!("/console/files/{}", f["id"].as_str().unwrap_or(""))) { (f["fileName"].as_str().unwrap_or("")) }
                    ": " (f["entryCount"]) " entries, delivery " (f["delivery"]["status"].as_str().unwrap_or("built")) }
            }
        }
        @for f in v["failed"].as_array().into_iter().flatten() {
            p.bad { (f["collectionId"].as_str().unwrap_or("")) ": " (f["reason"].as_str().unwrap_or("")) }
        }
        p { a href="/console/files" { "All files" } }
    }
}
