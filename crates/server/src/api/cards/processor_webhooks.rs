//! `POST /v1/processors/stripe/webhooks`: Stripe's events about disputes
//! (`charge.dispute.created|updated|closed`). Public (Stripe holds no
//! Inflow key) but accepted only with a valid `Stripe-Signature` made with
//! the endpoint's signing secret (`[cards.stripe] webhook_secret`). Each
//! dispute is applied once, however often Stripe sends it (and whether
//! the reconciliation job saw it first).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use inflow_engine::cards::disputes::{self, Applied};
use inflow_engine::cards::stripe::{self as stripe_connector, signature};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, ErrorBody, ErrorType};
use crate::state::AppState;

/// How far a signature's timestamp may be from now.
const TOLERANCE_SECS: i64 = 300;

/// The event was received (and applied if it concerned a dispute).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookReceived {
    pub received: bool,
    /// `applied`, `unchanged`, `ignored` (not a dispute event, or a payment
    /// Inflow does not know), or `not_disputable`.
    pub result: &'static str,
}

fn bad_signature(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        ErrorType::InvalidRequestError,
        "invalid_signature",
        e.to_string(),
    )
    .with_param("Stripe-Signature")
}

/// Receive a Stripe event (disputes).
#[utoipa::path(post, path = "/v1/processors/stripe/webhooks", tag = "collections", security(),
    params(("Stripe-Signature" = String, Header, description = "Stripe's signature of the body")),
    request_body(content = String, content_type = "application/json", description = "A Stripe event"),
    responses((status = 200, body = WebhookReceived), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn stripe_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<WebhookReceived>> {
    // A request without a signature is refused as such, configured or not.
    let header = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| bad_signature("the Stripe-Signature header is missing"))?;
    let secret = state
        .config
        .cards
        .stripe
        .webhook_secret
        .as_deref()
        .filter(|_| state.card_processor.capabilities().processor == stripe_connector::PROCESSOR)
        .ok_or_else(|| ApiError::not_found("Stripe webhook endpoint (not configured)"))?;
    let now = state.wall_clock.now().timestamp();
    signature::verify(header, &body, secret, now, TOLERANCE_SECS).map_err(bad_signature)?;
    let event: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|_| ApiError::invalid("invalid_json", "the event is not JSON", "body"))?;
    let Some(report) = stripe_connector::disputes::report_from_event(&event) else {
        return Ok(Json(WebhookReceived {
            received: true,
            result: "ignored",
        }));
    };
    let at = state.clock.now();
    let applied = state
        .store
        .write(move |tx| Box::pin(async move { disputes::apply(tx, &report, at).await }))
        .await
        .map_err(ApiError::from)?;
    let result = match applied {
        Applied::Opened | Applied::Closed(_) | Applied::OpenedAndClosed(_) => "applied",
        Applied::Nothing => "unchanged",
        Applied::UnknownPayment => "ignored",
        Applied::NotDisputable(status) => {
            tracing::warn!(%status, "Stripe reported a dispute on a collection that cannot be disputed");
            "not_disputable"
        }
        // Stripe retries a webhook that failed.
        Applied::Busy => {
            return Err(ApiError::unavailable(
                "the collection is waiting for a processor answer; retry shortly",
            ))
        }
    };
    Ok(Json(WebhookReceived {
        received: true,
        result,
    }))
}
