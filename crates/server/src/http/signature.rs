//! Checking a request's signature (`X-Signature`, `X-Timestamp`, `X-Nonce`)
//! and accepting each signature once.
//!
//! The string a v2 signature covers is defined in
//! [`inflow_core::request_signature`]. v1 (bare hex) covers neither
//! `Idempotency-Key` nor `Inflow-Customer`, so a v1 request carrying either
//! could be re-sent under another key or for another customer: such a
//! request is refused, and v1 is accepted at all only while
//! `accept_v1_signatures` allows it (sandbox mode by default). Accepted v1
//! requests are answered with an `Inflow-Signature-Deprecated` header.

use axum::http::request::Parts;
use axum::http::HeaderMap;
use inflow_core::crypto::sha256;
use inflow_core::model::ApiKey;
use inflow_core::request_signature::{
    is_valid_nonce, parse_signature_header, BodyVerifier, SignatureHeader, SignedRequest,
    MAX_NONCE_LEN,
};

use crate::error::{ApiError, ApiResult};
use crate::http::auth::CUSTOMER_HEADER;
use crate::http::replay::Verdict;
use crate::state::AppState;

/// The response header telling a client its v1 signature is deprecated.
pub const V1_DEPRECATION_HEADER: &str = "inflow-signature-deprecated";

/// What the v2 signature covers, for error messages.
const V2_RECIPE: &str = "X-Signature must be v2=<hex HMAC-SHA256> of \
    \"v2\\n<X-Timestamp>\\n<X-Nonce>\\n<METHOD>\\n<path?query>\\n<Idempotency-Key>\\n<Inflow-Customer>\\n<body>\" \
    (absent headers as empty lines) under the key's signing secret";

/// A signature that verified and had not been seen before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    V1,
    V2,
}

fn unauthenticated(code: &str, message: impl Into<String>) -> ApiError {
    ApiError::unauthenticated(code, message)
}

/// A header as text; absent is empty, and a value that is not visible
/// ASCII cannot have been signed as documented.
fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> ApiResult<&'a str> {
    match headers.get(name) {
        None => Ok(""),
        Some(v) => v.to_str().map_err(|_| {
            unauthenticated(
                "signature_invalid",
                format!("the {name} header must be printable ASCII to be signed"),
            )
        }),
    }
}

/// Check the signature if one is sent, or refuse when `required` and none
/// is; `None` when the request is unsigned (and may be).
pub async fn check(
    state: &AppState,
    api_key: &ApiKey,
    parts: &Parts,
    body: &[u8],
    required: bool,
) -> ApiResult<Option<Accepted>> {
    match begin(state, api_key, parts, required)? {
        None => Ok(None),
        Some(mut pending) => {
            pending.update(body);
            pending.finish(state, api_key).await.map(Some)
        }
    }
}

/// A signature whose headers checked out, waiting for the body (which may
/// arrive in pieces: an upload streamed to disk).
pub struct Pending {
    signature: SignatureHeader,
    verifier: BodyVerifier,
    ts: i64,
}

impl Pending {
    /// The next bytes of the body.
    pub fn update(&mut self, bytes: &[u8]) {
        self.verifier.update(bytes);
    }

    /// Verify over the whole body fed, and accept the signature once.
    pub async fn finish(self, state: &AppState, api_key: &ApiKey) -> ApiResult<Accepted> {
        if !self.verifier.finish() {
            return Err(unauthenticated(
                "signature_invalid",
                match self.signature {
                    SignatureHeader::V1(_) => "X-Signature (v1) does not match: expected hex HMAC-SHA256 of \"timestamp\\nMETHOD\\npath?query\\nbody\" under the key's signing secret; v1 is deprecated, use v2",
                    SignatureHeader::V2(_) => V2_RECIPE,
                },
            ));
        }
        remember(state, api_key, &self.signature, self.ts).await?;
        Ok(match self.signature {
            SignatureHeader::V1(_) => Accepted::V1,
            SignatureHeader::V2(_) => Accepted::V2,
        })
    }
}

