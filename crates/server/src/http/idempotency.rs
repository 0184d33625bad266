//! Writes with `Idempotency-Key`.
//!
//! A POST's effect runs through [`run_write`]. With a key, the effect and the
//! stored response commit in **one** transaction, so a key is recorded if
//! and only if its effect happened, and nothing is left to clean up when a
//! request fails or the process dies. A replay returns the stored status and
//! body byte for byte with `Idempotent-Replayed: true`; the same key with a
//! different request is a 422; the same key while the first request is still
//! running is a 409 with `Retry-After` (detected on this node by an
//! in-process set, and across PostgreSQL nodes by a transaction-scoped
//! advisory lock). A request that fails changes nothing and leaves its key
//! unused, so a corrected retry may reuse it.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use inflow_core::crypto::{sha256, Vault};
use inflow_store::Tx;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use crate::error::{ApiError, ApiResult, ErrorType};
use crate::http::auth::Auth;
use crate::state::AppState;

pub const MAX_KEY_LEN: usize = 255;

/// Idempotency keys whose first request is running on this node.
#[derive(Debug, Default)]
pub struct InFlight(Mutex<HashSet<String>>);

/// Removes its key from the in-flight set when dropped.
pub struct InFlightGuard {
    set: Arc<InFlight>,
    entry: String,
}

impl InFlight {
    /// Mark `scope`/`key` as running; `None` if it already is.
    pub fn enter(self: &Arc<Self>, scope: &str, key: &str) -> Option<InFlightGuard> {
        let entry = format!("{scope}\u{1f}{key}");
        let mut set = self.0.lock().unwrap_or_else(|p| p.into_inner());
        set.insert(entry.clone()).then(|| InFlightGuard {
            set: self.clone(),
            entry,
        })
    }
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        let mut set = self.set.0.lock().unwrap_or_else(|p| p.into_inner());
        set.remove(&self.entry);
    }
}

/// The effect of a write: the store's unit of work, failing with an [`ApiError`].
pub type TxFuture<'t, T> = inflow_store::WriteFuture<'t, T, ApiError>;

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
                    None => {
                        return Err(ApiError::invalid(
                            "invalid_idempotency_key",
                            format!(
                            "Idempotency-Key must be 1 to {MAX_KEY_LEN} printable ASCII characters"
                        ),
                            "Idempotency-Key",
                        ))
                    }
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

enum Outcome {
    Done(StatusCode, String),
    Busy,
}

fn replay_or_mismatch(
    vault: &Vault,
    scope: &str,
    key: &str,
    fingerprint: &[u8],
    stored_hash: Vec<u8>,
    status: u16,
    stored: &str,
) -> ApiResult<Response> {
    if stored_hash != fingerprint {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorType::IdempotencyError,
            "idempotency_key_reused",
            "this Idempotency-Key was already used with a different request",
        )
        .with_param("Idempotency-Key"));
    }
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    Ok(json_response(
        status,
        open_stored(vault, scope, key, stored)?,
        true,
    ))
}

/// Run a write's effect in one transaction, idempotently when the request has a key.
///
/// The effect runs through [`inflow_store::Store::write`]: it must only touch
/// the database (on SQLite it shares a group commit with concurrent writes).
pub async fn run_write<F>(
    state: &AppState,
    auth: &Auth,
    req: &WriteRequest,
    effect: F,
) -> ApiResult<Response>
where
    F: for<'t> FnOnce(&'t mut Tx) -> TxFuture<'t, (StatusCode, serde_json::Value)> + Send + 'static,
{
    let Some(key) = req.key.clone() else {
        let (status, value) = state.store.write(effect).await?;
        return Ok(json_response(status, value.to_string().into_bytes(), false));
    };

    let scope = auth.idempotency_scope();
    let _running = match claim(state, &scope, &key, &req.fingerprint).await? {
        Claim::Replay(r) => return Ok(r),
        Claim::Fresh(guard) => guard,
    };
    let now = state.clock.now();
    let expires_at = now + Duration::hours(i64::from(state.config.idempotency_ttl_hours));
    let fingerprint = req.fingerprint.clone();
    let vault = state.vault.clone();
    let (scope2, key2) = (scope.clone(), key.clone());
    let outcome = state
        .store
        .write(move |tx: &mut Tx| -> TxFuture<'_, Outcome> {
            Box::pin(async move {
                let (scope, key) = (scope2, key2);
                if !tx.try_lock_idempotency_key(&scope, &key).await? {
                    return Ok(Outcome::Busy);
                }
                let (status, value) = effect(tx).await?;
                let body = value.to_string();
                let record = ResponseRecord {
                    scope: &scope,
                    key: &key,
                    fingerprint: &fingerprint,
                    now,
                    expires_at,
                };
                record.save(tx, &vault, status, &body).await?;
                Ok(Outcome::Done(status, body))
            })
        })
        .await?;

    match outcome {
        Outcome::Done(status, body) => Ok(json_response(status, body.into_bytes(), false)),
        Outcome::Busy => Err(in_flight(1)),
    }
}

