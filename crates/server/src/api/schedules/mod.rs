//! `/v1/schedules`: recurring ACH debit schedules — create, get, list,
//! change future occurrences, pause, resume, cancel.

mod request;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Json};
use inflow_core::ids::{CustomerId, PaymentMethodId, ScheduleId};
use inflow_core::schedule::{Schedule, ScheduleStatus};
use inflow_engine::schedules::{
    build_schedule, end_in_tx, insert_schedule, patch_schedule, pause_in_tx, resume_in_tx,
    schedule_view, ScheduleView,
};
use inflow_store::repo::schedules::ScheduleFilter;
use inflow_store::Tx;
use serde::Deserialize;
use utoipa::IntoParams;

pub use request::{
    CreateScheduleRequest, RetryPolicyInput, ScheduleActionRequest, UpdateScheduleRequest,
};

use crate::api::common::{to_json, ListResponse, PageParams};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::audit::Audit;
use crate::http::auth::Auth;
use crate::http::body::{parse_json, parse_query};
use crate::http::idempotency::{run_write, WriteRequest};
use crate::state::AppState;

fn parse_id(id: &str) -> ApiResult<ScheduleId> {
    ScheduleId::parse("id", id).map_err(|_| ApiError::not_found("schedule"))
}

/// The schedule as the API shows it, with its collections.
async fn render(tx: &mut Tx, state: &AppState, s: &Schedule) -> ApiResult<ScheduleView> {
    let collections = tx.schedule_collections(&s.id).await?;
    Ok(schedule_view(s, &collections, &state.ach.calendar))
}

/// Lock and load a schedule of `customer` for a change.
async fn load_for_change(
    tx: &mut Tx,
    customer: &CustomerId,
    id: &ScheduleId,
) -> ApiResult<Schedule> {
    tx.get_schedule(Some(customer), id)
        .await
        .map_err(ApiError::not_found_if_missing("schedule"))?;
    tx.lock_schedule(id).await?;
    Ok(tx.get_schedule(Some(customer), id).await?)
}

fn action_body(req: &WriteRequest) -> ApiResult<ScheduleActionRequest> {
    if req.body.iter().all(u8::is_ascii_whitespace) {
        Ok(ScheduleActionRequest::default())
    } else {
        parse_json(&req.body)
    }
}

fn reason(body: ScheduleActionRequest, default: &str) -> ApiResult<String> {
    Ok(body
        .reason
        .as_deref()
        .map(|r| inflow_core::text::bounded_text("reason", r, 1, 200))
        .transpose()?
        .unwrap_or_else(|| default.to_owned()))
}

/// Create a recurring ACH debit schedule. Each occurrence becomes an ordinary
/// ACH collection a week before its run date.
#[utoipa::path(post, path = "/v1/schedules", tag = "schedules", request_body = CreateScheduleRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    responses((status = 201, body = ScheduleView), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    req: WriteRequest,
) -> ApiResult<Response> {
    let customer = auth.customer()?.clone();
    let body: CreateScheduleRequest = parse_json(&req.body)?;
    let new = body.into_new()?;
    let now = state.clock.now();
    let st = state.clone();
    run_write(&state, &auth, &req, move |tx| {
        Box::pin(async move {
            let rules = st.collection_rules();
            let s = build_schedule(tx, &customer, new, &rules, now).await?;
            insert_schedule(tx, &rules, &s).await?;
            let view = render(tx, &st, &s).await?;
            Ok((StatusCode::CREATED, to_json(&view)?))
        })
    })
    .await
}

