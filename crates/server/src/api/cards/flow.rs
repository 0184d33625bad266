//! How an HTTP card operation runs: reserve → call → confirm (see
//! `inflow_engine::cards`), with the request's `Idempotency-Key` bound to
//! the processor call it reserved.
//!
//! - A retry with the same key finds that call: if the processor answered
//!   meanwhile it gets the result; if not, the same call is made again with
//!   the same reference (the processor answers it once) — never a second
//!   charge.
//! - A call left without an answer answers `202 Accepted` with the object
//!   as it stands (`pending`, or `pendingOperation` set); the
//!   reconciliation job or a retry finishes it.
//! - An answered call's response is recorded for replays in the same
//!   transaction as the answer.

use axum::http::StatusCode;
use axum::response::Response;
use chrono::Duration;
use inflow_core::card::{CallRequester, CallState, Cvc, ProcessorCall};
use inflow_engine::cards::call::{make_call, make_first_call, record_attempt, Settled};
use inflow_store::Tx;

use crate::error::{ApiError, ApiResult, ErrorType};
use crate::http::auth::Auth;
use crate::http::idempotency::{
    claim, json_response, Claim, ResponseRecord, TxFuture, WriteRequest,
};
use crate::state::AppState;

/// Reserve the operation's processor call in the given transaction.
pub type Reserve = Box<
    dyn for<'t> FnOnce(&'t mut Tx, Option<CallRequester>) -> TxFuture<'t, ProcessorCall> + Send,
>;

/// The response for the state a call left things in.
pub type Respond = fn(&Settled) -> ApiResult<(StatusCode, serde_json::Value)>;

fn refused(message: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_GATEWAY,
        ErrorType::ApiError,
        "processor_refused",
        format!("the card processor refused the operation: {message}"),
    )
}

/// Run one card operation end to end.
pub async fn run(
    state: &AppState,
    auth: &Auth,
    req: &WriteRequest,
    cvc: Option<Cvc>,
    reserve: Reserve,
    respond: Respond,
) -> ApiResult<Response> {
    inflow_engine::cards::capability::require_enabled(&state.card_processor.capabilities())
        .map_err(ApiError::from)?;
    let requester = req.key.as_ref().map(|key| CallRequester {
        scope: auth.idempotency_scope(),
        key: key.clone(),
        request_hash: hex::encode(&req.fingerprint),
    });
    let _running = match &requester {
        Some(r) => match claim(state, &r.scope, &r.key, &req.fingerprint).await? {
            Claim::Replay(replay) => return Ok(replay),
            Claim::Fresh(guard) => Some(guard),
        },
        None => None,
    };

    // 1. Reserve (or find the call an earlier try with this key reserved).
    let ttl = Duration::hours(i64::from(state.config.idempotency_ttl_hours));
    let since = state.clock.now() - ttl;
    let found = requester.clone();
    // `fresh`: reserved by this request, so never attempted before.
    let (call, fresh) = state
        .store
        .write(move |tx: &mut Tx| -> TxFuture<'_, (ProcessorCall, bool)> {
            Box::pin(async move {
                if let Some(r) = &found {
                    if let Some(call) = tx.processor_call_for_key(&r.scope, &r.key, since).await? {
                        if call.requester.as_ref().map(|c| &c.request_hash) != Some(&r.request_hash)
                        {
                            return Err(ApiError::new(
                                StatusCode::UNPROCESSABLE_ENTITY,
                                ErrorType::IdempotencyError,
                                "idempotency_key_reused",
                                "this Idempotency-Key was already used with a different request",
                            )
                            .with_param("Idempotency-Key"));
                        }
                        return Ok((call, false));
                    }
                }
                Ok((reserve(tx, found).await?, true))
            })
        })
        .await?;

    // 2. Call the processor, unless the answer is already in.
    let attempt = if call.state == CallState::Pending {
        let (store, processor, vault) = (&state.store, state.card_processor.as_ref(), &state.vault);
        Some(if fresh {
            make_first_call(store, processor, vault, &call, cvc.as_ref()).await?
        } else {
            make_call(store, processor, vault, &call, cvc.as_ref()).await?
        })
    } else {
        None
    };

    // 3. Commit the answer and the response together.
    let cfg = state.cards.clone();
    let vault = state.vault.clone();
    let now = state.clock.now();
    let expires_at = now + ttl;
    let fingerprint = req.fingerprint.clone();
    let outcome = state
        .store
        .write(
            move |tx: &mut Tx| -> TxFuture<'_, Result<(StatusCode, String), String>> {
                Box::pin(async move {
                    let settled = record_attempt(tx, &cfg, call, attempt, now).await?;
                    if let Some(m) = settled.refusal() {
                        return Ok(Err(m.to_owned()));
                    }
                    let (status, value) = respond(&settled)?;
                    let body = value.to_string();
                    if let (Some(r), true) = (&requester, status != StatusCode::ACCEPTED) {
                        let record = ResponseRecord {
                            scope: &r.scope,
                            key: &r.key,
                            fingerprint: &fingerprint,
                            now,
                            expires_at,
                        };
                        record.save(tx, &vault, status, &body).await?;
                    }
                    Ok(Ok((status, body)))
                })
            },
        )
        .await?;
    match outcome {
        Ok((status, body)) => Ok(json_response(status, body.into_bytes(), false)),
        Err(message) => Err(refused(&message)),
    }
}
