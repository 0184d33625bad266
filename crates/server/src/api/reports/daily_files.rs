//! `/v1/reports/daily-files`: the daily reconciliation files (see
//! `inflow_engine::daily_files` and `docs/reports.md`).
//!
//! - `GET /v1/reports/daily-files?date=` lists the current files, newest
//!   first: an operator key sees every file (the operator's, each
//!   customer's, each account's), a customer key only its own customer
//!   file and its accounts' files.
//! - `GET /v1/reports/daily-files/{id}/content?format=csv|jsonl` downloads
//!   one; another customer's file is `404`.
//! - `POST /v1/reports/daily-files` (operator) generates a day's files now.
//!   A scope whose content is unchanged keeps its file (so the call is
//!   idempotent); a changed one gets a new version superseding the old.

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::NaiveDate;
use inflow_core::calendar::local_date;
use inflow_engine::daily_files::rows::{jsonl_to_csv, DailyFileRow};
use inflow_engine::daily_files::{file_name, generate_in_tx, visible_to, Trigger};
use inflow_store::repo::daily_file_deliveries::DailyFileDelivery;
use inflow_store::repo::daily_files::DailyFile;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::common::{time, to_json, ListResponse, PageParams};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::auth::Auth;
use crate::http::body::{parse_json, parse_query};
use crate::http::idempotency::{run_write, WriteRequest};
use crate::state::AppState;

/// A daily reconciliation file (without its rows; see `/content`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DailyFileView {
    /// `dfl_…`
    pub id: String,
    /// Always `daily_file`.
    pub object: &'static str,
    /// The banking day (US/Eastern) it covers.
    pub business_date: String,
    /// `operator` (every customer), `customer` or `account`.
    pub scope: String,
    /// Absent on the operator's file.
    pub customer_id: Option<String>,
    /// Present on an account's file.
    pub account_id: Option<String>,
    /// 1, then one more each time a regeneration found different content.
    pub version: i64,
    /// The newer version that replaces this one, if any.
    pub superseded_by: Option<String>,
    pub currency: String,
    /// Entry rows (the control-total row not counted).
    pub row_count: i64,
    /// Sum of the rows' `net` (minor units).
    pub total_net: i64,
    /// The destination accounts' movement that day per the ledger (minor units).
    pub ledger_movement: i64,
    /// The rows' sums equal the ledger's figures.
    pub ties_out: bool,
    /// SHA-256 (hex) of the JSON lines content.
    pub sha256: String,
    /// `scheduled` (the job, once the day was over) or `on_demand`.
    pub trigger: String,
    pub created_at: String,
    /// The push to the customer's own folder (`[[report_delivery]]`);
    /// absent when the file is not pushed anywhere.
    pub delivery: Option<DailyFileDeliveryView>,
}

/// The push of a file to its customer's folder.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DailyFileDeliveryView {
    /// `pending`, `uploaded` or `failed`.
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Option<String>,
    pub last_error: Option<String>,
    /// Where the file is (`sftp://user@host:port/dir/name` or a path).
    pub location: Option<String>,
    pub uploaded_at: Option<String>,
}

impl From<DailyFileDelivery> for DailyFileDeliveryView {
    fn from(d: DailyFileDelivery) -> Self {
        Self {
            status: d.status,
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at.map(time),
            last_error: d.last_error,
            location: d.location,
            uploaded_at: d.uploaded_at.map(time),
        }
    }
}

/// The views of `files`, each with its push state.
async fn views(
    tx: &mut inflow_store::Tx,
    files: Vec<DailyFile>,
) -> Result<Vec<DailyFileView>, inflow_store::StoreError> {
    let mut out = Vec::with_capacity(files.len());
    for f in files {
        let delivery = tx.get_daily_file_delivery(&f.id).await?;
        let mut v = DailyFileView::from(f);
        v.delivery = delivery.map(Into::into);
        out.push(v);
    }
    Ok(out)
}

