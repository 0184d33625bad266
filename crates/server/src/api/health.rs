//! Liveness and readiness.
//!
//! `/readyz` checks each part a node needs to do its work — the database
//! answers, the outbound ACH folder takes a file — and answers 503 naming
//! the part that failed (`param`), so a load balancer takes the node out
//! and the on-call sees why. The API itself keeps serving meanwhile. A
//! node told to stop answers 503 `draining` on connections still open.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthResponse {
    pub status: &'static str,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "health", security(), responses((status = 200, body = HealthResponse)))]
pub async fn healthz() -> Json<HealthResponse> {
    Json(HealthResponse { status: "ok" })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReadyResponse {
    pub status: &'static str,
    pub database: &'static str,
}

/// The database answers and the outbound ACH folder is writable.
///
/// A 503 names the failed check in `param` (`database` or `outbound_folder`),
/// or is `draining` once the node was told to stop (SIGTERM).
#[utoipa::path(get, path = "/readyz", tag = "health", security(),
    responses((status = 200, body = ReadyResponse), (status = 503, body = ErrorBody, description = "A check failed: `param` says which (`database`, `outbound_folder`), or `draining`: the node is shutting down")))]
pub async fn readyz(State(state): State<AppState>) -> ApiResult<Json<ReadyResponse>> {
    if state.draining.load(std::sync::atomic::Ordering::SeqCst) {
        return Err(ApiError::unavailable(
            "not ready: the node is shutting down and finishing its in-flight requests",
        )
        .with_param("draining"));
    }
    let database = state.store.ping().await;
    set_ready("database", database.is_ok());
    let folder = outbound_writable(&state.ach.outbound_dir).await;
    set_ready("outbound_folder", folder.is_ok());
    if let Err(e) = database {
        tracing::warn!(error = %e, "readiness check failed: database");
        let mut e = ApiError::unavailable("not ready: the database is not reachable")
            .with_param("database");
        e.retry_after = Some(crate::error::DATABASE_RETRY_AFTER_SECS);
        return Err(e);
    }
    if let Err(e) = folder {
        tracing::warn!(error = %e, path = %state.ach.outbound_dir.display(), "readiness check failed: outbound folder");
        return Err(ApiError::unavailable(format!(
            "not ready: the outbound ACH folder cannot be written ({e}); \
             cutoffs still commit and their files are written once it can"
        ))
        .with_param("outbound_folder"));
    }
    Ok(Json(ReadyResponse {
        status: "ok",
        database: state.store.backend_name(),
    }))
}

fn set_ready(check: &'static str, ok: bool) {
    metrics::gauge!(inflow_engine::metrics::READY, "check" => check).set(if ok {
        1.0
    } else {
        0.0
    });
}

/// Create and remove a probe file in `dir`, as a file write would.
async fn outbound_writable(dir: &std::path::Path) -> std::io::Result<()> {
    let probe = dir.join(format!(".readyz.{}.probe", std::process::id()));
    tokio::task::spawn_blocking(move || {
        std::fs::write(&probe, b"")?;
        std::fs::remove_file(&probe)
    })
    .await
    .map_err(std::io::Error::other)?
}
