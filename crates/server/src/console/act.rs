//! How console pages call the API's own handler functions: the signed-in
//! operator becomes the handler's [`Auth`] (an operator key, acting for a
//! customer when the action needs one) and its [`Audit`] (actor `console`
//! with the key id); a write gets a [`WriteRequest`] without an
//! idempotency key (the confirmation page is the guard against a double
//! submit). The handler's JSON answer is read back as a value to render.

use axum::response::Response;
use inflow_core::ids::CustomerId;
use inflow_core::model::ApiKeyRole;

use crate::console::session::Operator;
use crate::error::{ApiError, ApiResult};
use crate::http::audit::Audit;
use crate::http::auth::Auth;
use crate::http::idempotency::WriteRequest;
use crate::state::AppState;

/// The operator acting for nobody in particular.
pub fn operator(op: &Operator) -> Auth {
    Auth {
        key_id: op.key_id.clone(),
        role: ApiKeyRole::Admin,
        customer: None,
    }
}

/// The operator acting for `customer` (as `Inflow-Customer` would name it).
pub async fn acting_for(state: &AppState, op: &Operator, customer: &str) -> ApiResult<Auth> {
    let id = CustomerId::parse("customer", customer)?;
    let c = state
        .auth_cache
        .customer(&state.store, &id)
        .await
        .map_err(ApiError::not_found_if_missing("customer"))?;
    Ok(Auth {
        customer: Some(c),
        ..operator(op)
    })
}

/// The audit context of a console action for `auth`'s customer.
pub fn audit(op: &Operator, auth: &Auth) -> Audit {
    let mut ctx = op.audit.0.clone();
    ctx.customer_id = auth.customer.as_ref().map(|c| c.id.clone());
    Audit(ctx)
}

/// A JSON body as a write request.
pub fn write(body: serde_json::Value) -> WriteRequest {
    let bytes = body.to_string().into_bytes();
    WriteRequest {
        key: None,
        fingerprint: inflow_core::crypto::sha256(&bytes),
        body: bytes.into(),
    }
}

/// A handler's JSON answer as a value.
pub async fn json(res: Response) -> ApiResult<serde_json::Value> {
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .map_err(|_| ApiError::internal())?;
    serde_json::from_slice(&bytes).map_err(|_| ApiError::internal())
}