impl From<DailyFile> for DailyFileView {
    fn from(f: DailyFile) -> Self {
        Self {
            id: f.id,
            object: "daily_file",
            business_date: f.business_date.to_string(),
            scope: f.scope,
            customer_id: f.customer_id,
            account_id: f.account_id,
            version: f.version,
            superseded_by: f.superseded_by,
            currency: f.currency,
            row_count: f.row_count,
            total_net: f.total_net,
            ledger_movement: f.ledger_movement,
            ties_out: f.ties_out,
            sha256: f.sha256,
            trigger: f.trigger,
            created_at: time(f.created_at),
            delivery: None,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DailyFileListParams {
    /// Only the files of this banking day (YYYY-MM-DD).
    pub date: Option<String>,
    /// 1 to 200, default 50.
    pub limit: Option<u32>,
    /// The id of the last file of the previous page.
    pub starting_after: Option<String>,
}

fn parse_date(s: &str) -> ApiResult<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| ApiError::invalid("invalid_date", "date must be a day as YYYY-MM-DD", "date"))
}

/// The customer whose files the caller may see; `None`: every file (operator keys).
fn viewer(auth: &Auth) -> ApiResult<Option<String>> {
    if auth.is_admin() {
        Ok(None)
    } else {
        Ok(Some(auth.customer_id()?.to_string()))
    }
}

/// List daily reconciliation files, newest first. Operator keys see every
/// file; a customer key sees its customer file and its accounts' files.
/// Superseded versions are not listed (their ids still download).
#[utoipa::path(get, path = "/v1/reports/daily-files", tag = "reports", params(DailyFileListParams),
    responses((status = 200, body = ListResponse<DailyFileView>), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<ListResponse<DailyFileView>>> {
    let params: DailyFileListParams = parse_query(q.as_deref())?;
    let day = params.date.as_deref().map(parse_date).transpose()?;
    let page_q = PageParams {
        limit: params.limit,
        starting_after: params.starting_after,
    }
    .to_query()?;
    let customer = viewer(&auth)?;
    let mut tx = state.store.read().await?;
    let page = tx
        .list_daily_files(day, customer.as_deref(), &page_q)
        .await?;
    let has_more = page.has_more;
    let data = views(&mut tx, page.data).await?;
    tx.rollback().await?;
    let next_cursor = if has_more {
        data.last().map(|f| f.id.clone())
    } else {
        None
    };
    Ok(Json(ListResponse {
        data,
        has_more,
        next_cursor,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ContentParams {
    /// `csv` (default; RFC 4180, header record) or `jsonl` (one JSON object per line).
    pub format: Option<String>,
}

/// Download a daily file: CSV (`text/csv`) or JSON lines
/// (`application/jsonl`), one row per ledger transaction of the day and a
/// last `control_total` row (columns in `docs/reports.md`). A file of
/// another customer is `404`.
#[utoipa::path(get, path = "/v1/reports/daily-files/{id}/content", tag = "reports",
    params(("id" = String, Path), ContentParams),
    responses((status = 200, description = "The file, as an attachment (`Content-Disposition`)",
            content((String = "text/csv"), (DailyFileRow = "application/jsonl"))),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn content(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    let params: ContentParams = parse_query(q.as_deref())?;
    let csv = match params.format.as_deref() {
        None | Some("csv") => true,
        Some("jsonl") => false,
        Some(_) => {
            return Err(ApiError::invalid(
                "invalid_value",
                "format must be `csv` or `jsonl`",
                "format",
            ))
        }
    };
    let customer = viewer(&auth)?;
    if !crate::api::common::is_cursor(&id) || !id.starts_with("dfl_") {
        return Err(ApiError::not_found("daily file"));
    }
    let mut tx = state.store.read().await?;
    let (file, content) = tx
        .get_daily_file(&id)
        .await
        .map_err(ApiError::not_found_if_missing("daily file"))?;
    tx.rollback().await?;
    if !visible_to(&file, customer.as_deref()) {
        return Err(ApiError::not_found("daily file"));
    }
    let (content_type, ext, body) = if csv {
        let bytes = jsonl_to_csv(&content).map_err(|e| {
            tracing::error!(error = %e, file = %file.id, "a stored daily file cannot be rendered");
            ApiError::internal()
        })?;
        ("text/csv; charset=utf-8; header=present", "csv", bytes)
    } else {
        (
            "application/jsonl; charset=utf-8",
            "jsonl",
            content.into_bytes(),
        )
    };
    let name = file_name(&file, ext);
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenerateDailyFilesRequest {
    /// The banking day (YYYY-MM-DD, US/Eastern), today at the latest.
    pub date: String,
}

/// The files of a day after an on-demand generation.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GeneratedDailyFiles {
    /// Always `daily_file_generation`.
    pub object: &'static str,
    pub business_date: String,
    /// Ids of the files this call created (new scopes or new versions);
    /// empty when nothing had changed.
    pub created: Vec<String>,
    /// Every current file of the day.
    pub data: Vec<DailyFileView>,
}

/// Generate a day's files now (operator keys). Idempotent: a file whose
/// content has not changed is kept (`200`, `created` empty); a changed one
/// (e.g. a day generated before it was over) gets a new version that
/// supersedes the old one (`201`). A day after today is refused.
#[utoipa::path(post, path = "/v1/reports/daily-files", tag = "reports",
    request_body = GenerateDailyFilesRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    responses((status = 201, description = "Files were created", body = GeneratedDailyFiles),
        (status = 200, description = "Nothing had changed; the day's files", body = GeneratedDailyFiles),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn generate(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    req: WriteRequest,
) -> ApiResult<Response> {
    auth.require_admin()?;
    let body: GenerateDailyFilesRequest = parse_json(&req.body)?;
    let day = parse_date(&body.date)?;
    let now = state.clock.now();
    if day > local_date(now) {
        return Err(ApiError::invalid(
            "date_in_future",
            format!(
                "{day} has not begun (today is {} US/Eastern)",
                local_date(now)
            ),
            "date",
        ));
    }
    let calendar = state.ach.calendar.clone();
    let push_to = state.report_delivery.customers();
    run_write(&state, &auth, &req, move |tx| {
        Box::pin(async move {
            let g = generate_in_tx(tx, &calendar, day, now, Trigger::OnDemand, &push_to).await?;
            let status = if g.created.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            let out = GeneratedDailyFiles {
                object: "daily_file_generation",
                business_date: day.to_string(),
                created: g.created.iter().map(|f| f.id.clone()).collect(),
                data: views(tx, g.current).await?,
            };
            Ok((status, to_json(&out)?))
        })
    })
    .await
}
