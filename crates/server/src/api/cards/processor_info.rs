//! `GET /v1/card-processor`: which card processor this node uses and what
//! it offers, so a client can tell in advance what a request will be
//! refused for (`capability_not_supported`, `card_processing_unavailable`).

use axum::extract::State;
use axum::{Extension, Json};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiResult, ErrorBody};
use crate::http::auth::Auth;
use crate::state::AppState;

/// What the processor offers beyond sales, authorizations, captures
/// (partial too), voids and refunds (partial, several), which every
/// processor does.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CapabilitiesView {
    /// `type: force` with an `approvalCode` obtained elsewhere; otherwise
    /// 422 `capability_not_supported`.
    pub force_with_approval_code: bool,
}

/// The card processor of this node.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CardProcessorView {
    /// Always `card_processor`.
    pub object: &'static str,
    /// `sandbox`, `stripe` or `none`.
    pub processor: &'static str,
    /// False: card processing is off (production mode without a processor)
    /// and every card request answers 503 `card_processing_unavailable`.
    pub enabled: bool,
    pub capabilities: CapabilitiesView,
}

/// The card processor and its capabilities.
#[utoipa::path(get, path = "/v1/card-processor", tag = "collections",
    responses((status = 200, body = CardProcessorView), (status = 401, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Extension(_auth): Extension<Auth>,
) -> ApiResult<Json<CardProcessorView>> {
    let caps = state.card_processor.capabilities();
    Ok(Json(CardProcessorView {
        object: "card_processor",
        processor: caps.processor,
        enabled: caps.enabled,
        capabilities: CapabilitiesView {
            force_with_approval_code: caps.force_with_approval_code,
        },
    }))
}
