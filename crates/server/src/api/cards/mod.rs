//! The card rail over HTTP: `POST /v1/collections/card` (sale, authorization,
//! force), `POST /v1/collections/{id}/capture|void|refunds`, and saved cards.

pub mod flow;
pub mod input;
pub mod payment_method;
pub mod processor_info;
pub mod processor_webhooks;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use chrono::Duration;
use inflow_core::card::{CardStatus, CardTxType, Cvc, RefundStatus};
use inflow_core::ids::{CollectionId, PaymentMethodId};
use inflow_core::model::{validate_external_id, validate_metadata};
use inflow_core::text::bounded_text;
use inflow_engine::cards::call::Settled;
use inflow_engine::cards::{reserve, CardError, NewCardCollection};
use inflow_engine::collections::destination::DestinationRef;
use inflow_engine::view::{card_collection_view, refund_view, CardCollectionView, RefundView};
use inflow_store::StoreError;

pub use input::{
    CaptureRequest, CardInput, CreateCardCollectionRequest, RefundRequest, VoidRequest,
};

use crate::api::common::{external_id_conflict, to_json};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::audit::Audit;
use crate::http::auth::Auth;
use crate::http::body::parse_json;
use crate::http::idempotency::WriteRequest;
use crate::state::AppState;
use flow::Reserve;

fn parse_id(id: &str) -> ApiResult<CollectionId> {
    CollectionId::parse("id", id).map_err(|_| ApiError::not_found("collection"))
}

fn optional_body<T: serde::de::DeserializeOwned + Default>(req: &WriteRequest) -> ApiResult<T> {
    if req.body.iter().all(u8::is_ascii_whitespace) {
        Ok(T::default())
    } else {
        parse_json(&req.body)
    }
}

/// Shared by `POST /v1/collections/card` and `POST /v1/collections` with `"rail": "card"`.
pub async fn create_card_collection(
    state: AppState,
    auth: Auth,
    req: WriteRequest,
    rail_required: bool,
) -> ApiResult<Response> {
    let customer_id = auth.customer_id()?.clone();
    inflow_engine::cards::capability::require_enabled(&state.card_processor.capabilities())?;
    let body: CreateCardCollectionRequest = parse_json(&req.body)?;
    match (body.rail.as_deref(), rail_required) {
        (Some("card"), _) | (None, false) => {}
        _ => {
            return Err(ApiError::invalid(
                "invalid_value",
                "rail must be `card` here",
                "rail",
            ))
        }
    }
    let amount = body.amount.parse("amount")?;
    if amount.is_zero() {
        return Err(ApiError::invalid(
            "invalid_amount",
            "a card amount must be above zero",
            "amount.value",
        ));
    }
    if amount.minor() > input::CARD_TRANSACTION_LIMIT_MINOR {
        return Err(ApiError::invalid(
            "amount_over_limit",
            "a card transaction may be at most 24999.99",
            "amount.value",
        ));
    }
    let approval_code = match (body.kind, body.approval_code) {
        (CardTxType::Force, Some(code)) => {
            if code.is_empty() || code.len() > 12 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(ApiError::invalid("invalid_approval_code", "approvalCode must be 1 to 12 letters or digits", "approvalCode"));
            }
            Some(code)
        }
        (CardTxType::Force, None) => {
            return Err(ApiError::invalid("missing_field", "a force needs the approvalCode obtained elsewhere; to capture an Inflow authorization use POST /v1/collections/{id}/capture", "approvalCode"))
        }
        (_, Some(_)) => return Err(ApiError::invalid("unexpected_field", "approvalCode is only for type force", "approvalCode")),
        (_, None) => None,
    };
    let destination = DestinationRef::from_fields(
        body.destination_account_id,
        body.destination_account_external_id,
    )?;
    let pm_ref = match (body.payment_method_id, body.payment_method_external_id) {
        (Some(id), None) => Ok(PaymentMethodId::parse("paymentMethodId", &id)?),
        (None, Some(ext)) => Err(ext),
        _ => {
            return Err(ApiError::invalid(
                "invalid_source",
                "give exactly one of paymentMethodId or paymentMethodExternalId",
                "paymentMethodId",
            ))
        }
    };
    let reference = body
        .reference
        .as_deref()
        .map(|r| bounded_text("reference", r, 1, 100))
        .transpose()?;
    let external_id = body
        .external_id
        .as_deref()
        .map(|e| validate_external_id("externalId", e))
        .transpose()?;
    validate_metadata("metadata", &body.metadata)?;
    let cvc_raw = body.cvc;
    let (kind, metadata, allow_duplicate) = (body.kind, body.metadata, body.allow_duplicate);
    let now = state.clock.now();
    let window = Duration::hours(i64::from(state.config.ach.duplicate_window_hours));
    // The card is read before the reservation so the CVC can be checked
    // against its brand and handed to the processor call.
    let pm = {
        let mut tx = state.store.read().await?;
        let found = match &pm_ref {
            Ok(id) => tx.get_card_payment_method(&customer_id, id).await,
            Err(ext) => {
                tx.get_card_payment_method_by_external_id(&customer_id, ext)
                    .await
            }
        };
        let pm = match found {
            Ok(pm) => pm,
            Err(StoreError::NotFound) => {
                return Err(missing_card(&mut tx, &customer_id, &pm_ref).await)
            }
            Err(e) => return Err(e.into()),
        };
        tx.rollback().await?;
        pm
    };
    let expiry = inflow_core::card::Expiry {
        month: pm.exp_month,
        year: pm.exp_year,
    };
    if expiry.expired_on(now.date_naive()) {
        return Err(
            ApiError::conflict("card_expired", "the saved card has expired")
                .with_param("paymentMethodId"),
        );
    }
    let cvc = cvc_raw
        .as_deref()
        .map(|c| Cvc::parse("cvc", c, pm.brand))
        .transpose()?;
    let capabilities = state.card_processor.capabilities();
    let reserve: Reserve = Box::new(move |tx, requester| {
        Box::pin(async move {
            let account = destination.load(tx, &customer_id).await?;
            destination.refuse_closed(&account)?;
            let new = NewCardCollection {
                customer_id: customer_id.clone(),
                tx_type: kind,
                amount,
                destination_account_id: account.id,
                payment_method: pm,
                approval_code,
                external_id,
                reference,
                metadata,
                duplicate_window: (!allow_duplicate).then_some(window),
                capabilities,
            };
            let (_, call) = reserve::reserve_create(tx, new, requester, now)
                .await
                .map_err(|e| match e {
                    CardError::Store(s) if s.is_conflict() => external_id_conflict("collection")(s),
                    e => e.into(),
                })?;
            Ok(call)
        })
    });
    flow::run(&state, &auth, &req, cvc, reserve, |s| {
        let status = if s.collection.status == CardStatus::Pending {
            StatusCode::ACCEPTED
        } else {
            StatusCode::CREATED
        };
        Ok((status, to_json(&card_collection_view(&s.collection))?))
    })
    .await
}

