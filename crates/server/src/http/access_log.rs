//! One log line per request: method, route, status, latency, request id.
//! Headers and bodies are never logged (they carry keys and account numbers).
//!
//! The route template (`/v1/customers/{id}`) is only known once the router
//! has matched, inside the outer layers; [`record_route`] runs as a route
//! layer and writes it into a slot that [`log_request`] left in the request.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use crate::http::request_id::RequestId;

#[derive(Clone, Default)]
struct RouteSlot(Arc<OnceLock<String>>);

pub async fn log_request(mut req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let slot = RouteSlot::default();
    req.extensions_mut().insert(slot.clone());
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let resp = next.run(req).await;
    let route = slot.0.get().map(String::as_str).unwrap_or("<unmatched>");
    let elapsed = start.elapsed();
    crate::metrics::http_request(
        route,
        method.as_str(),
        resp.status(),
        elapsed,
        resp.extensions()
            .get::<crate::error::ErrorCode>()
            .map(|c| c.0.as_str()),
        resp.headers().contains_key("idempotent-replayed"),
    );
    let status = resp.status().as_u16();
    let latency_ms = (elapsed.as_secs_f64() * 1e6).round() / 1e3;
    if status >= 500 {
        tracing::error!(%method, route, status, latency_ms, request_id, "request");
    } else {
        tracing::info!(%method, route, status, latency_ms, request_id, "request");
    }
    resp
}

pub async fn record_route(req: Request, next: Next) -> Response {
    if let (Some(slot), Some(path)) = (
        req.extensions().get::<RouteSlot>(),
        req.extensions().get::<MatchedPath>(),
    ) {
        let _ = slot.0.set(path.as_str().to_owned());
    }
    next.run(req).await
}