/// Check everything but the body: the signature header, timestamp and
/// nonce, and that a v1 signature may be used; `None` when the request is
/// unsigned (and may be).
pub fn begin(
    state: &AppState,
    api_key: &ApiKey,
    parts: &Parts,
    required: bool,
) -> ApiResult<Option<Pending>> {
    let Some(signature) = parts.headers.get("x-signature") else {
        return if required {
            Err(unauthenticated(
                "signature_missing",
                "this key requires signed requests: send X-Timestamp, X-Nonce and X-Signature: v2=…",
            ))
        } else {
            Ok(None)
        };
    };
    let signature = signature
        .to_str()
        .ok()
        .map(parse_signature_header)
        .ok_or_else(|| unauthenticated("signature_invalid", V2_RECIPE))?
        .map_err(|e| unauthenticated("signature_invalid", e.to_string()))?;
    let (timestamp, ts) = fresh_timestamp(state, &parts.headers)?;
    let nonce = header_text(&parts.headers, "x-nonce")?;
    if parts.headers.contains_key("x-nonce") && !is_valid_nonce(nonce) {
        return Err(unauthenticated(
            "nonce_invalid",
            format!("X-Nonce must be 1 to {MAX_NONCE_LEN} visible ASCII characters"),
        ));
    }
    let request = SignedRequest {
        timestamp,
        nonce,
        method: parts.method.as_str(),
        path_and_query: parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/"),
        idempotency_key: header_text(&parts.headers, "idempotency-key")?,
        customer: header_text(&parts.headers, CUSTOMER_HEADER)?,
        body: b"",
    };
    if let SignatureHeader::V1(_) = signature {
        v1_allowed(state, &request)?;
    }
    let secret = signing_secret(state, api_key)?;
    let verifier = signature.verifier(&secret, &request);
    Ok(Some(Pending {
        signature,
        verifier,
        ts,
    }))
}

/// `X-Timestamp` as sent and as a number, within the tolerance of the wall clock.
fn fresh_timestamp<'a>(state: &AppState, headers: &'a HeaderMap) -> ApiResult<(&'a str, i64)> {
    let timestamp = headers
        .get("x-timestamp")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            unauthenticated(
                "signature_missing",
                "X-Signature needs an X-Timestamp header",
            )
        })?;
    let ts: i64 = timestamp
        .parse()
        .map_err(|_| unauthenticated("timestamp_invalid", "X-Timestamp must be unix seconds"))?;
    let now = state.wall_clock.now().timestamp();
    let tolerance = state.config.signature_tolerance_secs;
    if (now - ts).abs() > tolerance {
        return Err(unauthenticated(
            "timestamp_out_of_range",
            format!(
                "X-Timestamp is {}s from the server's time; allowed: ±{tolerance}s",
                now - ts
            ),
        ));
    }
    Ok((timestamp, ts))
}

fn v1_allowed(state: &AppState, request: &SignedRequest<'_>) -> ApiResult<()> {
    if !state.config.v1_signatures_accepted() {
        return Err(unauthenticated(
            "signature_v1_refused",
            "this server accepts only v2 signatures: send X-Signature: v2=<hex> (see the README)",
        ));
    }
    if !request.idempotency_key.is_empty() || !request.customer.is_empty() {
        return Err(unauthenticated(
            "signature_v1_refused",
            "a v1 signature does not cover Idempotency-Key or Inflow-Customer, so a request carrying either must be signed with v2",
        ));
    }
    Ok(())
}

fn signing_secret(state: &AppState, api_key: &ApiKey) -> ApiResult<String> {
    let secret = state
        .vault
        .open(&api_key.signing_secret_sealed, api_key.id.as_str())
        .map_err(|_| {
            tracing::error!(key_id = %api_key.id, "signing secret cannot be decrypted with the configured master key");
            ApiError::internal()
        })?;
    String::from_utf8(secret).map_err(|_| ApiError::internal())
}

/// Accept this signature once: remembered before the handler runs, whatever
/// the handler then does.
async fn remember(
    state: &AppState,
    api_key: &ApiKey,
    signature: &SignatureHeader,
    ts: i64,
) -> ApiResult<()> {
    let mut material = Vec::with_capacity(80);
    material.extend_from_slice(b"inflow/seen-signature\0");
    material.extend_from_slice(api_key.id.as_str().as_bytes());
    material.push(0);
    material.push(signature.version());
    material.extend_from_slice(signature.mac());
    let digest: [u8; 32] = sha256(&material)
        .try_into()
        .map_err(|_| ApiError::internal())?;
    let verdict = state
        .replay
        .admit(
            &digest,
            ts,
            state.config.signature_tolerance_secs,
            state.wall_clock.now(),
        )
        .await?;
    match verdict {
        Verdict::Fresh => Ok(()),
        Verdict::Replayed => Err(unauthenticated(
            "signature_replayed",
            "this signature was already accepted once; sign every request afresh (new X-Timestamp and X-Nonce), retries included",
        )),
        Verdict::TooOld => Err(unauthenticated(
            "timestamp_out_of_range",
            "X-Timestamp is older than this server can check for replays (it restarted a moment ago, or its replay memory is full); sign the request again with the current time",
        )),
    }
}
