//! `/v1/collections`: create (unified and ACH-specific), get, list, cancel.

mod create;
pub mod inquiry;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Json};
use inflow_core::collection::CollectionStatus;
use inflow_core::ids::CollectionId;
use inflow_engine::collections::ach::create_ach_collection;
use inflow_engine::view::{collection_view, CollectionView};
use serde::Deserialize;
use utoipa::ToSchema;

pub use create::{AuthorizationInput, CreateCollectionRequest, OneTimeSourceInput};

use crate::api::common::to_json;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::audit::Audit;
use crate::http::auth::Auth;
use crate::http::body::parse_json;
use crate::http::idempotency::{run_write, WriteRequest};
use crate::state::AppState;

async fn create_collection(
    state: AppState,
    auth: Auth,
    req: WriteRequest,
    rail_required: bool,
) -> ApiResult<Response> {
    let customer = auth.customer()?.clone();
    if rail_required && rail_of(&req.body).as_deref() == Some("card") {
        return crate::api::cards::create_card_collection(state, auth, req, true).await;
    }
    let body: CreateCollectionRequest = parse_json(&req.body)?;
    let new = body.into_new(rail_required)?;
    let now = state.clock.now();
    let st = state.clone();
    run_write(&state, &auth, &req, move |tx| {
        Box::pin(async move {
            let rules = st.collection_rules();
            let collection = create_ach_collection(tx, &customer, new, &rules, now).await?;
            Ok((StatusCode::CREATED, to_json(&collection_view(&collection))?))
        })
    })
    .await
}

/// The `rail` of a JSON body, if it is an object with one.
fn rail_of(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    v.get("rail")?.as_str().map(str::to_owned)
}

/// Create a collection on any rail (`"rail": "ach"` or `"rail": "card"`, with the card body of `POST /v1/collections/card`).
#[utoipa::path(post, path = "/v1/collections", tag = "collections", request_body = CreateCollectionRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    responses((status = 201, body = CollectionView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    req: WriteRequest,
) -> ApiResult<Response> {
    create_collection(state, auth, req, true).await
}

/// Create an ACH debit or prenote.
#[utoipa::path(post, path = "/v1/collections/ach", tag = "collections",
    request_body(content = CreateCollectionRequest, examples(
        ("oneOff" = (summary = "A one-off WEB debit", value = json!(crate::api::examples::ach_debit()))),
        ("sameDay" = (summary = "A same-day debit", value = json!(crate::api::examples::ach_same_day_debit()))),
        ("futureDated" = (summary = "A debit on a future banking day", value = json!(crate::api::examples::ach_future_dated_debit()))))),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    responses((status = 201, body = CollectionView, example = json!(crate::api::examples::ach_collection())), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_ach(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    req: WriteRequest,
) -> ApiResult<Response> {
    create_collection(state, auth, req, false).await
}

fn parse_id(id: &str) -> ApiResult<CollectionId> {
    CollectionId::parse("id", id).map_err(|_| ApiError::not_found("collection"))
}

/// Get a collection.
#[utoipa::path(get, path = "/v1/collections/{id}", tag = "collections", params(("id" = String, Path)),
    responses((status = 200, body = inquiry::CollectionListItem, description = "An ACH collection (`rail: ach`) or a card one (`rail: card`)", examples(
        ("ach" = (summary = "An ACH debit", value = json!(crate::api::examples::ach_collection()))),
        ("card" = (summary = "A card sale", value = json!(crate::api::examples::card_collection()))))), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let id = parse_id(&id)?;
    let mut tx = state.store.read().await?;
    let customer = auth.customer_id()?;
    match tx.get_ach_collection(Some(customer), &id).await {
        Ok(c) => return Ok(Json(to_json(&collection_view(&c))?)),
        Err(inflow_store::StoreError::NotFound) => {}
        Err(other) => return Err(other.into()),
    }
    let c = tx
        .get_card_collection(Some(customer), &id)
        .await
        .map_err(|e| match e {
            inflow_store::StoreError::NotFound => ApiError::not_found("collection"),
            other => other.into(),
        })?;
    Ok(Json(to_json(&inflow_engine::view::card_collection_view(
        &c,
    ))?))
}

/// Why there is no ACH collection `id`: a card one of that id, or none.
async fn missing_ach_collection(
    tx: &mut inflow_store::Tx,
    customer: &inflow_core::ids::CustomerId,
    id: &CollectionId,
) -> ApiError {
    match tx.get_card_collection(Some(customer), id).await {
        Ok(_) => ApiError::wrong_rail(format!(
            "{id} is a card collection; cancel applies to ACH collections (void a card authorization or capture instead)"
        )),
        Err(inflow_store::StoreError::NotFound) => ApiError::not_found("collection"),
        Err(e) => e.into(),
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CancelRequest {
    /// Why (kept in the status history).
    pub reason: Option<String>,
}

/// Cancel a collection that is not in a file yet (`scheduled`, `pending` or `on_hold`).
#[utoipa::path(post, path = "/v1/collections/{id}/cancel", tag = "collections", params(("id" = String, Path)),
    request_body(content = CancelRequest, example = json!(crate::api::examples::cancel())),
    responses((status = 200, body = CollectionView, example = json!(crate::api::examples::cancelled_ach_collection())), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    Audit(audit): Audit,
    req: WriteRequest,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    let customer_id = auth.customer_id()?.clone();
    let body: CancelRequest = if req.body.iter().all(u8::is_ascii_whitespace) {
        CancelRequest::default()
    } else {
        parse_json(&req.body)?
    };
    let reason = body
        .reason
        .as_deref()
        .map(|r| inflow_core::text::bounded_text("reason", r, 1, 200))
        .transpose()?
        .unwrap_or_else(|| "cancelled by the customer".to_owned());
    let now = state.clock.now();
    run_write(&state, &auth, &req, move |tx| {
        Box::pin(async move {
            let mut c = match tx.get_ach_collection(Some(&customer_id), &id).await {
                Ok(c) => c,
                Err(inflow_store::StoreError::NotFound) => return Err(missing_ach_collection(tx, &customer_id, &id).await),
                Err(e) => return Err(e.into()),
            };
            if !c.status.is_cancellable() {
                return Err(ApiError::conflict(
                    "collection_not_cancellable",
                    format!("a {} collection can no longer be cancelled; once in a file only a reversal can undo it", c.status),
                ));
            }
            let before = c.status;
            let was = collection_view(&c);
            c.transition(CollectionStatus::Cancelled, Some(reason), now).map_err(|e| ApiError::conflict("collection_not_cancellable", e.to_string()))?;
            tx.update_ach_collection(&c).await?;
            inflow_engine::ledger::on_status_change(tx, before, &c, now).await?;
            inflow_engine::events::status_event(tx, &c, now).await?;
            let view = collection_view(&c);
            audit.change("collection.cancelled", "collection", c.id.as_str()).before(&was).after(&view).record(tx, now).await?;
            Ok((StatusCode::OK, to_json(&view)?))
        })
    })
    .await
}
