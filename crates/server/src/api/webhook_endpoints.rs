//! `/v1/webhook-endpoints`: where a customer's events are delivered.
//! Create (the signing secret is shown once), list, get, update (including
//! `status` to disable or enable), delete, and rotate the secret (the old
//! one keeps signing beside the new one for 24 h by default).
//!
//! An operator key naming no customer (no `Inflow-Customer`) manages the
//! operator's own endpoints: they receive operator events (no customer:
//! `api_key.*`, `ach_file.*`) and alerts (`customer.return_rate_exceeded`,
//! `job.stalled`, `ledger.check_failed`, and every `webhook_endpoint.disabled`).

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Json};
use inflow_core::ids::{CustomerId, WebhookEndpointId};
use inflow_core::model::Metadata;
use inflow_core::webhook::{EndpointStatus, EventSelector, WebhookUrl};
use inflow_engine::webhooks::view::{endpoint_view, WebhookEndpointView};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::common::{to_json, ListResponse, PageParams};
use crate::app::webhooks::{
    self as uc, EndpointChanges, NewEndpoint, DEFAULT_ROTATION_OVERLAP_HOURS,
    MAX_ROTATION_OVERLAP_HOURS,
};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::audit::Audit;
use crate::http::auth::Auth;
use crate::http::body::{parse_json, parse_query};
use crate::http::idempotency::{run_write, WriteRequest};
use crate::state::AppState;

/// `"*"` for every event, or a list of types and `resource.*` wildcards.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum EnabledEventsInput {
    #[schema(example = "*")]
    All(String),
    #[schema(example = json!(["collection.completed", "collection.returned"]))]
    List(Vec<String>),
}

