//! Authentication of `/v1` requests: the bearer API key, the customer the
//! request acts for, and (when present or required) the request signature
//! (checked in [`crate::http::signature`]). A signature is required when the
//! key says so, when its customer does, or — for operator keys — when
//! `require_signed_operator_requests` is on (production mode's default).
//!
//! The body is buffered here, once, because the signature covers it; the
//! handler receives the same bytes. A bank file uploaded to
//! `POST /v1/ach/inbound` is streamed to disk instead ([`upload`]), after
//! the operator check, and the signature checked as it streams.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use inflow_core::crypto::api_key_hash;
use inflow_core::ids::{ApiKeyId, CustomerId};
use inflow_core::model::{ApiKeyRole, Customer, CustomerStatus};
use inflow_store::StoreError;

use crate::error::{ApiError, ApiResult};
use crate::http::body::body_too_large;
use crate::http::signature::{self, Accepted, V1_DEPRECATION_HEADER};
use crate::http::upload;
use crate::state::AppState;

pub const CUSTOMER_HEADER: &str = "inflow-customer";

/// Who is calling, and for which customer.
#[derive(Debug, Clone)]
pub struct Auth {
    pub key_id: ApiKeyId,
    pub role: ApiKeyRole,
    /// The key's own customer, or the one an operator key named in `Inflow-Customer`.
    pub customer: Option<Customer>,
}

impl Auth {
    pub fn is_admin(&self) -> bool {
        self.role == ApiKeyRole::Admin
    }

    pub fn require_admin(&self) -> ApiResult<()> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "admin_key_required",
                "this endpoint needs an operator (admin) API key",
            ))
        }
    }

    /// The customer this request acts for.
    pub fn customer(&self) -> ApiResult<&Customer> {
        self.customer.as_ref().ok_or_else(|| {
            ApiError::invalid(
                "customer_context_required",
                "operator keys must name the customer they act for in the Inflow-Customer header",
                "Inflow-Customer",
            )
        })
    }

    pub fn customer_id(&self) -> ApiResult<&CustomerId> {
        self.customer().map(|c| &c.id)
    }

    /// Idempotency keys are scoped to the customer (or to the operator when
    /// an admin key acts for nobody in particular).
    pub fn idempotency_scope(&self) -> String {
        match &self.customer {
            Some(c) => c.id.to_string(),
            None => "operator".to_owned(),
        }
    }
}

pub async fn authenticate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let checked = check(&state, req).await;
    if let Ok((req, _)) = &checked {
        record_customer(req);
    }
    match checked {
        Ok((req, false)) => next.run(req).await,
        Ok((req, true)) => {
            let mut response = next.run(req).await;
            response.headers_mut().insert(
                V1_DEPRECATION_HEADER,
                HeaderValue::from_static(
                    "v1 signatures are deprecated; sign with X-Signature: v2=<hex> (see the README)",
                ),
            );
            response
        }
        Err(e) => e.into_response(),
    }
}

/// The customer the request acts for, as the request span's `customer_id`
/// (see [`crate::http::access_log`]).
fn record_customer(req: &Request) {
    let customer = req
        .extensions()
        .get::<Auth>()
        .and_then(|a| a.customer.as_ref());
    if let Some(c) = customer {
        tracing::Span::current().record("customer_id", tracing::field::display(&c.id));
    }
}

/// The authenticated request, and whether it was signed the deprecated (v1) way.
async fn check(state: &AppState, req: Request) -> ApiResult<(Request, bool)> {
    let (mut parts, body) = req.into_parts();
    let key = bearer_token(&parts.headers)?;

    let api_key = state
        .auth_cache
        .api_key(&state.store, &api_key_hash(key))
        .await?
        .ok_or_else(|| ApiError::unauthenticated("api_key_invalid", "the API key is not valid"))?;
    if api_key.revoked_at.is_some() {
        return Err(ApiError::unauthenticated(
            "api_key_revoked",
            "the API key has been revoked",
        ));
    }

    let named = match parts.headers.get(CUSTOMER_HEADER) {
        Some(v) => {
            let s = v.to_str().map_err(|_| bad_customer_header())?;
            Some(CustomerId::parse("Inflow-Customer", s)?)
        }
        None => None,
    };
    let customer_id = match (&api_key.role, &api_key.customer_id, named) {
        (ApiKeyRole::Customer, Some(own), Some(named)) if &named != own => {
            return Err(ApiError::forbidden(
                "customer_mismatch",
                "a customer key can only act for its own customer",
            ))
        }
        (ApiKeyRole::Customer, own, _) => own.clone(),
        (ApiKeyRole::Admin, _, named) => named,
    };
    let customer = match customer_id {
        Some(id) => match state.auth_cache.customer(&state.store, &id).await {
            Ok(c) => Some(c),
            Err(StoreError::NotFound) => {
                return Err(ApiError::not_found("customer").with_param("Inflow-Customer"));
            }
            Err(e) => return Err(e.into()),
        },
        None => None,
    };

    if api_key.role == ApiKeyRole::Customer {
        if let Some(c) = &customer {
            if c.status == CustomerStatus::Suspended {
                return Err(ApiError::forbidden(
                    "customer_suspended",
                    "this customer is suspended",
                ));
            }
        }
    }

    let signature_required = api_key.require_signed_requests
        || match api_key.role {
            ApiKeyRole::Customer => customer.as_ref().is_some_and(|c| c.require_signed_requests),
            ApiKeyRole::Admin => state.config.operator_requests_must_be_signed(),
        };
    let auth = Auth {
        key_id: api_key.id.clone(),
        role: api_key.role,
        customer,
    };
    if parts.method == axum::http::Method::POST && parts.uri.path() == upload::UPLOAD_PATH {
        // Only operators upload bank files: refused before a byte is stored.
        auth.require_admin()?;
        let mut pending = signature::begin(state, &api_key, &parts, signature_required)?;
        let file = upload::stream_to_file(
            body,
            &state.config.data_dir.join("ach").join("uploads"),
            state.config.ach.max_inbound_file_bytes,
            pending.as_mut(),
        )
        .await?;
        let accepted = match pending {
            Some(p) => Some(p.finish(state, &api_key).await?),
            None => None,
        };
        parts.extensions.insert(auth);
        parts.extensions.insert(std::sync::Arc::new(file));
        return Ok((
            Request::from_parts(parts, Body::empty()),
            accepted == Some(Accepted::V1),
        ));
    }

    let limit = state.config.max_body_bytes;
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| body_too_large(limit))?;
    let accepted = signature::check(state, &api_key, &parts, &bytes, signature_required).await?;

    parts.extensions.insert(auth);
    Ok((
        Request::from_parts(parts, Body::from(bytes)),
        accepted == Some(Accepted::V1),
    ))
}

fn bearer_token(headers: &HeaderMap) -> ApiResult<&str> {
    let value = headers.get("authorization").ok_or_else(|| {
        ApiError::unauthenticated(
            "api_key_missing",
            "send your API key as `Authorization: Bearer <key>`",
        )
    })?;
    value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            ApiError::unauthenticated(
                "api_key_missing",
                "the Authorization header must be `Bearer <key>`",
            )
        })
}

fn bad_customer_header() -> ApiError {
    ApiError::invalid(
        "invalid_id",
        "Inflow-Customer must be a customer id (cus_…)",
        "Inflow-Customer",
    )
}
