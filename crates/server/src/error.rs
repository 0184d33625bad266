//! The API's one error type and its one mapping to HTTP.
//!
//! Every failure leaves as `{"error":{"type","code","message","param","requestId"}}`
//! with the matching status. Domain and store errors convert into
//! [`ApiError`] here and nowhere else: a rule's [`Refusal`] by its kind
//! (invalid 400, not found 404, conflict 409, forbidden 403, unprocessable
//! 422), a store
//! failure by what failed (a missing row 404, an unreachable database 503,
//! anything else 500), and the engine's errors through those two.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use inflow_core::{Refusal, RefusalKind, ValidationError};
use inflow_engine::usecase::UseCaseError;
use inflow_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// The broad class of an error; integrators branch on `type`, then `code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorType {
    InvalidRequestError,
    AuthenticationError,
    PermissionError,
    NotFoundError,
    ConflictError,
    IdempotencyError,
    RateLimitError,
    ApiError,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub kind: ErrorType,
    pub code: String,
    pub message: String,
    pub param: Option<String>,
    pub retry_after: Option<u64>,
    /// Extra headers for the answer (the rate limit's `RateLimit-*`).
    pub headers: Option<Box<axum::http::HeaderMap>>,
}

/// The error body, as documented in the OpenAPI spec.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetail {
    #[serde(rename = "type")]
    pub kind: ErrorType,
    pub code: String,
    pub message: String,
    pub param: Option<String>,
    pub request_id: Option<String>,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        kind: ErrorType,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            kind,
            code: code.into(),
            message: message.into(),
            param: None,
            retry_after: None,
            headers: None,
        }
    }

    pub fn with_param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }

    pub fn invalid(
        code: impl Into<String>,
        message: impl Into<String>,
        param: impl Into<String>,
    ) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ErrorType::InvalidRequestError,
            code,
            message,
        )
        .with_param(param)
    }

    pub fn unauthenticated(code: &str, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            ErrorType::AuthenticationError,
            code,
            message,
        )
    }

    pub fn forbidden(code: &str, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            ErrorType::PermissionError,
            code,
            message,
        )
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            ErrorType::NotFoundError,
            "resource_not_found",
            format!("no such {what}"),
        )
    }

    /// For a store lookup: a missing row is `404 no such <what>`; any other
    /// store failure keeps its own answer (5xx), never a 404.
    pub fn not_found_if_missing(what: &'static str) -> impl FnOnce(StoreError) -> ApiError {
        move |e| match e {
            StoreError::NotFound => ApiError::not_found(what),
            other => other.into(),
        }
    }

    pub fn conflict(code: &str, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            ErrorType::ConflictError,
            code,
            message,
        )
    }

    /// `409 wrong_rail`: the object exists but on the other rail (an ACH
    /// collection given to a card operation, a card given to an ACH one);
    /// `message` says what it is and what the operation applies to.
    pub fn wrong_rail(message: impl Into<String>) -> Self {
        Self::conflict("wrong_rail", message)
    }

    /// `429 rate_limited`: the API key went over its rate (see
    /// `http::rate_limit`); the caller sets `retry_after`.
    pub fn rate_limited(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorType::RateLimitError,
            "rate_limited",
            message,
        )
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorType::ApiError,
            "internal_error",
            "something went wrong on our side; the request changed nothing and can be retried",
        )
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorType::ApiError,
            "service_unavailable",
            message,
        )
    }

    /// `409 job_busy`: a background job the request runs (a cutoff, the
    /// schedules job) holds its lease on another node.
    pub fn job_busy(job: &str) -> Self {
        let mut e = Self::conflict(
            "job_busy",
            format!("{job} is running on another node; try again shortly"),
        );
        e.retry_after = Some(5);
        e
    }

    /// Whether an idempotency claim should be given back so the client may retry.
    pub fn is_server_error(&self) -> bool {
        self.status.is_server_error()
    }

    pub fn body(&self, request_id: Option<String>) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                kind: self.kind,
                code: self.code.clone(),
                message: self.message.clone(),
                param: self.param.clone(),
                request_id,
            },
        }
    }
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        let (status, kind) = match r.kind {
            RefusalKind::Invalid => (StatusCode::BAD_REQUEST, ErrorType::InvalidRequestError),
            RefusalKind::NotFound => (StatusCode::NOT_FOUND, ErrorType::NotFoundError),
            RefusalKind::Conflict => (StatusCode::CONFLICT, ErrorType::ConflictError),
            RefusalKind::Forbidden => (StatusCode::FORBIDDEN, ErrorType::PermissionError),
            RefusalKind::Unprocessable => (
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorType::InvalidRequestError,
            ),
        };
        let e = ApiError::new(status, kind, r.code, r.message);
        match r.field {
            Some(field) => e.with_param(field),
            None => e,
        }
    }
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        Refusal::from(e).into()
    }
}

