//! Reversals (operator): `POST /v1/collections/{id}/reversal` and
//! `POST /v1/ach/files/{id}/reversal` — NACHA reversing entries for
//! erroneous debits, filed at the next cutoff (`inflow_engine::credits::reversals`
//! has the rules: reasons, the five-banking-day window, what is refused).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use inflow_core::ids::CollectionId;
use inflow_engine::credits::reversals::{parse_reason, reverse_collection, reverse_file};
use inflow_engine::view::{reversal_view, ReversalView};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::common::to_json;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::auth::Auth;
use crate::http::body::parse_json;
use crate::http::idempotency::{run_write, WriteRequest};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReversalRequest {
    /// Why the entry was erroneous: `duplicate`, `wrong_receiver`, `wrong_amount` or `wrong_date`.
    pub reason: Option<String>,
}

/// A file's reversal: one reversing entry per debit, filed together in one reversing file.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FileReversalView {
    /// Always `file_reversal`.
    pub object: &'static str,
    /// The file reversed.
    pub file_id: String,
    pub reason: String,
    pub reversals: Vec<ReversalView>,
}

fn body(req: &WriteRequest) -> ApiResult<ReversalRequest> {
    if req.body.iter().all(u8::is_ascii_whitespace) {
        Ok(ReversalRequest::default())
    } else {
        parse_json(&req.body)
    }
}

/// Reverse an erroneous ACH debit (operator): a credit entry of the same amount, SEC code and company, description `REVERSAL`, filed at the next cutoff; the collection becomes `reversed` then. Only within five banking days after its settlement date (`409 reversal_window_closed` names the last day); a returned collection is `409 collection_returned`.
#[utoipa::path(post, path = "/v1/collections/{id}/reversal", tag = "collections", params(("id" = String, Path)),
    request_body = ReversalRequest,
    responses((status = 201, body = ReversalView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn reverse_one(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    req: WriteRequest,
) -> ApiResult<Response> {
    auth.require_admin()?;
    let id = CollectionId::parse("id", &id).map_err(|_| ApiError::not_found("collection"))?;
    let reason = parse_reason(body(&req)?.reason.as_deref())?;
    let now = state.clock.now();
    let cal = state.ach.calendar.clone();
    run_write(&state, &auth, &req, move |tx| {
        Box::pin(async move {
            let r = reverse_collection(tx, &cal, &id, &reason, now).await?;
            Ok((StatusCode::CREATED, to_json(&reversal_view(&r))?))
        })
    })
    .await
}

/// Reverse a whole erroneous outbound file (operator): every debit in it gets a reversing entry, filed together in one reversing file at the next cutoff. Refused (`409`) when any of its debits cannot be reversed, naming them.
#[utoipa::path(post, path = "/v1/ach/files/{id}/reversal", tag = "ach", params(("id" = String, Path)),
    request_body = ReversalRequest,
    responses((status = 201, body = FileReversalView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn reverse_whole_file(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    req: WriteRequest,
) -> ApiResult<Response> {
    auth.require_admin()?;
    let reason = parse_reason(body(&req)?.reason.as_deref())?;
    let now = state.clock.now();
    let cal = state.ach.calendar.clone();
    run_write(&state, &auth, &req, move |tx| {
        Box::pin(async move {
            let rs = reverse_file(tx, &cal, &id, &reason, now).await?;
            let view = FileReversalView {
                object: "file_reversal",
                file_id: id,
                reason,
                reversals: rs.iter().map(reversal_view).collect(),
            };
            Ok((StatusCode::CREATED, to_json(&view)?))
        })
    })
    .await
}