/// A keyed request, once it may run.
pub(crate) enum Claim {
    /// The key's request already finished: its stored response.
    Replay(Response),
    /// Not finished: this node runs it while the guard lives.
    Fresh(InFlightGuard),
}

/// Mark `key` as running on this node (409 if it already is), unless its
/// request already finished, whose response is replayed (422 if the key was
/// used for another request).
pub(crate) async fn claim(
    state: &AppState,
    scope: &str,
    key: &str,
    fingerprint: &[u8],
) -> ApiResult<Claim> {
    let guard = state
        .in_flight
        .enter(scope, key)
        .ok_or_else(|| in_flight(1))?;
    Ok(match find_replay(state, scope, key, fingerprint).await? {
        Some(r) => Claim::Replay(r),
        None => Claim::Fresh(guard),
    })
}

/// The stored response of a finished request with this key, replayed — or
/// a 422 if the key was used for a different request. Read on a reader: no
/// write lock for replays.
async fn find_replay(
    state: &AppState,
    scope: &str,
    key: &str,
    fingerprint: &[u8],
) -> ApiResult<Option<Response>> {
    let now = state.clock.now();
    let Some(done) = state
        .store
        .read()
        .await?
        .find_idempotency_record(scope, key, now)
        .await?
    else {
        return Ok(None);
    };
    replay_or_mismatch(
        &state.vault,
        scope,
        key,
        fingerprint,
        done.request_hash,
        done.response_status,
        &done.response_body,
    )
    .map(Some)
}

/// Where a keyed request's response is recorded.
pub(crate) struct ResponseRecord<'a> {
    pub scope: &'a str,
    pub key: &'a str,
    pub fingerprint: &'a [u8],
    pub now: chrono::DateTime<chrono::Utc>,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

impl ResponseRecord<'_> {
    /// Record the response in `tx`, sealed. Another node may have finished
    /// the same key meanwhile: the insert then conflicts (409, retry) and
    /// the caller's transaction is rolled back.
    pub(crate) async fn save(
        &self,
        tx: &mut Tx,
        vault: &Vault,
        status: StatusCode,
        body: &str,
    ) -> ApiResult<()> {
        let stored = seal_stored(vault, self.scope, self.key, body.as_bytes());
        tx.insert_idempotency_record(
            self.scope,
            self.key,
            self.fingerprint,
            status.as_u16(),
            &stored,
            self.now,
            self.expires_at,
        )
        .await
        .map_err(|e| {
            if e.is_conflict() {
                in_flight(1)
            } else {
                e.into()
            }
        })
    }
}

/// Stored responses can hold secrets shown once (a new API key) and personal
/// data, so they are sealed like any other sensitive value.
fn seal_stored(vault: &Vault, scope: &str, key: &str, body: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .encode(vault.seal(body, &format!("idem:{scope}:{key}")))
}

fn open_stored(vault: &Vault, scope: &str, key: &str, stored: &str) -> ApiResult<Vec<u8>> {
    use base64::Engine;
    let sealed = base64::engine::general_purpose::STANDARD
        .decode(stored)
        .map_err(|_| ApiError::internal())?;
    vault
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
