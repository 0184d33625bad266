//! Writes with `Idempotency-Key`.
//!
//! A POST's effect runs through [`run_write`]: with a key, the key is claimed
//! first; the effect and the stored response then commit in one
//! transaction. A replay returns the stored status and body byte for byte
//! with `Idempotent-Replayed: true`; the same key with a different request
//! is a 422; the same key while the first request still runs is a 409 with
//! `Retry-After`. A request that fails (4xx or 5xx) changes nothing and
//! gives its key back, so a corrected retry may reuse it.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use inflow_core::crypto::sha256;
use inflow_store::repo::idempotency::Claim;
use inflow_store::Tx;
use std::future::Future;
use std::pin::Pin;

use crate::error::{ApiError, ApiResult, ErrorType};
use crate::http::auth::Auth;
use crate::state::AppState;

pub const MAX_KEY_LEN: usize = 255;
/// How long a claim is held before another request may take it over.
const LOCK_FOR_SECS: i64 = 60;

pub type TxFuture<'t, T> = Pin<Box<dyn Future<Output = ApiResult<T>> + Send + 't>>;

/// A POST body with its idempotency key and request fingerprint.
pub struct WriteRequest {
    pub key: Option<String>,
    pub fingerprint: Vec<u8>,
    pub body: Bytes,
}

impl<S: Send + Sync> FromRequest<S> for WriteRequest {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let key = match req.headers().get("idempotency-key") {
            None => None,
            Some(v) => {
                let k = v.to_str().ok().filter(|k| {
                    !k.is_empty()
                        && k.len() <= MAX_KEY_LEN
                        && k.bytes().all(|b| b.is_ascii_graphic())
                });
                match k {
                    Some(k) => Some(k.to_owned()),
                    None => return Err(ApiError::invalid(
                        "invalid_idempotency_key",
                        format!(
                            "Idempotency-Key must be 1 to {MAX_KEY_LEN} printable ASCII characters"
                        ),
                        "Idempotency-Key",
                    )),
                }
            }
        };
        let method = req.method().as_str().to_owned();
        let path = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default();
        let body = Bytes::from_request(req, state).await.map_err(|_| {
            ApiError::invalid(
                "unreadable_body",
                "the request body could not be read",
                "body",
            )
        })?;
        // Hash the canonical JSON when there is one, so whitespace and key
        // order do not make a retry look like a different request.
        let canonical = serde_json::from_slice::<serde_json::Value>(&body)
            .map(|v| canonical_json(v).to_string().into_bytes())
            .unwrap_or_else(|_| body.to_vec());
        let mut material = Vec::with_capacity(method.len() + path.len() + canonical.len() + 2);
        material.extend_from_slice(method.as_bytes());
        material.push(b'\n');
        material.extend_from_slice(path.as_bytes());
        material.push(b'\n');
        material.extend_from_slice(&canonical);
        Ok(Self {
            key,
            fingerprint: sha256(&material),
            body,
        })
    }
}

/// The same JSON with every object's keys sorted.
fn canonical_json(v: serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<_> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, canonical_json(v)))
                    .collect(),
            )
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(canonical_json).collect())
        }
        other => other,
    }
}

/// Run a write's effect in one transaction, idempotently when the request has a key.
pub async fn run_write<F>(
    state: &AppState,
    auth: &Auth,
    req: &WriteRequest,
    effect: F,
) -> ApiResult<Response>
where
    F: for<'t> FnOnce(&'t mut Tx) -> TxFuture<'t, (StatusCode, serde_json::Value)> + Send,
{
    let Some(key) = &req.key else {
        let mut tx = state.store.begin().await?;
        let (status, value) = effect(&mut tx).await?;
        tx.commit().await?;
        return Ok(json_response(status, value.to_string().into_bytes(), false));
    };

    let scope = auth.idempotency_scope();
    let now = state.clock.now();
    let keep_for = Duration::hours(i64::from(state.config.idempotency_ttl_hours));
    let mut claim_tx = state.store.begin().await?;
    let claim = claim_tx
        .claim_idempotency_key(
            &scope,
            key,
            &req.fingerprint,
            now,
            Duration::seconds(LOCK_FOR_SECS),
            keep_for,
        )
        .await?;
    claim_tx.commit().await?;

    let token = match claim {
        Claim::Acquired { token } => token,
        Claim::Replay { status, body } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            return Ok(json_response(
                status,
                open_stored(state, &scope, key, &body)?,
                true,
            ));
        }
        Claim::Mismatch => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorType::IdempotencyError,
                "idempotency_key_reused",
                "this Idempotency-Key was already used with a different request",
            )
            .with_param("Idempotency-Key"))
        }
        Claim::InFlight { retry_after_secs } => return Err(in_flight(retry_after_secs)),
    };

    let outcome = async {
        let mut tx = state.store.begin().await?;
        let (status, value) = effect(&mut tx).await?;
        let body = value.to_string();
        let stored = seal_stored(state, &scope, key, body.as_bytes());
        if !tx
            .complete_idempotency_key(&scope, key, &token, status.as_u16(), &stored)
            .await?
        {
            // Our claim expired and another request took the key over.
            return Err(in_flight(1));
        }
        tx.commit().await?;
        Ok::<_, ApiError>((status, body))
    }
    .await;

    match outcome {
        Ok((status, body)) => Ok(json_response(status, body.into_bytes(), false)),
        Err(e) => {
            if let Ok(mut tx) = state.store.begin().await {
                if tx
                    .release_idempotency_key(&scope, key, &token)
                    .await
                    .is_ok()
                {
                    let _ = tx.commit().await;
                }
            }
            Err(e)
        }
    }
}

/// Stored responses can hold secrets shown once (a new API key) and personal
/// data, so they are sealed like any other sensitive value.
fn seal_stored(state: &AppState, scope: &str, key: &str, body: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .encode(state.vault.seal(body, &format!("idem:{scope}:{key}")))
}

fn open_stored(state: &AppState, scope: &str, key: &str, stored: &str) -> ApiResult<Vec<u8>> {
    use base64::Engine;
    let sealed = base64::engine::general_purpose::STANDARD
        .decode(stored)
        .map_err(|_| ApiError::internal())?;
    state
        .vault
        .open(&sealed, &format!("idem:{scope}:{key}"))
        .map_err(|_| {
            tracing::error!(
                "stored idempotent response cannot be decrypted with the configured master key"
            );
            ApiError::internal()
        })
}

fn in_flight(retry_after_secs: u64) -> ApiError {
    let mut e = ApiError::new(
        StatusCode::CONFLICT,
        ErrorType::IdempotencyError,
        "idempotency_key_in_flight",
        "a request with this Idempotency-Key is still being processed; retry shortly",
    )
    .with_param("Idempotency-Key");
    e.retry_after = Some(retry_after_secs);
    e
}

pub fn json_response(status: StatusCode, body: Vec<u8>, replayed: bool) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if replayed {
        resp.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::canonical_json;
    use serde_json::json;

    #[test]
    fn canonical_json_ignores_key_order_at_every_depth() {
        let a = canonical_json(json!({"b": 1, "a": {"y": [ {"d": 1, "c": 2} ], "x": 2}}));
        let b = canonical_json(json!({"a": {"x": 2, "y": [ {"c": 2, "d": 1} ]}, "b": 1}));
        assert_eq!(a.to_string(), b.to_string());
        assert_ne!(
            canonical_json(json!({"a": [1, 2]})).to_string(),
            canonical_json(json!({"a": [2, 1]})).to_string()
        );
    }
}
