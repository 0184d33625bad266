//! One log line per request: method, route, status, latency, request id.
//! Headers and bodies are never logged (they carry keys and account numbers).
//!
//! Every request runs inside a `request` span with the fields
//! `request_id`, `method`, `route`, `status`, `customer_id` (recorded by
//! authentication) and `collection_id` (routes under
//! `/v1/collections/{id}`); the span is what OTLP export sends
//! ([`crate::telemetry`]).
//!
//! The route template (`/v1/customers/{id}`) is only known once the router
//! has matched, inside the outer layers; [`record_route`] runs as a route
//! layer and writes it into a slot that [`log_request`] left in the request.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::{Arc, OnceLock};
use std::time::Instant;
use tracing::Instrument;

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
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %method,
        route = tracing::field::Empty,
        status = tracing::field::Empty,
        customer_id = tracing::field::Empty,
        collection_id = tracing::field::Empty,
    );
    let resp = next.run(req).instrument(span.clone()).await;
    let route = slot.0.get().map(String::as_str).unwrap_or("<unmatched>");
    if slot.0.get().is_none() {
        // A matched route was recorded by `record_route` already; a second
        // record would print the field twice.
        span.record("route", route);
    }
    span.record("status", resp.status().as_u16());
    let _inside = span.enter();
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
        let span = tracing::Span::current();
        span.record("route", path.as_str());
        if let Some(id) = collection_id(path.as_str(), req.uri().path()) {
            span.record("collection_id", id);
        }
    }
    next.run(req).await
}

/// The collection id of a request to a route under `/v1/collections/{id}`.
fn collection_id<'a>(template: &str, path: &'a str) -> Option<&'a str> {
    if !template.starts_with("/v1/collections/{id}") {
        return None;
    }
    path.split('/').nth(3).filter(|s| !s.is_empty())
}
