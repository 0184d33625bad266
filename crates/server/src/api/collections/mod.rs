//! `/v1/collections`: create (unified and ACH-specific), get, list, cancel.

mod create;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Json};
use chrono::{Duration, NaiveDate};
use inflow_core::collection::{AchEntryType, CollectionStatus, SecCode};
use inflow_core::ids::{CollectionId, CounterpartyId, PaymentMethodId};
use inflow_engine::view::{collection_view, CollectionView};
use inflow_store::repo::collections::CollectionFilter;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

pub use create::{AuthorizationInput, CreateCollectionRequest, OneTimeSourceInput};

use crate::api::common::{instant, to_json, ListResponse, PageParams};
use crate::app::collections::{build_ach_collection, insert_collection, Rules};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::auth::Auth;
use crate::http::body::{parse_json, parse_query};
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
            let rules = Rules {
                ach: &st.ach,
                vault: &st.vault,
                default_company_name: &st.config.ach.default_company_name,
                default_company_id: &st.config.ach.default_company_id,
                duplicate_window: Duration::hours(i64::from(st.config.ach.duplicate_window_hours)),
            };
            let collection = build_ach_collection(tx, &customer, new, &rules, now).await?;
            insert_collection(tx, &collection).await?;
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
#[utoipa::path(post, path = "/v1/collections/ach", tag = "collections", request_body = CreateCollectionRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    responses((status = 201, body = CollectionView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
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
    responses((status = 200, body = CollectionView, description = "An ACH collection, or a card one (`CardCollectionView`, `rail: card`)"), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let id = parse_id(&id)?;
    let mut tx = state.store.read().await?;
    let customer = auth.customer_id()?;
    if let Ok(c) = tx.get_ach_collection(Some(customer), &id).await {
        return Ok(Json(to_json(&collection_view(&c))?));
    }
    let c = tx
        .get_card_collection(Some(customer), &id)
        .await
        .map_err(|_| ApiError::not_found("collection"))?;
    Ok(Json(to_json(&inflow_engine::view::card_collection_view(
        &c,
    ))?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CollectionListParams {
    pub limit: Option<u32>,
    pub starting_after: Option<String>,
    pub status: Option<String>,
    pub rail: Option<String>,
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<String>,
    pub sec_code: Option<String>,
    pub payment_method_id: Option<String>,
    pub counterparty_id: Option<String>,
    pub external_id: Option<String>,
    pub reference: Option<String>,
    pub trace_number: Option<String>,
    /// RFC 3339
    pub created_from: Option<String>,
    pub created_to: Option<String>,
    /// YYYY-MM-DD
    pub effective_date_from: Option<String>,
    pub effective_date_to: Option<String>,
    /// Card rail (`rail=card`): the card's brand, last 4 digits, or the approval code.
    pub brand: Option<String>,
    pub last4: Option<String>,
    pub approval_code: Option<String>,
}

/// `GET /v1/collections?rail=card…`: card collections with their filters.
async fn list_cards(
    state: &AppState,
    auth: &Auth,
    p: &CollectionListParams,
    page_q: &inflow_store::ListQuery,
) -> ApiResult<ListResponse<serde_json::Value>> {
    use inflow_core::card::{CardBrand, CardStatus, CardTxType};
    let filter = inflow_store::repo::card_collections::CardCollectionFilter {
        status: p
            .status
            .as_deref()
            .map(|s| CardStatus::parse("status", s))
            .transpose()?,
        tx_type: p
            .kind
            .as_deref()
            .map(|s| CardTxType::parse("type", s))
            .transpose()?,
        brand: p
            .brand
            .as_deref()
            .map(|s| CardBrand::parse("brand", s))
            .transpose()?,
        last4: p.last4.clone(),
        approval_code: p.approval_code.clone(),
        payment_method_id: p
            .payment_method_id
            .as_deref()
            .map(|s| PaymentMethodId::parse("paymentMethodId", s))
            .transpose()?,
        external_id: p.external_id.clone(),
        reference: p.reference.clone(),
        created_from: instant("createdFrom", &p.created_from)?,
        created_to: instant("createdTo", &p.created_to)?,
    };
    let page = state
        .store
        .read()
        .await?
        .list_card_collections(auth.customer_id()?, &filter, page_q)
        .await?;
    Ok(ListResponse::from_page(
        page,
        |c| c.id.to_string(),
        |c| serde_json::to_value(inflow_engine::view::card_collection_view(&c)).unwrap_or_default(),
    ))
}

fn day(field: &str, s: &Option<String>) -> ApiResult<Option<NaiveDate>> {
    s.as_deref()
        .map(|v| {
            NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| {
                ApiError::invalid(
                    "invalid_date",
                    format!("{field} must be a date like 2026-12-01"),
                    field,
                )
            })
        })
        .transpose()
}

/// List collections, newest first, with filters.
#[utoipa::path(get, path = "/v1/collections", tag = "collections", params(CollectionListParams),
    responses((status = 200, body = ListResponse<CollectionView>, description = "ACH collections, or with `rail=card` card collections (`CardCollectionView`)"), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<ListResponse<serde_json::Value>>> {
    let p: CollectionListParams = parse_query(q.as_deref())?;
    let page_q = PageParams {
        limit: p.limit,
        starting_after: p.starting_after.clone(),
    }
    .to_query()?;
    if let Some(rail) = p.rail.as_deref() {
        if !matches!(rail, "ach" | "card") {
            return Err(ApiError::invalid(
                "invalid_value",
                "rail must be `ach` or `card`",
                "rail",
            ));
        }
    }
    if p.rail.as_deref() == Some("card") {
        return Ok(Json(list_cards(&state, &auth, &p, &page_q).await?));
    }
    if p.brand.is_some() || p.last4.is_some() || p.approval_code.is_some() {
        return Err(ApiError::invalid(
            "rail_required",
            "brand, last4 and approvalCode filter card collections: add rail=card",
            "rail",
        ));
    }
    let filter = CollectionFilter {
        status: p
            .status
            .as_deref()
            .map(|s| CollectionStatus::parse("status", s))
            .transpose()?,
        rail: p.rail.clone(),
        entry_type: p
            .kind
            .as_deref()
            .map(|s| AchEntryType::parse("type", s))
            .transpose()?,
        sec_code: p
            .sec_code
            .as_deref()
            .map(|s| SecCode::parse("secCode", s))
            .transpose()?,
        payment_method_id: p
            .payment_method_id
            .as_deref()
            .map(|s| PaymentMethodId::parse("paymentMethodId", s))
            .transpose()?,
        counterparty_id: p
            .counterparty_id
            .as_deref()
            .map(|s| CounterpartyId::parse("counterpartyId", s))
            .transpose()?,
        external_id: p.external_id.clone(),
        reference: p.reference.clone(),
        trace_number: p.trace_number.clone(),
        created_from: instant("createdFrom", &p.created_from)?,
        created_to: instant("createdTo", &p.created_to)?,
        effective_from: day("effectiveDateFrom", &p.effective_date_from)?,
        effective_to: day("effectiveDateTo", &p.effective_date_to)?,
    };
    let page = state
        .store
        .read()
        .await?
        .list_ach_collections(auth.customer_id()?, &filter, &page_q)
        .await?;
    Ok(Json(ListResponse::from_page(
        page,
        |c| c.id.to_string(),
        |c| serde_json::to_value(collection_view(&c)).unwrap_or_default(),
    )))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CancelRequest {
    /// Why (kept in the status history).
    pub reason: Option<String>,
}

/// Cancel a collection that is not in a file yet (`scheduled`, `pending` or `on_hold`).
#[utoipa::path(post, path = "/v1/collections/{id}/cancel", tag = "collections", params(("id" = String, Path)), request_body = CancelRequest,
    responses((status = 200, body = CollectionView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
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
            let mut c = tx.get_ach_collection(Some(&customer_id), &id).await.map_err(|_| ApiError::not_found("collection"))?;
            if !c.status.is_cancellable() {
                return Err(ApiError::conflict(
                    "collection_not_cancellable",
                    format!("a {} collection can no longer be cancelled; once in a file only a reversal can undo it", c.status),
                ));
            }
            let before = c.status;
            c.transition(CollectionStatus::Cancelled, Some(reason), now).map_err(|e| ApiError::conflict("collection_not_cancellable", e.to_string()))?;
            tx.update_ach_collection(&c).await?;
            inflow_engine::ledger::on_status_change(tx, before, &c, now).await?;
            inflow_engine::events::status_event(tx, &c, now).await?;
            Ok((StatusCode::OK, to_json(&collection_view(&c))?))
        })
    })
    .await
}