impl From<UseCaseError> for ApiError {
    fn from(e: UseCaseError) -> Self {
        match e {
            UseCaseError::Refused(r) => r.into(),
            UseCaseError::Store(s) => s.into(),
        }
    }
}

/// The `Retry-After` of a `503` caused by the database.
pub const DATABASE_RETRY_AFTER_SECS: u64 = 2;

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::not_found("object"),
            StoreError::Conflict(what) => {
                tracing::info!(constraint = %what, "unique constraint refused a write");
                ApiError::conflict("conflict", "the request conflicts with an existing object")
            }
            e if e.is_unavailable() => {
                tracing::error!(error = %e, "database unavailable");
                let mut e = ApiError::unavailable(
                    "the database is unavailable; the request changed nothing and can be retried",
                );
                e.retry_after = Some(DATABASE_RETRY_AFTER_SECS);
                e
            }
            other => {
                tracing::error!(error = %other, "store error");
                ApiError::internal()
            }
        }
    }
}

impl From<inflow_engine::files::AchError> for ApiError {
    fn from(e: inflow_engine::files::AchError) -> Self {
        match e {
            inflow_engine::files::AchError::Store(s) => s.into(),
            inflow_engine::files::AchError::FilesNotWritten { summary, source } => {
                tracing::error!(error = %source, "a cutoff committed but its files were not written");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorType::ApiError,
                    "cutoff_committed_step_failed",
                    format!(
                        "the cutoff committed ({} file(s)) but writing its files failed; \
                         the background jobs retry the write",
                        summary.files.len()
                    ),
                )
            }
            inflow_engine::files::AchError::Busy(job) => ApiError::job_busy(&job),
            other => {
                tracing::error!(error = %other, "ACH engine error");
                ApiError::internal()
            }
        }
    }
}

impl From<inflow_engine::limits::LimitExceeded> for ApiError {
    fn from(e: inflow_engine::limits::LimitExceeded) -> Self {
        Refusal::from(e).into()
    }
}

impl From<inflow_engine::limits::LimitError> for ApiError {
    fn from(e: inflow_engine::limits::LimitError) -> Self {
        match e {
            inflow_engine::limits::LimitError::Exceeded(x) => x.into(),
            inflow_engine::limits::LimitError::Store(s) => s.into(),
        }
    }
}

impl From<inflow_engine::schedules::ScheduleError> for ApiError {
    fn from(e: inflow_engine::schedules::ScheduleError) -> Self {
        use inflow_engine::schedules::ScheduleError as E;
        match e {
            E::Refused(r) => r.into(),
            E::Store(s) => s.into(),
            E::Transition(t) => ApiError::conflict("schedule_status_conflict", t.to_string()),
            E::Concurrent(_) => ApiError::conflict(
                "schedule_changed",
                "the schedule changed while this request ran; retry",
            ),
            E::Timing(t) => ApiError::invalid(t.code(), t.to_string(), "startDate"),
            E::Busy(job) => ApiError::job_busy(&job),
            other => {
                tracing::error!(error = %other, "schedule change failed");
                ApiError::internal()
            }
        }
    }
}

impl From<inflow_engine::cards::CardError> for ApiError {
    fn from(e: inflow_engine::cards::CardError) -> Self {
        use inflow_engine::cards::{CardError, ProcessorError};
        match e {
            CardError::Refused(r) => r.into(),
            CardError::ProcessingUnavailable(m) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorType::ApiError,
                "card_processing_unavailable",
                m,
            ),
            CardError::Processor(ProcessorError::Unavailable(_)) => {
                let mut e = ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorType::ApiError,
                    "processor_unavailable",
                    "the card processor did not answer; retry shortly",
                );
                e.retry_after = Some(5);
                e
            }
            CardError::Processor(ProcessorError::Rejected(m)) => ApiError::new(
                StatusCode::BAD_GATEWAY,
                ErrorType::ApiError,
                "processor_error",
                m,
            ),
            CardError::Store(s) => s.into(),
        }
    }
}

/// The error code of an error response, for the access log and the metrics.
#[derive(Debug, Clone)]
pub struct ErrorCode(pub String);

// The request id travels to the error body through a task-local set by the
// request-id middleware, so errors can be returned with `?` anywhere.
tokio::task_local! {
    pub static REQUEST_ID: String;
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let request_id = REQUEST_ID.try_with(Clone::clone).ok();
        let mut resp = (self.status, axum::Json(self.body(request_id))).into_response();
        resp.extensions_mut().insert(ErrorCode(self.code.clone()));
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                resp.headers_mut().insert("retry-after", v);
            }
        }
        if let Some(extra) = self.headers {
            resp.headers_mut().extend(*extra);
        }
        resp
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests;
