//! `/v1/events`: what happened, newest first, and redelivery to webhooks.
//!
//! Customer keys see their own customer's events; an operator key sees the
//! events of the customer it names in `Inflow-Customer`, or every
//! customer's when it names none.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Json};
use inflow_core::ids::{CustomerId, EventId, WebhookEndpointId};
use inflow_core::webhook::EventSelector;
use inflow_engine::webhooks::view::{event_view, EventView};
use inflow_store::repo::events::EventFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::common::{instant, to_json, ListResponse, PageParams};
use crate::api::webhook_deliveries::{delivery_view, DeliveryView};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::auth::Auth;
use crate::http::body::{parse_json, parse_query};
use crate::http::idempotency::{run_write, WriteRequest};
use crate::state::AppState;

fn scope(auth: &Auth) -> Option<CustomerId> {
    auth.customer.as_ref().map(|c| c.id.clone())
}

fn parse_id(id: &str) -> ApiResult<EventId> {
    EventId::parse("id", id).map_err(|_| ApiError::not_found("event"))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventListParams {
    /// 1 to 200, default 50.
    pub limit: Option<u32>,
    /// The id of the last event on the previous page.
    pub starting_after: Option<String>,
    /// An event type (`collection.completed`) or a resource wildcard (`collection.*`).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub event_type: Option<String>,
    /// Events about this object (e.g. a `col_…` id), oldest change last.
    pub object_id: Option<String>,
    /// RFC 3339, inclusive.
    pub created_from: Option<String>,
    /// RFC 3339, inclusive.
    pub created_to: Option<String>,
}

/// List events, newest first.
#[utoipa::path(get, path = "/v1/events", tag = "events", params(EventListParams),
    responses((status = 200, body = ListResponse<EventView>), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<ListResponse<EventView>>> {
    let p: EventListParams = parse_query(q.as_deref())?;
    let page_q = PageParams {
        limit: p.limit,
        starting_after: p.starting_after.clone(),
    }
    .to_query()?;
    let event_type = match p.event_type.as_deref().map(str::trim) {
        None | Some("*") => None,
        Some(t) => {
            EventSelector::parse("type", &[t.to_owned()]).map_err(|e| e.at("type"))?;
            Some(t.to_owned())
        }
    };
    let object_id = match p.object_id {
        Some(o) if !is_object_id(&o) => {
            return Err(ApiError::invalid(
                "invalid_id",
                "objectId must be an object id such as col_ followed by 32 hex digits",
                "objectId",
            ))
        }
        other => other,
    };
    let filter = EventFilter {
        event_type,
        object_id,
        created_from: instant("createdFrom", &p.created_from)?,
        created_to: instant("createdTo", &p.created_to)?,
    };
    let page = state
        .store
        .read()
        .await?
        .list_events(scope(&auth).as_ref(), &filter, &page_q)
        .await?;
    Ok(Json(ListResponse::from_page(
        page,
        |e| e.id.to_string(),
        |e| event_view(&e),
    )))
}

/// Get an event: exactly the body its webhooks carry.
#[utoipa::path(get, path = "/v1/events/{id}", tag = "events", params(("id" = String, Path)),
    responses((status = 200, body = EventView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> ApiResult<Json<EventView>> {
    let id = parse_id(&id)?;
    let e = state
        .store
        .read()
        .await?
        .get_event(scope(&auth).as_ref(), &id)
        .await
        .map_err(ApiError::not_found_if_missing("event"))?;
    Ok(Json(event_view(&e)))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RedeliverRequest {
    /// Only to this endpoint (it must be enabled; its event filter is not
    /// applied). Default: every enabled endpoint subscribed to the event's type.
    pub endpoint_id: Option<String>,
}

/// The deliveries a redelivery queued.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RedeliverResponse {
    pub data: Vec<DeliveryView>,
}

/// Send an event again (a new delivery per endpoint, attempted at once, in
/// order with the object's other events).
#[utoipa::path(post, path = "/v1/events/{id}/redeliver", tag = "events", params(("id" = String, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body = RedeliverRequest,
    responses((status = 202, body = RedeliverResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn redeliver(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    req: WriteRequest,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    let body: RedeliverRequest = if req.body.iter().all(u8::is_ascii_whitespace) {
        RedeliverRequest::default()
    } else {
        parse_json(&req.body)?
    };
    let endpoint = body
        .endpoint_id
        .as_deref()
        .map(|e| WebhookEndpointId::parse("endpointId", e))
        .transpose()?;
    let customer = scope(&auth);
    let now = state.clock.now();
    run_write(&state, &auth, &req, move |tx| {
        Box::pin(async move {
            let deliveries =
                crate::app::webhooks::redeliver(tx, customer.as_ref(), &id, endpoint, now).await?;
            let data = deliveries
                .into_iter()
                .map(|d| delivery_view(d, Vec::new()))
                .collect();
            Ok((StatusCode::ACCEPTED, to_json(&RedeliverResponse { data })?))
        })
    })
    .await
}

/// `<lowercase prefix>_<32 lowercase hex digits>`, the shape of every id.
fn is_object_id(s: &str) -> bool {
    s.split_once('_').is_some_and(|(prefix, body)| {
        !prefix.is_empty()
            && prefix.bytes().all(|b| b.is_ascii_lowercase())
            && body.len() == 32
            && body
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}
