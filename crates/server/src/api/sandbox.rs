//! `/v1/sandbox`: moving Inflow's clock in sandbox mode, so cutoffs,
//! settlement and the sandbox bank's returns happen as if time had passed.

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::ach_jobs::{advance_sandbox_clock, JobsReport};
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorType};
use crate::http::auth::Auth;
use crate::http::body::parse_json;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AdvanceClockRequest {
    #[serde(default)]
    pub days: u32,
    #[serde(default)]
    pub hours: u32,
    #[serde(default)]
    pub minutes: u32,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClockResponse {
    /// Inflow's time now (RFC 3339).
    pub now: String,
    /// What the background jobs did while the clock advanced; null on `GET`.
    pub jobs: Option<JobsReport>,
}

fn sandbox_only(state: &AppState) -> ApiResult<()> {
    if state.sandbox_clock.is_none() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorType::NotFoundError,
            "sandbox_only",
            "the sandbox endpoints exist only in sandbox mode",
        ));
    }
    Ok(())
}

/// Inflow's current (sandbox) time.
#[utoipa::path(get, path = "/v1/sandbox/clock", tag = "sandbox", responses((status = 200, body = ClockResponse), (status = 404, body = ErrorBody)))]
pub async fn get_clock(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
) -> ApiResult<Json<ClockResponse>> {
    auth.require_admin()?;
    sandbox_only(&state)?;
    Ok(Json(ClockResponse {
        now: crate::api::common::time(state.clock.now()),
        jobs: None,
    }))
}

/// Move the sandbox clock forward (at most 90 days at a time) and run every
/// cutoff, settlement and bank answer that falls due meanwhile (operator keys).
#[utoipa::path(post, path = "/v1/sandbox/clock/advance", tag = "sandbox", request_body = AdvanceClockRequest,
    responses((status = 200, body = ClockResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`job_busy`: the clock is being advanced (or the scheduler is running) on another node; answered after a few seconds' wait, with `Retry-After`; the clock did not move"),
        (status = 500, body = ErrorBody, description = "A job failed while the clock moved; the message says where the clock stands and which job failed")))]
pub async fn advance_clock(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    audit: crate::http::audit::Audit,
    body: axum::body::Bytes,
) -> ApiResult<Json<ClockResponse>> {
    auth.require_admin()?;
    sandbox_only(&state)?;
    let req: AdvanceClockRequest = parse_json(&body)?;
    let minutes = i64::from(req.days) * 1440 + i64::from(req.hours) * 60 + i64::from(req.minutes);
    if minutes == 0 || minutes > 90 * 1440 {
        return Err(ApiError::invalid(
            "invalid_duration",
            "advance by between 1 minute and 90 days",
            "days",
        ));
    }
    let before = serde_json::json!({ "now": crate::api::common::time(state.clock.now()) });
    let advanced = advance_sandbox_clock(&state, chrono::Duration::minutes(minutes)).await;
    if let Some(lease) = advanced.as_ref().err().and_then(|e| e.busy()) {
        // Another node is advancing (or ticking): nothing moved.
        return Err(inflow_engine::files::AchError::Busy(lease.to_owned()).into());
    }
    let after = match &advanced {
        Ok((now, jobs)) => serde_json::json!({
            "now": crate::api::common::time(*now),
            "advancedByMinutes": minutes,
            "jobs": jobs,
        }),
        Err(e) => serde_json::json!({
            "now": crate::api::common::time(state.clock.now()),
            "advancedByMinutes": minutes,
            "failed": e.message(),
        }),
    };
    audit
        .record_after(
            &state,
            "sandbox.clock_advanced",
            ("sandbox_clock", "sandbox_clock".into()),
            Some(before),
            after,
        )
        .await;
    let (now, jobs) = advanced
        .map_err(|e| {
            tracing::error!(error = format!("{:#}", e.source), moved_to = ?e.moved_to, "sandbox clock advance failed");
            // Not `internal()`: its "changed nothing" is untrue once the clock moved.
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorType::ApiError,
                "clock_jobs_failed",
                e.message(),
            )
        })?;
    Ok(Json(ClockResponse {
        now: crate::api::common::time(now),
        jobs: Some(jobs),
    }))
}
