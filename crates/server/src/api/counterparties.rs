//! `/v1/counterparties`: the payers a customer collects from.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Json};
use inflow_core::ids::CounterpartyId;
use inflow_core::model::{
    validate_email, validate_external_id, validate_metadata, Counterparty, CounterpartyKind,
    Metadata,
};
use inflow_core::text::bounded_text;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::common::{external_id_conflict, time, to_json, ListResponse, PageParams};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::auth::Auth;
use crate::http::body::{parse_json, parse_query};
use crate::http::idempotency::{run_write, WriteRequest};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateCounterpartyRequest {
    pub name: String,
    pub kind: CounterpartyKind,
    pub email: Option<String>,
    /// Your own id for this payer; unique per customer.
    pub external_id: Option<String>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub metadata: Metadata,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateCounterpartyRequest {
    pub name: Option<String>,
    pub kind: Option<CounterpartyKind>,
    pub email: Option<String>,
    pub external_id: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Metadata>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CounterpartyListParams {
    pub limit: Option<u32>,
    pub starting_after: Option<String>,
    pub external_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CounterpartyResponse {
    pub id: String,
    /// Always `counterparty`.
    pub object: &'static str,
    pub customer_id: String,
    pub name: String,
    pub kind: CounterpartyKind,
    pub email: Option<String>,
    pub external_id: Option<String>,
    #[schema(value_type = Object)]
    pub metadata: Metadata,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Counterparty> for CounterpartyResponse {
    fn from(c: Counterparty) -> Self {
        Self {
            id: c.id.to_string(),
            object: "counterparty",
            customer_id: c.customer_id.to_string(),
            name: c.name,
            kind: c.kind,
            email: c.email,
            external_id: c.external_id,
            metadata: c.metadata,
            created_at: time(c.created_at),
            updated_at: time(c.updated_at),
        }
    }
}

/// Create a counterparty.
#[utoipa::path(post, path = "/v1/counterparties", tag = "counterparties", request_body = CreateCounterpartyRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    responses((status = 201, body = CounterpartyResponse), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    req: WriteRequest,
) -> ApiResult<Response> {
    let customer_id = auth.customer_id()?.clone();
    let body: CreateCounterpartyRequest = parse_json(&req.body)?;
    validate_metadata("metadata", &body.metadata)?;
    let now = state.clock.now();
    let cpt = Counterparty {
        id: CounterpartyId::generate(now),
        customer_id,
        name: bounded_text("name", &body.name, 1, 200)?,
        kind: body.kind,
        email: body
            .email
            .as_deref()
            .map(|e| validate_email("email", e))
            .transpose()?,
        external_id: body
            .external_id
            .as_deref()
            .map(|e| validate_external_id("externalId", e))
            .transpose()?,
        metadata: body.metadata,
        created_at: now,
        updated_at: now,
    };
    run_write(&state, &auth, &req, move |tx| {
        Box::pin(async move {
            tx.insert_counterparty(&cpt)
                .await
                .map_err(external_id_conflict("counterparty"))?;
            Ok((
                StatusCode::CREATED,
                to_json(&CounterpartyResponse::from(cpt))?,
            ))
        })
    })
    .await
}

/// List counterparties, newest first; `externalId` finds one by your own id.
#[utoipa::path(get, path = "/v1/counterparties", tag = "counterparties", params(CounterpartyListParams),
    responses((status = 200, body = ListResponse<CounterpartyResponse>)))]
pub async fn list(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<ListResponse<CounterpartyResponse>>> {
    let params: CounterpartyListParams = parse_query(q.as_deref())?;
    let page_q = PageParams {
        limit: params.limit,
        starting_after: params.starting_after,
    }
    .to_query()?;
    let page = state
        .store
        .read()
        .await?
        .list_counterparties(auth.customer_id()?, params.external_id.as_deref(), &page_q)
        .await?;
    Ok(Json(ListResponse::from_page(
        page,
        |c| c.id.to_string(),
        CounterpartyResponse::from,
    )))
}

fn parse_id(id: &str) -> ApiResult<CounterpartyId> {
    CounterpartyId::parse("id", id).map_err(|_| ApiError::not_found("counterparty"))
}

/// Get a counterparty.
#[utoipa::path(get, path = "/v1/counterparties/{id}", tag = "counterparties", params(("id" = String, Path)),
    responses((status = 200, body = CounterpartyResponse), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> ApiResult<Json<CounterpartyResponse>> {
    let id = parse_id(&id)?;
    let c = state
        .store
        .read()
        .await?
        .get_counterparty(auth.customer_id()?, &id)
        .await
        .map_err(ApiError::not_found_if_missing("counterparty"))?;
    Ok(Json(c.into()))
}

/// Update a counterparty.
#[utoipa::path(patch, path = "/v1/counterparties/{id}", tag = "counterparties", params(("id" = String, Path)), request_body = UpdateCounterpartyRequest,
    responses((status = 200, body = CounterpartyResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    req: WriteRequest,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    let customer_id = auth.customer_id()?.clone();
    let body: UpdateCounterpartyRequest = parse_json(&req.body)?;
    let now = state.clock.now();
    run_write(&state, &auth, &req, move |tx| {
        Box::pin(async move {
            let mut c = tx
                .get_counterparty(&customer_id, &id)
                .await
                .map_err(ApiError::not_found_if_missing("counterparty"))?;
            if let Some(name) = body.name {
                c.name = bounded_text("name", &name, 1, 200)?;
            }
            if let Some(kind) = body.kind {
                c.kind = kind;
            }
            if let Some(email) = body.email {
                c.email = Some(validate_email("email", &email)?);
            }
            if let Some(ext) = body.external_id {
                c.external_id = Some(validate_external_id("externalId", &ext)?);
            }
            if let Some(m) = body.metadata {
                validate_metadata("metadata", &m)?;
                c.metadata = m;
            }
            c.updated_at = now;
            tx.update_counterparty(&c)
                .await
                .map_err(external_id_conflict("counterparty"))?;
            Ok((StatusCode::OK, to_json(&CounterpartyResponse::from(c))?))
        })
    })
    .await
}
