//! `/v1/api-keys`: issuing, listing and revoking keys.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Json};
use inflow_core::ids::{ApiKeyId, CustomerId};
use inflow_core::model::{ApiKey, ApiKeyRole};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::common::{time, to_json, ListResponse, PageParams};
use crate::app::api_keys::{
    issue_api_key, revoke_api_key, IssueKeyError, IssuedKey, KeyRequest, RevokeKeyError,
};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::audit::Audit;
use crate::http::auth::Auth;
use crate::http::body::{parse_json, parse_query};
use crate::http::idempotency::{run_write, WriteRequest};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateApiKeyRequest {
    /// A label for people, e.g. "billing service".
    pub name: Option<String>,
    /// `customer` (default) or `admin` (operator keys only).
    pub role: Option<ApiKeyRole>,
    /// The customer the key belongs to; defaults to the customer the request acts for.
    pub customer_id: Option<String>,
    /// Refuse this key's unsigned requests (operator keys too). Default false.
    #[serde(default)]
    pub require_signed_requests: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyResponse {
    pub id: String,
    /// Always `api_key`.
    pub object: &'static str,
    pub name: String,
    pub role: ApiKeyRole,
    pub customer_id: Option<String>,
    /// The first characters of the key, to tell keys apart.
    pub prefix: String,
    /// Unsigned requests with this key are refused.
    pub require_signed_requests: bool,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

impl From<ApiKey> for ApiKeyResponse {
    fn from(k: ApiKey) -> Self {
        Self {
            id: k.id.to_string(),
            object: "api_key",
            name: k.name,
            role: k.role,
            customer_id: k.customer_id.map(|c| c.to_string()),
            prefix: k.prefix,
            require_signed_requests: k.require_signed_requests,
            created_at: time(k.created_at),
            revoked_at: k.revoked_at.map(time),
        }
    }
}

/// A new key. `key` and `signingSecret` are shown only in this response.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedApiKeyResponse {
    #[serde(flatten)]
    pub api_key: ApiKeyResponse,
    /// The secret API key, for `Authorization: Bearer`.
    pub key: String,
    /// The secret for `X-Signature` request signatures.
    pub signing_secret: String,
}

impl From<IssuedKey> for CreatedApiKeyResponse {
    fn from(k: IssuedKey) -> Self {
        Self {
            api_key: k.api_key.into(),
            key: k.secret_key,
            signing_secret: k.signing_secret,
        }
    }
}

impl From<IssueKeyError> for ApiError {
    fn from(e: IssueKeyError) -> Self {
        match e {
            IssueKeyError::Invalid(v) => v.into(),
            IssueKeyError::Store(inflow_store::StoreError::NotFound) => {
                ApiError::not_found("customer").with_param("customerId")
            }
            IssueKeyError::Store(s) => s.into(),
        }
    }
}

/// Issue an API key. Operator keys can issue keys for any customer, and
/// admin keys; a customer's keys can issue keys for their own customer only
/// if the operator granted it (`canManageApiKeys`), else
/// `403 api_key_management_not_allowed`. Writes an `api_key.created` event.
#[utoipa::path(post, path = "/v1/api-keys", tag = "api-keys", request_body = CreateApiKeyRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    responses((status = 201, body = CreatedApiKeyResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Audit(audit): Audit,
    req: WriteRequest,
) -> ApiResult<Response> {
    if !auth.is_admin() && !auth.customer()?.can_manage_api_keys {
        return Err(ApiError::forbidden(
            "api_key_management_not_allowed",
            "this customer's keys may not issue API keys; the operator can allow it with canManageApiKeys",
        ));
    }
    let body: CreateApiKeyRequest = parse_json(&req.body)?;
    let role = body.role.unwrap_or(ApiKeyRole::Customer);
    let customer_id = match role {
        ApiKeyRole::Admin => {
            auth.require_admin()?;
            if body.customer_id.is_some() {
                return Err(ApiError::invalid(
                    "not_allowed",
                    "admin keys do not belong to a customer",
                    "customerId",
                ));
            }
            None
        }
        ApiKeyRole::Customer => Some(match body.customer_id {
            Some(id) => {
                let id = CustomerId::parse("customerId", &id)?;
                if !auth.is_admin() && auth.customer_id()? != &id {
                    return Err(ApiError::not_found("customer").with_param("customerId"));
                }
                id
            }
            None => auth.customer_id()?.clone(),
        }),
    };
    let key_request = KeyRequest {
        role,
        customer_id,
        name: body.name.unwrap_or_else(|| "API key".to_owned()),
        sandbox: state.config.sandbox,
        fixed_key: None,
        fixed_signing_secret: None,
        require_signed_requests: body.require_signed_requests,
        audit,
    };
    let now = state.clock.now();
    let vault = state.vault.clone();
    run_write(&state, &auth, &req, move |tx| {
        Box::pin(async move {
            let issued = issue_api_key(tx, &vault, key_request, now).await?;
            tracing::info!(key_id = %issued.api_key.id, role = %issued.api_key.role, "API key issued");
            Ok((StatusCode::CREATED, to_json(&CreatedApiKeyResponse::from(issued))?))
        })
    })
    .await
}

