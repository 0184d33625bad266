//! The overview: per rail, today and the last 30 days by status; the next
//! cutoffs and what is queued for them; files by delivery state; returns
//! and NOCs; the webhook backlog; the ledger check; and the charts (daily
//! volume by rail, returns by code, return rates per customer against
//! NACHA's 0.5 % / 3 % / 15 % lines).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::{Duration, NaiveDate};
use inflow_engine::alerts::{
    ADMINISTRATIVE_CODES, ADMINISTRATIVE_THRESHOLD, OVERALL_THRESHOLD, UNAUTHORIZED_CODES,
    UNAUTHORIZED_THRESHOLD,
};
use inflow_store::repo::console::{DailyVolume, StatusTotal};
use inflow_store::ListQuery;
use maud::{html, Markup};

use crate::console::csrf;
use crate::console::format::{eastern, money, percent};
use crate::console::layout::{error_page, page};
use crate::console::session::Operator;
use crate::console::svg_chart::{hbars, rates, stacked_bars, Stack};
use crate::error::ApiResult;
use crate::state::AppState;

/// What the overview shows, read in one transaction.
struct Overview {
    today: Vec<StatusTotal>,
    month: Vec<StatusTotal>,
    daily: Vec<DailyVolume>,
    returns: Vec<(String, i64)>,
    nocs: Vec<(String, i64)>,
    files: Vec<(String, i64)>,
    queued: Vec<(String, i64, i64)>,
    backlog: Vec<inflow_store::repo::console::EndpointBacklog>,
    /// Whether the ledger check's alert is raised (the check itself runs
    /// on the housekeeping schedule or on demand: it reads every entry).
    ledger_failing: bool,
    customers: Vec<(String, inflow_engine::alerts::ReturnRates)>,
    first_day: NaiveDate,
}

async fn load(state: &AppState) -> ApiResult<Overview> {
    let now = state.clock.now();
    let today = inflow_core::calendar::local_date(now);
    let midnight = inflow_core::calendar::eastern_instant(today, chrono::NaiveTime::MIN);
    let month_start = midnight - Duration::days(29);
    let mut tx = state.store.read().await?;
    let mut customers = Vec::new();
    for c in tx
        .list_customers(&ListQuery::first(ListQuery::MAX_LIMIT))
        .await?
        .data
    {
        let r = inflow_engine::alerts::return_rates(&mut tx, &c.id, now).await?;
        customers.push((c.name, r));
    }
    let o = Overview {
        today: tx.console_status_totals(midnight).await?,
        month: tx.console_status_totals(month_start).await?,
        daily: tx.console_daily_volume(month_start).await?,
        returns: tx.console_returns_by_code("return", month_start).await?,
        nocs: tx.console_returns_by_code("noc", month_start).await?,
        files: tx.console_file_states(month_start).await?,
        queued: tx.console_queued().await?,
        backlog: tx.console_webhook_backlog().await?,
        ledger_failing: !tx
            .raised_alerts(inflow_engine::alerts::LEDGER_CHECK_FAILED)
            .await?
            .is_empty(),
        customers,
        first_day: month_start.date_naive(),
    };
    tx.rollback().await?;
    Ok(o)
}

/// `GET /console`.
pub async fn show(State(state): State<AppState>, op: Operator) -> Response {
    match load(&state).await {
        Ok(o) => page(
            &op,
            "/console",
            "Overview",
            state.config.sandbox,
            body(&state, &op, &o),
        )
        .into_response(),
        Err(e) => error_page(e),
    }
}