/// Why no card answered to `pm_ref` (an id, or an external id): the
/// customer's bank account of that id (`409 wrong_rail`), or none (404).
async fn missing_card(
    tx: &mut inflow_store::Tx,
    customer: &inflow_core::ids::CustomerId,
    pm_ref: &Result<PaymentMethodId, String>,
) -> ApiError {
    let (bank, param) = match pm_ref {
        Ok(id) => (
            tx.get_bank_payment_method(customer, id)
                .await
                .map(|pm| pm.id),
            "paymentMethodId",
        ),
        Err(ext) => {
            let filter = inflow_store::repo::payment_methods::PaymentMethodFilter {
                external_id: Some(ext.clone()),
                ..Default::default()
            };
            let first = tx
                .list_bank_payment_methods(customer, &filter, &inflow_store::ListQuery::first(1))
                .await
                .map(|page| page.data.into_iter().next().map(|pm| pm.id));
            let found = match first {
                Ok(Some(id)) => Ok(id),
                Ok(None) => Err(StoreError::NotFound),
                Err(e) => Err(e),
            };
            (found, "paymentMethodExternalId")
        }
    };
    match bank {
        Ok(id) => ApiError::wrong_rail(format!(
            "{id} is a bank account payment method; card collections charge saved cards (use POST /v1/collections/ach to debit a bank account)"
        ))
        .with_param(param),
        Err(StoreError::NotFound) => ApiError::not_found("card payment method").with_param(param),
        Err(e) => e.into(),
    }
}

