//! Refunds as resources: `GET /v1/refunds/{id}` and
//! `GET /v1/collections/{id}/refunds`, card refunds and ACH refunds (credit
//! entries) alike. A refund is made by `POST /v1/collections/{id}/refunds`
//! (`api::cards::refund`, which hands ACH collections to
//! `api::ach_refunds`); every refund is scoped to its customer, so another
//! customer's refund is `404`.

use axum::extract::{Path, RawQuery, State};
use axum::{Extension, Json};
use inflow_core::ids::{CollectionId, RefundId};
use inflow_engine::view::{ach_refund_view, refund_view, RefundView};
use inflow_store::repo::ach_credits::KIND_REFUND;
use inflow_store::StoreError;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::common::{ListResponse, PageParams};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::auth::Auth;
use crate::http::body::parse_query;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RefundListParams {
    pub limit: Option<u32>,
    pub starting_after: Option<String>,
}

/// Get a refund.
#[utoipa::path(get, path = "/v1/refunds/{id}", tag = "collections", operation_id = "get_refund", params(("id" = String, Path)),
    responses((status = 200, body = RefundView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> ApiResult<Json<RefundView>> {
    let id = RefundId::parse("id", &id).map_err(|_| ApiError::not_found("refund"))?;
    let customer = auth.customer_id()?;
    let mut tx = state.store.read().await?;
    let r = match tx.get_card_refund(&id).await {
        Ok(r) => r,
        Err(StoreError::NotFound) => {
            let e = tx
                .get_ach_credit_entry(id.as_str())
                .await
                .map_err(ApiError::not_found_if_missing("refund"))?;
            if &e.customer_id != customer || e.kind != KIND_REFUND {
                return Err(ApiError::not_found("refund"));
            }
            let c = tx
                .get_ach_collection(Some(customer), &e.collection_id)
                .await?;
            return Ok(Json(ach_refund_view(&e, &c)));
        }
        Err(e) => return Err(e.into()),
    };
    if &r.customer_id != customer {
        return Err(ApiError::not_found("refund"));
    }
    let c = tx
        .get_card_collection(Some(customer), &r.collection_id)
        .await?;
    Ok(Json(refund_view(&r, &c)))
}

/// List a collection's refunds (card or ACH), newest first.
#[utoipa::path(get, path = "/v1/collections/{id}/refunds", tag = "collections", operation_id = "list_refunds", params(("id" = String, Path), RefundListParams),
    responses((status = 200, body = ListResponse<RefundView>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<ListResponse<RefundView>>> {
    let id = CollectionId::parse("id", &id).map_err(|_| ApiError::not_found("collection"))?;
    let params: RefundListParams = parse_query(q.as_deref())?;
    let page_q = PageParams {
        limit: params.limit,
        starting_after: params.starting_after,
    }
    .to_query()?;
    let customer = auth.customer_id()?;
    let mut tx = state.store.read().await?;
    let c = match tx.get_card_collection(Some(customer), &id).await {
        Ok(c) => c,
        Err(StoreError::NotFound) => {
            let c = tx
                .get_ach_collection(Some(customer), &id)
                .await
                .map_err(ApiError::not_found_if_missing("collection"))?;
            let page = tx.list_ach_refunds_page(customer, &id, &page_q).await?;
            return Ok(Json(ListResponse::from_page(
                page,
                |r| r.id.clone(),
                |r| ach_refund_view(&r, &c),
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let page = tx.list_card_refunds_page(customer, &id, &page_q).await?;
    Ok(Json(ListResponse::from_page(
        page,
        |r| r.id.to_string(),
        |r| refund_view(&r, &c),
    )))
}