fn body(state: &AppState, op: &Operator, o: &Overview) -> Markup {
    html! {
        section aria-labelledby="h-volume" {
            h2 id="h-volume" { "Collections by rail and status" }
            div.grid2 {
                (status_table("Today", &o.today))
                (status_table("Last 30 days", &o.month))
            }
            (daily_chart(o))
        }
        section aria-labelledby="h-cutoffs" {
            h2 id="h-cutoffs" { "Next cutoffs" }
            (cutoffs(state, o))
        }
        div.grid2 {
            section aria-labelledby="h-files" {
                h2 id="h-files" { "ACH files, last 30 days" }
                (count_table("Delivery state", &o.files))
                p { a href="/console/files" { "All files" } }
            }
            section aria-labelledby="h-ledger" {
                h2 id="h-ledger" { "Ledger check" }
                @if o.ledger_failing {
                    p.bad role="alert" { "Failing: the last check found unbalanced transactions or balance mismatches (alert ledger.check_failed is raised)." }
                } @else {
                    p.ok { "No failing check: the alert ledger.check_failed is not raised." }
                }
                form method="post" action="/console/ledger-check" {
                    (csrf::field(op))
                    button type="submit" { "Check the ledger now" }
                }
            }
        }
        section aria-labelledby="h-returns" {
            h2 id="h-returns" { "Returns and NOCs, last 30 days" }
            div.grid2 {
                (hbars("Returns by code", &as_f64(&o.returns), |v| format!("{v:.0}")))
                (hbars("NOCs by code", &as_f64(&o.nocs), |v| format!("{v:.0}")))
            }
            (rate_charts(o))
        }
        section aria-labelledby="h-webhooks" {
            h2 id="h-webhooks" { "Webhook backlog" }
            @if o.backlog.is_empty() {
                p.ok { "Every webhook delivery has succeeded." }
            } @else {
                table {
                    thead { tr { th scope="col" { "Endpoint" } th scope="col" { "Pending" } th scope="col" { "Retrying" } th scope="col" { "Failed" } } }
                    tbody {
                        @for b in &o.backlog {
                            tr class=[(b.failed > 0 || b.retrying > 0).then_some("warn")] {
                                td { a href=(format!("/console/webhooks?endpoint={}", b.endpoint_id)) { (b.endpoint_id) } }
                                td.num { (b.pending) } td.num { (b.retrying) } td.num { (b.failed) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn as_f64(rows: &[(String, i64)]) -> Vec<(String, f64)> {
    rows.iter().map(|(k, v)| (k.clone(), *v as f64)).collect()
}

fn status_table(caption: &str, rows: &[StatusTotal]) -> Markup {
    html! {
        table {
            caption { (caption) }
            thead { tr { th scope="col" { "Rail" } th scope="col" { "Status" } th scope="col" { "Count" } th scope="col" { "Volume" } } }
            tbody {
                @for r in rows {
                    tr { td { (r.rail.to_uppercase()) } td { (r.status) } td.num { (r.count) } td.num { (money(r.amount)) } }
                }
                @if rows.is_empty() { tr { td colspan="4" { "No collections." } } }
            }
        }
    }
}

fn count_table(label: &str, rows: &[(String, i64)]) -> Markup {
    html! {
        table {
            thead { tr { th scope="col" { (label) } th scope="col" { "Files" } } }
            tbody {
                @for (k, n) in rows { tr { td { (k) } td.num { (n) } } }
                @if rows.is_empty() { tr { td colspan="2" { "None." } } }
            }
        }
    }
}

fn daily_chart(o: &Overview) -> Markup {
    let bars: Vec<Stack> = o
        .first_day
        .iter_days()
        .take(30)
        .map(|d| {
            let day = d.and_time(chrono::NaiveTime::MIN).and_utc().timestamp() / 86_400;
            let of = |rail: &str| {
                o.daily
                    .iter()
                    .filter(|v| v.day == day && v.rail == rail)
                    .map(|v| v.amount as f64)
                    .sum::<f64>()
            };
            Stack {
                label: d.format("%m-%d").to_string(),
                parts: vec![of("ach"), of("card")],
            }
        })
        .collect();
    stacked_bars(
        "Daily volume by rail (UTC days)",
        &["ACH", "Card"],
        &bars,
        |v| money(v as i64),
    )
}

fn cutoffs(state: &AppState, o: &Overview) -> Markup {
    let now = state.clock.now();
    let next: Vec<_> = state
        .ach
        .cutoffs
        .cutoffs_after(&state.ach.calendar, now)
        .take(3)
        .collect();
    let queued = |same_day: bool| -> (i64, i64) {
        o.queued
            .iter()
            .filter(|(mode, _, _)| (mode == "same_day") == same_day)
            .fold((0, 0), |(n, a), (_, c, s)| (n + c, a + s))
    };
    html! {
        table {
            thead { tr { th scope="col" { "Cutoff" } th scope="col" { "Kind" } th scope="col" { "Queued now (pending)" } } }
            tbody {
                @for c in &next {
                    @let (n, a) = queued(c.is_same_day());
                    tr {
                        td { (eastern(c.at)) }
                        td { @if c.is_same_day() { "Same-day" } @else { "Standard" } }
                        td { (n) " collections, " (money(a)) }
                    }
                }
            }
        }
        p.hint { "Pending collections go into the first cutoff they are due for; same-day entries only while a same-day window is ahead. "
            a href="/console/cutoff" { "Run a cutoff now" } }
    }
}

fn rate_charts(o: &Overview) -> Markup {
    let series = |pick: fn(&inflow_engine::alerts::ReturnRates) -> f64| -> Vec<(String, f64)> {
        o.customers
            .iter()
            .map(|(name, r)| (name.clone(), pick(r)))
            .collect()
    };
    html! {
        h3 { "Return rates per customer, last 60 days" }
        div.grid3 {
            (rates(&format!("Unauthorized ({})", UNAUTHORIZED_CODES.join(", ")), UNAUTHORIZED_THRESHOLD, &series(|r| r.unauthorized.rate)))
            (rates(&format!("Administrative ({})", ADMINISTRATIVE_CODES.join(", ")), ADMINISTRATIVE_THRESHOLD, &series(|r| r.administrative.rate)))
            (rates("Overall", OVERALL_THRESHOLD, &series(|r| r.overall.rate)))
        }
        table {
            caption { "Return rates (the numbers behind the charts)" }
            thead { tr { th scope="col" { "Customer" } th scope="col" { "Debits" } th scope="col" { "Unauthorized" } th scope="col" { "Administrative" } th scope="col" { "Overall" } } }
            tbody {
                @for (name, r) in &o.customers {
                    tr {
                        td { (name) } td.num { (r.debit_entries) }
                        td.num { (percent(r.unauthorized.rate)) } td.num { (percent(r.administrative.rate)) } td.num { (percent(r.overall.rate)) }
                    }
                }
            }
        }
        p.hint { "The engine's 60-day window: the same numbers as GET /v1/reports/return-rates." }
    }
}

/// `POST /console/ledger-check`: run the check now (the API's `POST /v1/ledger/check`).
pub async fn check_ledger(
    State(state): State<AppState>,
    op: Operator,
    body: axum::body::Bytes,
) -> Response {
    if let Err(refused) = csrf::verify(&op, &body) {
        return refused.into_response();
    }
    let checked = crate::api::ledger::check(
        State(state.clone()),
        axum::Extension(crate::console::act::operator(&op)),
    )
    .await;
    match checked {
        Ok(axum::Json(c)) => page(&op, "/console", "Ledger check", state.config.sandbox, html! {
            @if c.ok {
                p.ok role="status" { "Balanced: " (c.transactions) " transactions, " (c.entries) " entries, " (c.accounts) " accounts." }
            } @else {
                p.bad role="alert" { (c.unbalanced_transactions.len()) " unbalanced transactions, " (c.balance_mismatches.len()) " balance mismatches." }
                ul { @for t in &c.unbalanced_transactions { li { (t) } } }
            }
            p { a href="/console" { "Back to the overview" } }
        })
        .into_response(),
        Err(e) => error_page(e),
    }
}