/// The collection as a call left it: 202 while the processor's answer is awaited.
fn collection_response(s: &Settled) -> ApiResult<(StatusCode, serde_json::Value)> {
    let status = if s.collection.pending_operation.is_some() {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    Ok((status, to_json(&card_collection_view(&s.collection))?))
}

/// Card sale, authorization or force.
///
/// What depends on the configured processor: a `force` with an outside
/// approval code only where the processor offers it (the sandbox does;
/// Stripe does not: `422 capability_not_supported`, `param: type`, naming
/// the processor). Without any processor (production mode without one
/// configured) every card request is `503 card_processing_unavailable`.
#[utoipa::path(post, path = "/v1/collections/card", tag = "collections",
    request_body(content = CreateCardCollectionRequest, example = json!(crate::api::examples::card_sale())),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    responses((status = 201, body = CardCollectionView, example = json!(crate::api::examples::card_collection())), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn create_card(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    req: WriteRequest,
) -> ApiResult<Response> {
    create_card_collection(state, auth, req, false).await
}

/// Capture (force) an authorization: all of it, or less (a partial force).
#[utoipa::path(post, path = "/v1/collections/{id}/capture", tag = "collections", params(("id" = String, Path)), request_body = CaptureRequest,
    responses((status = 200, body = CardCollectionView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn capture(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    req: WriteRequest,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    let customer_id = auth.customer_id()?.clone();
    let body: CaptureRequest = optional_body(&req)?;
    let amount = body.amount.map(|a| a.parse("amount")).transpose()?;
    let now = state.clock.now();
    let reserve: Reserve = Box::new(move |tx, requester| {
        Box::pin(async move {
            let (_, call) =
                reserve::reserve_capture(tx, &customer_id, &id, amount, requester, now).await?;
            Ok(call)
        })
    });
    flow::run(&state, &auth, &req, None, reserve, collection_response).await
}

/// Void an authorization, or a capture before settlement.
#[utoipa::path(post, path = "/v1/collections/{id}/void", tag = "collections", params(("id" = String, Path)), request_body = VoidRequest,
    responses((status = 200, body = CardCollectionView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn void(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    Audit(audit): Audit,
    req: WriteRequest,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    let customer_id = auth.customer_id()?.clone();
    let body: VoidRequest = optional_body(&req)?;
    let reason = body
        .reason
        .as_deref()
        .map(|r| bounded_text("reason", r, 1, 200))
        .transpose()?;
    let now = state.clock.now();
    let reserve: Reserve = Box::new(move |tx, requester| {
        Box::pin(async move {
            let (c, call) =
                reserve::reserve_void(tx, &customer_id, &id, reason, requester, now).await?;
            record_card_request(tx, &audit, "collection.void_requested", &c, &call, now).await?;
            Ok(call)
        })
    });
    flow::run(&state, &auth, &req, None, reserve, collection_response).await
}

/// Refund all or part of a collection (`rfd_…`): a captured card collection through the processor, or a completed ACH debit by an ACH credit entry to the payer's account, filed at the next cutoff (`201`, status `pending`). Refunds never add up to more than was captured or collected (net of earlier refunds not returned). An ACH debit still in flight is `409 collection_in_flight` (operators may pass `allowBeforeCompletion`); a refund that would take the destination account's available balance below zero is `409 insufficient_available_balance` unless the operator allows negative balances for it.
#[utoipa::path(post, path = "/v1/collections/{id}/refunds", tag = "collections", params(("id" = String, Path)),
    request_body(content = RefundRequest, example = json!(crate::api::examples::refund())),
    responses((status = 201, body = RefundView, example = json!(crate::api::examples::refund_view())), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn refund(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    Audit(audit): Audit,
    req: WriteRequest,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    let customer_id = auth.customer_id()?.clone();
    let is_ach = {
        let mut tx = state.store.read().await?;
        let found = match tx.get_ach_collection(Some(&customer_id), &id).await {
            Ok(_) => true,
            Err(StoreError::NotFound) => false,
            Err(e) => return Err(e.into()),
        };
        tx.rollback().await?;
        found
    };
    if is_ach {
        return crate::api::ach_refunds::create(state, auth, id, req).await;
    }
    let body: RefundRequest = optional_body(&req)?;
    if body.allow_before_completion.is_some() {
        return Err(ApiError::invalid(
            "unexpected_field",
            "allowBeforeCompletion applies to ACH refunds only",
            "allowBeforeCompletion",
        ));
    }
    let amount = body.amount.map(|a| a.parse("amount")).transpose()?;
    let reason = body
        .reason
        .as_deref()
        .map(|r| bounded_text("reason", r, 1, 200))
        .transpose()?;
    validate_metadata("metadata", &body.metadata)?;
    let metadata = body.metadata;
    let now = state.clock.now();
    let reserve: Reserve = Box::new(move |tx, requester| {
        Box::pin(async move {
            let ask = reserve::RefundAsk {
                amount,
                reason,
                metadata,
            };
            let (c, call) =
                reserve::reserve_refund(tx, &customer_id, &id, ask, requester, now).await?;
            record_card_request(tx, &audit, "collection.refund_requested", &c, &call, now).await?;
            Ok(call)
        })
    });
    flow::run(&state, &auth, &req, None, reserve, |s| {
        let r = s.refund.as_ref().ok_or_else(ApiError::internal)?;
        let status = if r.status == RefundStatus::Pending {
            StatusCode::ACCEPTED
        } else {
            StatusCode::CREATED
        };
        Ok((status, to_json(&refund_view(r, &s.collection))?))
    })
    .await
}

/// Audit a void or refund when its processor call is reserved (the
/// transaction that commits the request): the collection as it was, and
/// what was asked of the processor.
async fn record_card_request(
    tx: &mut inflow_store::Tx,
    audit: &inflow_engine::audit::AuditContext,
    action: &str,
    c: &inflow_core::card::CardCollection,
    call: &inflow_core::card::ProcessorCall,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), ApiError> {
    let after = serde_json::json!({
        "operation": call.operation.to_string(),
        "amount": call.amount,
        "refundId": call.refund_id.as_ref().map(|r| r.as_str()),
        "reason": call.reason,
        "reference": call.reference,
    });
    audit
        .change(action, "collection", c.id.as_str())
        .before(&serde_json::json!({
            "status": c.status.to_string(),
            "capturedMinor": c.captured_minor,
            "refundedMinor": c.refunded_minor,
        }))
        .after(&after)
        .record(tx, now)
        .await?;
    Ok(())
}
