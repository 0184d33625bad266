//! `GET /v1/webhook-endpoints/{id}/deliveries`: the delivery log — each
//! event sent to the endpoint, its attempts with status codes and latency,
//! and when the next retry is due.

use axum::extract::{Path, RawQuery, State};
use axum::{Extension, Json};
use inflow_core::ids::EventId;
use inflow_core::webhook::DeliveryStatus;
use inflow_store::repo::webhook_deliveries::{Attempt, Delivery, DeliveryFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::common::{time, ListResponse, PageParams};
use crate::api::webhook_endpoints::parse_id;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::auth::Auth;
use crate::http::body::parse_query;
use crate::state::AppState;

/// One HTTP attempt.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptView {
    /// 1 for the first attempt.
    pub number: u32,
    pub attempted_at: String,
    /// The receiver's HTTP status; null when there was no answer.
    pub status_code: Option<u16>,
    pub latency_ms: u64,
    /// Why it failed (`HTTP 500`, `timed out after 10 s`, `connection failed: …`).
    pub error: Option<String>,
    pub succeeded: bool,
}

/// One event on its way to one endpoint.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryView {
    #[schema(example = "whd_0192f1c4a1b27c3d8e9f00112233aabb")]
    pub id: String,
    /// Always `webhook_delivery`.
    pub object: &'static str,
    pub endpoint_id: String,
    pub event_id: String,
    pub event_type: String,
    /// The object the event is about; its events arrive in order.
    pub object_id: String,
    pub status: DeliveryStatus,
    /// Attempts made (or under way).
    pub attempt_count: u32,
    /// When the next attempt is due; null once succeeded or failed.
    pub next_attempt_at: Option<String>,
    pub last_attempt_at: Option<String>,
    pub last_status_code: Option<u16>,
    pub last_latency_ms: Option<u64>,
    pub last_error: Option<String>,
    pub delivered_at: Option<String>,
    pub created_at: String,
    /// Every attempt, first to last.
    pub attempts: Vec<AttemptView>,
}

pub fn delivery_view(d: Delivery, attempts: Vec<Attempt>) -> DeliveryView {
    DeliveryView {
        id: d.id.to_string(),
        object: "webhook_delivery",
        endpoint_id: d.endpoint_id.to_string(),
        event_id: d.event_id.to_string(),
        event_type: d.event_type,
        object_id: d.object_id,
        status: d.status,
        attempt_count: d.attempts,
        next_attempt_at: d.next_attempt_at.map(time),
        last_attempt_at: d.last_attempt_at.map(time),
        last_status_code: d.last_status_code,
        last_latency_ms: d.last_latency_ms,
        last_error: d.last_error,
        delivered_at: d.delivered_at.map(time),
        created_at: time(d.created_at),
        attempts: attempts
            .into_iter()
            .map(|a| AttemptView {
                number: a.number,
                attempted_at: time(a.attempted_at),
                status_code: a.status_code,
                latency_ms: a.latency_ms,
                error: a.error,
                succeeded: a.succeeded,
            })
            .collect(),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryListParams {
    /// 1 to 200, default 50.
    pub limit: Option<u32>,
    /// The id of the last delivery on the previous page.
    pub starting_after: Option<String>,
    /// `pending`, `succeeded` or `failed`.
    pub status: Option<String>,
    /// Deliveries of one event.
    pub event_id: Option<String>,
}

/// An endpoint's deliveries, newest first, each with its attempts.
#[utoipa::path(get, path = "/v1/webhook-endpoints/{id}/deliveries", tag = "webhooks",
    params(("id" = String, Path), DeliveryListParams),
    responses((status = 200, body = ListResponse<DeliveryView>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<ListResponse<DeliveryView>>> {
    let id = parse_id(&id)?;
    let p: DeliveryListParams = parse_query(q.as_deref())?;
    let page_q = PageParams {
        limit: p.limit,
        starting_after: p.starting_after.clone(),
    }
    .to_query()?;
    let filter = DeliveryFilter {
        status: p
            .status
            .as_deref()
            .map(|s| DeliveryStatus::parse("status", s))
            .transpose()?,
        event_id: p
            .event_id
            .as_deref()
            .map(|e| EventId::parse("eventId", e))
            .transpose()?,
    };
    let mut tx = state.store.read().await?;
    let owner = auth.customer.as_ref().map(|c| &c.id);
    tx.get_owned_webhook_endpoint(owner, &id)
        .await
        .map_err(ApiError::not_found_if_missing("webhook endpoint"))?;
    let page = tx.list_deliveries(&id, &filter, &page_q).await?;
    let mut data = Vec::with_capacity(page.data.len());
    for d in &page.data {
        data.push(tx.delivery_attempts(&d.id).await?);
    }
    let mut attempts = data.into_iter();
    Ok(Json(ListResponse::from_page(
        page,
        |d| d.id.to_string(),
        |d| delivery_view(d, attempts.next().unwrap_or_default()),
    )))
}
