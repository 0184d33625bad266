//! `GET /metrics`: the Prometheus text exposition of the metrics listed in
//! `inflow_engine::metrics` (and docs/operations.md).
//!
//! The recorder is `metrics-exporter-prometheus`'s, built with a handle the
//! server renders itself (no exporter HTTP server, no push gateway). It is
//! process-wide, installed once by the first server of the process.
//!
//! Where it is served (`[metrics]`, `INFLOW_METRICS__<FIELD>`):
//! - `listen` set: on that separate admin address only (bind it to a private
//!   interface); the API port then answers 404 for `/metrics`;
//! - otherwise on the API port, and then — unless `require_operator_key` is
//!   false — only to `Authorization: Bearer <operator key>` (an unrevoked
//!   admin key; no request signature, which a scraper cannot make). The
//!   default is open in sandbox mode and guarded in production mode, so the
//!   metrics are never public by default in production.

use std::sync::OnceLock;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::state::AppState;
use inflow_engine::metrics as m;

/// `[metrics]` in the TOML file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct MetricsSettings {
    /// Serve `/metrics` at all (default true).
    pub enabled: bool,
    /// A separate admin listener for `/metrics` (e.g. `127.0.0.1:9464`);
    /// unset: the API port.
    pub listen: Option<std::net::SocketAddr>,
    /// On the API port, require an operator key. Unset: off in sandbox
    /// mode, on in production mode.
    pub require_operator_key: Option<bool>,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: None,
            require_operator_key: None,
        }
    }
}

/// Buckets for latencies in seconds: 1 ms … 60 s.
const SECONDS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];
/// Buckets for a file's entries and bytes.
const ENTRIES: &[f64] = &[1.0, 10.0, 100.0, 1e3, 1e4, 1e5];
const BYTES: &[f64] = &[1e3, 1e4, 1e5, 1e6, 1e7, 1e8];
/// Buckets for the webhook commit-to-delivery lag: retries take hours.
const LAG: &[f64] = &[
    0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 21600.0, 86400.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Install the process's recorder (once) and the store's observer; the
/// handle renders the exposition. `None` if another recorder was installed
/// first (then `/metrics` answers 503).
pub fn install() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(SECONDS)
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Full(m::FILE_ENTRIES.into()), ENTRIES)
                })
                .and_then(|b| b.set_buckets_for_metric(Matcher::Full(m::FILE_BYTES.into()), BYTES))
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Full(m::WEBHOOK_DELIVERY_LAG.into()), LAG)
                })
                .map(|b| b.build_recorder());
            let recorder = match recorder {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!(error = %e, "metrics recorder not built");
                    return None;
                }
            };
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("another metrics recorder is installed; /metrics is unavailable");
                return None;
            }
            m::describe();
            inflow_store::observe::set_observer(&m::StoreMetrics);
            Some(handle)
        })
        .clone()
}

/// Is `/metrics` served on the API port, and guarded?
pub fn on_api_port(state: &AppState) -> Option<bool> {
    let s = &state.config.metrics;
    (s.enabled && s.listen.is_none())
        .then(|| s.require_operator_key.unwrap_or(!state.config.sandbox))
}

/// `GET /metrics` on the API port.
pub async fn api_port_metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match on_api_port(&state) {
        None => crate::api::route_not_found().into_response(),
        Some(true) => match operator(&state, &headers).await {
            Ok(()) => render(&state).await,
            Err(e) => e.into_response(),
        },
        Some(false) => render(&state).await,
    }
}

/// `GET /metrics` on the admin listener.
pub async fn admin_metrics(State(state): State<AppState>) -> Response {
    render(&state).await
}

async fn operator(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            ApiError::unauthenticated(
                "api_key_missing",
                "/metrics needs Authorization: Bearer <operator key>",
            )
        })?;
    let key = state
        .auth_cache
        .api_key(
            &state.store,
            &inflow_core::crypto::api_key_hash(token.trim()),
        )
        .await?
        .filter(|k| k.revoked_at.is_none())
        .ok_or_else(|| ApiError::unauthenticated("api_key_invalid", "the API key is not valid"))?;
    if key.role != inflow_core::model::ApiKeyRole::Admin {
        return Err(ApiError::forbidden(
            "admin_key_required",
            "/metrics needs an operator (admin) API key",
        ));
    }
    Ok(())
}

/// Refresh the gauges read from the database, then render.
async fn render(state: &AppState) -> Response {
    let Some(handle) = install() else {
        return ApiError::unavailable("metrics are not available in this process").into_response();
    };
    refresh_gauges(state).await;
    handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}

async fn refresh_gauges(state: &AppState) {
    let now = state.clock.now();
    let age = |t: chrono::DateTime<chrono::Utc>| (now - t).to_std().unwrap_or(Duration::ZERO);
    match async {
        let mut tx = state.store.read().await?;
        let backlog = tx.pending_delivery_backlog().await?;
        tx.rollback().await?;
        Ok::<_, inflow_store::StoreError>(backlog)
    }
    .await
    {
        Ok((depth, oldest)) => m::webhook_backlog(depth, oldest.map(age).unwrap_or_default()),
        Err(e) => tracing::warn!(error = %e, "webhook backlog not read for /metrics"),
    }
    match inflow_engine::scheduler::last_tick(&state.store).await {
        Ok(Some(t)) => metrics::gauge!(m::JOB_TICK_LAG).set(age(t).as_secs_f64()),
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "scheduler position not read for /metrics"),
    }
    for (pool, open, idle) in state.store.pool_sizes() {
        metrics::gauge!(m::DB_CONNECTIONS, "pool" => pool.as_str(), "state" => "open")
            .set(open as f64);
        metrics::gauge!(m::DB_CONNECTIONS, "pool" => pool.as_str(), "state" => "idle")
            .set(idle as f64);
    }
}

/// Record one answered HTTP request (called by the access log).
pub fn http_request(
    route: &str,
    method: &str,
    status: StatusCode,
    elapsed: Duration,
    error_code: Option<&str>,
    replayed: bool,
) {
    let labels = [
        ("route", route.to_owned()),
        ("method", method.to_owned()),
        ("status", status.as_u16().to_string()),
    ];
    metrics::counter!(m::HTTP_REQUESTS, &labels).increment(1);
    metrics::histogram!(m::HTTP_DURATION, &labels).record(elapsed.as_secs_f64());
    if replayed {
        metrics::counter!(m::IDEMPOTENCY, "outcome" => "replayed").increment(1);
    }
    match error_code {
        Some("idempotency_key_reused") => {
            metrics::counter!(m::IDEMPOTENCY, "outcome" => "key_reused").increment(1)
        }
        Some("idempotency_key_in_flight") => {
            metrics::counter!(m::IDEMPOTENCY, "outcome" => "in_flight").increment(1)
        }
        Some(
            code @ ("signature_missing"
            | "signature_invalid"
            | "signature_replayed"
            | "timestamp_invalid"
            | "timestamp_out_of_range"),
        ) => metrics::counter!(m::SIGNATURE_FAILURES, "reason" => code.to_owned()).increment(1),
        _ => {}
    }
}

/// Serve `/metrics` on the admin listener until `stop` turns true.
pub async fn serve_admin(
    state: AppState,
    listener: tokio::net::TcpListener,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let app = axum::Router::new()
        .route("/metrics", axum::routing::get(admin_metrics))
        .with_state(state);
    let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = stop.wait_for(|s| *s).await;
    });
    if let Err(e) = serve.await {
        tracing::error!(error = %e, "the metrics listener stopped with an error");
    }
}
