//! `POST /v1/collections/{id}/refunds` for an ACH collection: a refund by
//! ACH credit entry to the payer's account, filed at the next cutoff
//! (`inflow_engine::credits::refunds` has the rules). The route is shared
//! with card refunds (`api::cards::refund`), which hands ACH collections
//! here.

use axum::http::StatusCode;
use axum::response::Response;
use inflow_core::ids::CollectionId;
use inflow_core::model::validate_metadata;
use inflow_core::text::bounded_text;
use inflow_engine::credits::refunds::{create_ach_refund, AchRefundAsk};
use inflow_engine::credits::CreditError;
use inflow_engine::view::ach_refund_view;

use crate::api::cards::RefundRequest;
use crate::api::common::to_json;
use crate::error::{ApiError, ApiResult};
use crate::http::auth::Auth;
use crate::http::body::parse_json;
use crate::http::idempotency::{run_write, WriteRequest};
use crate::state::AppState;

impl From<CreditError> for ApiError {
    fn from(e: CreditError) -> Self {
        match e {
            CreditError::Store(s) => s.into(),
            CreditError::NotFound(what) => ApiError::not_found(what),
            CreditError::Conflict { code, message } => ApiError::conflict(code, message),
            CreditError::Invalid {
                code,
                message,
                param,
            } => ApiError::invalid(code, message, param),
        }
    }
}

/// Refund ACH collection `id` (after the caller found it is one).
pub async fn create(
    state: AppState,
    auth: Auth,
    id: CollectionId,
    req: WriteRequest,
) -> ApiResult<Response> {
    let customer_id = auth.customer_id()?.clone();
    let body: RefundRequest = if req.body.iter().all(u8::is_ascii_whitespace) {
        RefundRequest::default()
    } else {
        parse_json(&req.body)?
    };
    let amount = body.amount.map(|a| a.parse("amount")).transpose()?;
    let reason = body
        .reason
        .as_deref()
        .map(|r| bounded_text("reason", r, 1, 200))
        .transpose()?;
    validate_metadata("metadata", &body.metadata)?;
    let before_completion = body.allow_before_completion.unwrap_or(false);
    if before_completion && !auth.is_admin() {
        return Err(ApiError::forbidden(
            "admin_key_required",
            "allowBeforeCompletion is an operator override",
        ));
    }
    let ask = AchRefundAsk {
        amount,
        reason,
        metadata: body.metadata,
        before_completion,
    };
    let now = state.clock.now();
    run_write(&state, &auth, &req, move |tx| {
        Box::pin(async move {
            let (r, c) = create_ach_refund(tx, &customer_id, &id, ask, now).await?;
            Ok((StatusCode::CREATED, to_json(&ach_refund_view(&r, &c))?))
        })
    })
    .await
}