/// Get a schedule with its occurrences and their collections.
#[utoipa::path(get, path = "/v1/schedules/{id}", tag = "schedules", params(("id" = String, Path)),
    responses((status = 200, body = ScheduleView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> ApiResult<Json<ScheduleView>> {
    let id = parse_id(&id)?;
    let mut tx = state.store.read().await?;
    let s = tx
        .get_schedule(Some(auth.customer_id()?), &id)
        .await
        .map_err(ApiError::not_found_if_missing("schedule"))?;
    Ok(Json(render(&mut tx, &state, &s).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ScheduleListParams {
    pub limit: Option<u32>,
    pub starting_after: Option<String>,
    /// `active`, `paused`, `cancelled`, `completed` or `stopped`.
    pub status: Option<String>,
    pub payment_method_id: Option<String>,
    pub external_id: Option<String>,
}

/// List schedules, newest first.
#[utoipa::path(get, path = "/v1/schedules", tag = "schedules", params(ScheduleListParams),
    responses((status = 200, body = ListResponse<ScheduleView>), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<ListResponse<ScheduleView>>> {
    let p: ScheduleListParams = parse_query(q.as_deref())?;
    let page_q = PageParams {
        limit: p.limit,
        starting_after: p.starting_after.clone(),
    }
    .to_query()?;
    let filter = ScheduleFilter {
        status: p
            .status
            .as_deref()
            .map(|s| ScheduleStatus::parse("status", s))
            .transpose()?,
        payment_method_id: p
            .payment_method_id
            .as_deref()
            .map(|s| PaymentMethodId::parse("paymentMethodId", s))
            .transpose()?,
        external_id: p.external_id.clone(),
    };
    let mut tx = state.store.read().await?;
    let page = tx
        .list_schedules(auth.customer_id()?, &filter, &page_q)
        .await?;
    let has_more = page.has_more;
    let next_cursor = if has_more {
        page.data.last().map(|s| s.id.to_string())
    } else {
        None
    };
    let mut data = Vec::with_capacity(page.data.len());
    for s in &page.data {
        data.push(render(&mut tx, &state, s).await?);
    }
    Ok(Json(ListResponse {
        data,
        has_more,
        next_cursor,
    }))
}

/// Change the amount or payment method of the occurrences not created yet.
/// NACHA requires advance notice to the consumer of an amount change;
/// `amountChangedAt` and `amountHistory` record when it was made.
#[utoipa::path(patch, path = "/v1/schedules/{id}", tag = "schedules", params(("id" = String, Path)),
    request_body = UpdateScheduleRequest,
    responses((status = 200, body = ScheduleView), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    audit: Audit,
    req: WriteRequest,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    let customer = auth.customer()?.clone();
    let body: UpdateScheduleRequest = parse_json(&req.body)?;
    let patch = body.into_patch()?;
    let now = state.clock.now();
    let st = state.clone();
    run_write(&state, &auth, &req, move |tx| {
        Box::pin(async move {
            let mut s = load_for_change(tx, &customer.id, &id).await?;
            let before = render(tx, &st, &s).await?;
            patch_schedule(tx, &st.collection_rules(), &customer, &mut s, patch, now).await?;
            let view = render(tx, &st, &s).await?;
            audit
                .0
                .change("schedule.updated", "schedule", id.as_str())
                .before(&before)
                .after(&view)
                .record(tx, now)
                .await?;
            Ok((StatusCode::OK, to_json(&view)?))
        })
    })
    .await
}

/// What a lifecycle endpoint does.
#[derive(Clone, Copy)]
enum Action {
    Pause,
    Resume,
    Cancel,
}

async fn act(
    state: AppState,
    auth: Auth,
    id: String,
    audit: Audit,
    req: WriteRequest,
    action: Action,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    let customer_id = auth.customer_id()?.clone();
    let body = action_body(&req)?;
    let why = match action {
        Action::Pause => reason(body, "paused by the customer")?,
        Action::Cancel => reason(body, "cancelled by the customer")?,
        Action::Resume => {
            if body.reason.is_some() {
                return Err(ApiError::invalid(
                    "unknown_field",
                    "resume takes no reason",
                    "reason",
                ));
            }
            String::new()
        }
    };
    let now = state.clock.now();
    let st = state.clone();
    run_write(&state, &auth, &req, move |tx| {
        Box::pin(async move {
            let mut s = load_for_change(tx, &customer_id, &id).await?;
            let before = serde_json::json!({ "status": s.status });
            let expected = match action {
                Action::Pause | Action::Cancel => {
                    &[ScheduleStatus::Active, ScheduleStatus::Paused][..]
                }
                Action::Resume => &[ScheduleStatus::Paused][..],
            };
            let wanted = match action {
                Action::Pause => ScheduleStatus::Paused,
                Action::Resume => ScheduleStatus::Active,
                Action::Cancel => ScheduleStatus::Cancelled,
            };
            if !expected.contains(&s.status) || (s.status == wanted) {
                return Err(ApiError::conflict(
                    "schedule_status_conflict",
                    format!("a {} schedule cannot become {wanted}", s.status),
                ));
            }
            match action {
                Action::Pause => pause_in_tx(tx, &st.ach, &mut s, why, now).await?,
                Action::Cancel => {
                    end_in_tx(tx, &st.ach, &mut s, ScheduleStatus::Cancelled, why, now).await?
                }
                Action::Resume => {
                    let pm = tx
                        .get_bank_payment_method(&s.customer_id, &s.payment_method_id)
                        .await?;
                    if pm.status != inflow_core::model::PaymentMethodStatus::Active {
                        return Err(ApiError::conflict(
                            "payment_method_not_active",
                            format!(
                                "payment method {} is {}; change the schedule's paymentMethodId before resuming",
                                pm.id, pm.status
                            ),
                        )
                        .with_param("paymentMethodId"));
                    }
                    resume_in_tx(tx, &st.ach, &mut s, now).await?
                }
            }
            let view = render(tx, &st, &s).await?;
            let what = match action {
                Action::Pause => "schedule.paused",
                Action::Resume => "schedule.resumed",
                Action::Cancel => "schedule.cancelled",
            };
            audit
                .0
                .change(what, "schedule", id.as_str())
                .before(&before)
                .after(&view)
                .record(tx, now)
                .await?;
            Ok((StatusCode::OK, to_json(&view)?))
        })
    })
    .await
}

/// Pause: no occurrence is created, and created ones not yet in a file are
/// held (`on_hold`), until the schedule is resumed.
#[utoipa::path(post, path = "/v1/schedules/{id}/pause", tag = "schedules", params(("id" = String, Path)),
    request_body = ScheduleActionRequest,
    responses((status = 200, body = ScheduleView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn pause(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    audit: Audit,
    req: WriteRequest,
) -> ApiResult<Response> {
    act(state, auth, id, audit, req, Action::Pause).await
}

/// Resume a paused schedule. Run dates that passed while it was paused are
/// skipped; held collections whose date can still be met go out as planned.
#[utoipa::path(post, path = "/v1/schedules/{id}/resume", tag = "schedules", params(("id" = String, Path)),
    responses((status = 200, body = ScheduleView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn resume(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    audit: Audit,
    req: WriteRequest,
) -> ApiResult<Response> {
    act(state, auth, id, audit, req, Action::Resume).await
}

/// Cancel: no further occurrence, and every collection of the schedule not
/// yet in a file is cancelled.
#[utoipa::path(post, path = "/v1/schedules/{id}/cancel", tag = "schedules", params(("id" = String, Path)),
    request_body = ScheduleActionRequest,
    responses((status = 200, body = ScheduleView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    audit: Audit,
    req: WriteRequest,
) -> ApiResult<Response> {
    act(state, auth, id, audit, req, Action::Cancel).await
}