/// List keys: the acting customer's, or (operator without `Inflow-Customer`) the admin keys.
#[utoipa::path(get, path = "/v1/api-keys", tag = "api-keys", params(PageParams),
    responses((status = 200, body = ListResponse<ApiKeyResponse>)))]
pub async fn list(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<ListResponse<ApiKeyResponse>>> {
    let params: PageParams = parse_query(q.as_deref())?;
    let customer = auth.customer.as_ref().map(|c| &c.id);
    let page = state
        .store
        .read()
        .await?
        .list_api_keys(customer, &params.to_query()?)
        .await?;
    Ok(Json(ListResponse::from_page(
        page,
        |k| k.id.to_string(),
        ApiKeyResponse::from,
    )))
}

async fn visible_key(state: &AppState, auth: &Auth, id: &str) -> ApiResult<ApiKey> {
    let id = ApiKeyId::parse("id", id).map_err(|_| ApiError::not_found("API key"))?;
    let scope = if auth.is_admin() {
        None
    } else {
        Some(auth.customer_id()?)
    };
    state
        .store
        .read()
        .await?
        .get_api_key(&id, scope)
        .await
        .map_err(ApiError::not_found_if_missing("API key"))
}

/// Get a key (never its secret).
#[utoipa::path(get, path = "/v1/api-keys/{id}", tag = "api-keys", params(("id" = String, Path)),
    responses((status = 200, body = ApiKeyResponse), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> ApiResult<Json<ApiKeyResponse>> {
    Ok(Json(visible_key(&state, &auth, &id).await?.into()))
}

/// Revoke a key; it stops working at once. The last active admin key cannot
/// be revoked. Writes an `api_key.revoked` event.
#[utoipa::path(post, path = "/v1/api-keys/{id}/revoke", tag = "api-keys", params(("id" = String, Path)),
    responses((status = 200, body = ApiKeyResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
    Audit(audit): Audit,
    req: WriteRequest,
) -> ApiResult<Response> {
    let key = visible_key(&state, &auth, &id).await?;
    let now = state.clock.now();
    let response = run_write(&state, &auth, &req, move |tx| {
        Box::pin(async move {
            let key = revoke_api_key(tx, &key, &audit, now)
                .await
                .map_err(|e| match e {
                    RevokeKeyError::LastAdminKey => ApiError::conflict(
                        "last_admin_key",
                        "the last active admin key cannot be revoked; issue another first",
                    ),
                    RevokeKeyError::Store(s) => s.into(),
                })?;
            Ok((StatusCode::OK, to_json(&ApiKeyResponse::from(key))?))
        })
    })
    .await;
    state.auth_cache.invalidate();
    response
}