fn selector(input: EnabledEventsInput) -> ApiResult<EventSelector> {
    let items = match input {
        EnabledEventsInput::All(s) if s.trim() == "*" => vec!["*".to_owned()],
        EnabledEventsInput::All(_) => {
            return Err(ApiError::invalid(
                "invalid_field",
                "enabledEvents must be \"*\" or a list of event types",
                "enabledEvents",
            ))
        }
        EnabledEventsInput::List(l) => l,
    };
    Ok(EventSelector::parse("enabledEvents", &items)?)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateEndpointRequest {
    /// `https://…` (or `http://…`). Production mode refuses private, loopback
    /// and link-local addresses; sandbox mode allows them.
    #[schema(example = "https://example.com/inflow/webhooks")]
    pub url: String,
    pub enabled_events: EnabledEventsInput,
    pub description: Option<String>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub metadata: Metadata,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateEndpointRequest {
    pub url: Option<String>,
    pub enabled_events: Option<EnabledEventsInput>,
    /// An empty string clears it.
    pub description: Option<String>,
    /// `disabled` stops deliveries; `enabled` resumes them (pending
    /// deliveries are retried at once, with a fresh retry window).
    pub status: Option<EndpointStatus>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Metadata>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RotateSecretRequest {
    /// How long the current secret keeps signing beside the new one: 0 to
    /// 168 hours, default 24. 0 retires it at once (e.g. after a leak).
    pub overlap_hours: Option<u32>,
}

/// An endpoint with its signing secret: returned only by create and rotate.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointWithSecret {
    #[serde(flatten)]
    pub endpoint: WebhookEndpointView,
    /// `whsec_…`: verify `Inflow-Signature` with it. Shown only now.
    pub secret: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeletedEndpoint {
    pub id: String,
    /// Always `webhook_endpoint`.
    pub object: &'static str,
    pub deleted: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EndpointListParams {
    /// 1 to 200, default 50.
    pub limit: Option<u32>,
    pub starting_after: Option<String>,
    /// `enabled` or `disabled`.
    pub status: Option<String>,
}

pub(crate) fn parse_id(id: &str) -> ApiResult<WebhookEndpointId> {
    WebhookEndpointId::parse("id", id).map_err(|_| ApiError::not_found("webhook endpoint"))
}

/// Whose endpoints a request manages: the customer it acts for, or — an
/// operator key naming no customer — the operator's own, which receive
/// operator events and alerts.
fn owner(auth: &Auth) -> Option<CustomerId> {
    auth.customer.as_ref().map(|c| c.id.clone())
}

fn url(state: &AppState, field: &str, s: &str) -> ApiResult<WebhookUrl> {
    Ok(WebhookUrl::parse(field, s, state.config.sandbox)?)
}

/// Create an endpoint. The response's `secret` is shown only this once.
#[utoipa::path(post, path = "/v1/webhook-endpoints", tag = "webhooks",
    request_body(content = CreateEndpointRequest, example = json!(crate::api::examples::create_webhook_endpoint())),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    responses((status = 201, body = EndpointWithSecret, example = json!(crate::api::examples::webhook_endpoint())), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Audit(audit): Audit,
    req: WriteRequest,
) -> ApiResult<Response> {
    let customer = owner(&auth);
    let body: CreateEndpointRequest = parse_json(&req.body)?;
    let new = NewEndpoint {
        url: url(&state, "url", &body.url)?,
        enabled_events: selector(body.enabled_events)?,
        description: body
            .description
            .as_deref()
            .map(|d| uc::description("description", d))
            .transpose()?
            .flatten(),
        metadata: uc::metadata("metadata", body.metadata)?,
    };
    let now = state.clock.now();
    let vault = state.vault.clone();
    run_write(&state, &auth, &req, move |tx| {
        Box::pin(async move {
            let (e, secret) =
                uc::create_endpoint(tx, &vault, customer.as_ref(), new, &audit, now).await?;
            let out = EndpointWithSecret {
                endpoint: endpoint_view(&e, now),
                secret,
            };
            Ok((StatusCode::CREATED, to_json(&out)?))
        })
    })
    .await
}

/// List endpoints, newest first.
#[utoipa::path(get, path = "/v1/webhook-endpoints", tag = "webhooks", params(EndpointListParams),
    responses((status = 200, body = ListResponse<WebhookEndpointView>), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<ListResponse<WebhookEndpointView>>> {
    let p: EndpointListParams = parse_query(q.as_deref())?;
    let page_q = PageParams {
        limit: p.limit,
        starting_after: p.starting_after,
    }
    .to_query()?;
    let status = p
        .status
        .as_deref()
        .map(|s| EndpointStatus::parse("status", s))
        .transpose()?;
    let page = state
        .store
        .read()
        .await?
        .list_webhook_endpoints(owner(&auth).as_ref(), status, &page_q)
        .await?;
    let now = state.clock.now();
    Ok(Json(ListResponse::from_page(
        page,
        |e| e.id.to_string(),
        |e| endpoint_view(&e, now),
    )))
}

/// Get an endpoint (never its secret).
#[utoipa::path(get, path = "/v1/webhook-endpoints/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 200, body = WebhookEndpointView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> ApiResult<Json<WebhookEndpointView>> {
    let id = parse_id(&id)?;
    let e = state
        .store
        .read()
        .await?
        .get_owned_webhook_endpoint(owner(&auth).as_ref(), &id)
        .await
        .map_err(ApiError::not_found_if_missing("webhook endpoint"))?;
    Ok(Json(endpoint_view(&e, state.clock.now())))
}

/// Change an endpoint's URL, events, description or metadata; disable or enable it.
#[utoipa::path(patch, path = "/v1/webhook-endpoints/{id}", tag = "webhooks", params(("id" = String, Path)),
    request_body = UpdateEndpointRequest,
    responses((status = 200, body = WebhookEndpointView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    Audit(audit): Audit,
    req: WriteRequest,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    let customer = owner(&auth);
    let body: UpdateEndpointRequest = parse_json(&req.body)?;
    let changes = EndpointChanges {
        url: body
            .url
            .as_deref()
            .map(|u| url(&state, "url", u))
            .transpose()?,
        enabled_events: body.enabled_events.map(selector).transpose()?,
        description: body
            .description
            .as_deref()
            .map(|d| uc::description("description", d))
            .transpose()?,
        status: body.status,
        metadata: body
            .metadata
            .map(|m| uc::metadata("metadata", m))
            .transpose()?,
    };
    let now = state.clock.now();
    run_write(&state, &auth, &req, move |tx| {
        Box::pin(async move {
            let e = uc::update_endpoint(tx, customer.as_ref(), &id, changes, &audit, now).await?;
            Ok((StatusCode::OK, to_json(&endpoint_view(&e, now))?))
        })
    })
    .await
}

/// Delete an endpoint with its delivery log. Pending deliveries are dropped.
#[utoipa::path(delete, path = "/v1/webhook-endpoints/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 200, body = DeletedEndpoint), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    Audit(audit): Audit,
    req: WriteRequest,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    let customer = owner(&auth);
    let now = state.clock.now();
    run_write(&state, &auth, &req, move |tx| {
        Box::pin(async move {
            let e = uc::delete_endpoint(tx, customer.as_ref(), &id, &audit, now).await?;
            let out = DeletedEndpoint {
                id: e.id.to_string(),
                object: "webhook_endpoint",
                deleted: true,
            };
            Ok((StatusCode::OK, to_json(&out)?))
        })
    })
    .await
}

/// Replace the signing secret. The new `secret` is shown only in this
/// response; the old one keeps signing (a second `v1=`) for `overlapHours`.
#[utoipa::path(post, path = "/v1/webhook-endpoints/{id}/rotate-secret", tag = "webhooks",
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    request_body = RotateSecretRequest,
    responses((status = 200, body = EndpointWithSecret), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    Audit(audit): Audit,
    req: WriteRequest,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    let customer = owner(&auth);
    let body: RotateSecretRequest = if req.body.iter().all(u8::is_ascii_whitespace) {
        RotateSecretRequest::default()
    } else {
        parse_json(&req.body)?
    };
    let overlap = body.overlap_hours.unwrap_or(DEFAULT_ROTATION_OVERLAP_HOURS);
    if overlap > MAX_ROTATION_OVERLAP_HOURS {
        return Err(ApiError::invalid(
            "invalid_value",
            format!("overlapHours must be between 0 and {MAX_ROTATION_OVERLAP_HOURS}"),
            "overlapHours",
        ));
    }
    let now = state.clock.now();
    let vault = state.vault.clone();
    run_write(&state, &auth, &req, move |tx| {
        Box::pin(async move {
            let (e, secret) =
                uc::rotate_secret(tx, &vault, customer.as_ref(), &id, overlap, &audit, now).await?;
            let out = EndpointWithSecret {
                endpoint: endpoint_view(&e, now),
                secret,
            };
            Ok((StatusCode::OK, to_json(&out)?))
        })
    })
    .await
}
