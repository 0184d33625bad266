//! The API's one error type and its one mapping to HTTP.
//!
//! Every failure leaves as `{"error":{"type","code","message","param","requestId"}}`
//! with the matching status. Domain and store errors convert into
//! [`ApiError`] here and nowhere else: a rule's [`Refusal`] by its kind
//! (invalid 400, not found 404, conflict 409, forbidden 403), a store
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
mod tests {
    use super::*;

    #[test]
    fn only_a_missing_row_is_a_404_and_an_unreachable_database_is_a_503_with_retry_after() {
        let missing = ApiError::not_found_if_missing("customer")(StoreError::NotFound);
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        for e in [
            StoreError::Database(sqlx::Error::PoolClosed),
            StoreError::Database(sqlx::Error::PoolTimedOut),
            StoreError::WriterStopped,
        ] {
            let answer = ApiError::not_found_if_missing("customer")(e);
            assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(answer.retry_after, Some(DATABASE_RETRY_AFTER_SECS));
        }
        let corrupt = ApiError::not_found_if_missing("customer")(StoreError::Corrupt("x".into()));
        assert_eq!(corrupt.status, StatusCode::INTERNAL_SERVER_ERROR);
    }

    /// Every error code mapped here, with its status and type, one line
    /// each: a change of the mapping is a visible change of this table.
    /// The engine's refusal codes are listed in
    /// `every_engine_refusal_code_and_its_status`; codes still built where
    /// the refusal is made (`ApiError::invalid("…")` and the like in `api/`,
    /// `app/` and `http/`) are not listed here.
    #[test]
    fn every_centrally_mapped_code_and_its_status() {
        use inflow_core::calendar::TimingError;
        use inflow_core::schedule::ScheduleStatus;
        use inflow_engine::files::AchError;
        use inflow_engine::limits::{LimitError, LimitExceeded};
        use inflow_engine::schedules::ScheduleError;
        let exceeded = || LimitExceeded {
            limit: "dailyDebitMax",
            message: "over".into(),
        };
        let summary = inflow_engine::cutoff::CutoffSummary {
            files: Vec::new(),
            failed: Vec::new(),
            deferred: Vec::new(),
        };
        let transition = inflow_core::schedule::ScheduleTransitionError {
            from: ScheduleStatus::Cancelled,
            to: ScheduleStatus::Active,
        };
        let cases: Vec<(&str, ApiError)> = vec![
            ("store: not found", StoreError::NotFound.into()),
            ("store: conflict", StoreError::Conflict("k".into()).into()),
            ("store: writer stopped", StoreError::WriterStopped.into()),
            (
                "store: pool timed out",
                StoreError::Database(sqlx::Error::PoolTimedOut).into(),
            ),
            (
                "store: other database error",
                StoreError::Database(sqlx::Error::ColumnNotFound("c".into())).into(),
            ),
            ("store: corrupt", StoreError::Corrupt("x".into()).into()),
            (
                "store: unsupported url",
                StoreError::UnsupportedUrl("x".into()).into(),
            ),
            (
                "validation",
                ValidationError::new("amount", "invalid_amount", "no").into(),
            ),
            ("ach: store", AchError::Store(StoreError::NotFound).into()),
            ("ach: busy", AchError::Busy("cutoff".into()).into()),
            (
                "ach: not outbound",
                AchError::NotOutbound("f".into()).into(),
            ),
            (
                "ach: files not written",
                AchError::FilesNotWritten {
                    summary: Box::new(summary),
                    source: Box::new(AchError::NotOutbound("f".into())),
                }
                .into(),
            ),
            ("limit exceeded", exceeded().into()),
            ("limit: exceeded", LimitError::Exceeded(exceeded()).into()),
            (
                "limit: store",
                LimitError::Store(StoreError::WriterStopped).into(),
            ),
            (
                "schedule: store",
                ScheduleError::Store(StoreError::NotFound).into(),
            ),
            (
                "schedule: transition",
                ScheduleError::Transition(transition).into(),
            ),
            (
                "schedule: concurrent",
                ScheduleError::Concurrent("s".into()).into(),
            ),
            (
                "schedule: timing",
                ScheduleError::Timing(TimingError::SameDayNotOffered).into(),
            ),
            (
                "schedule: busy",
                ScheduleError::Busy("schedules".into()).into(),
            ),
            (
                "schedule: refused",
                ScheduleError::Refused(Refusal::conflict("schedule_changed", "retry")).into(),
            ),
            (
                "use case: refused",
                UseCaseError::Refused(Refusal::not_found("counterparty")).into(),
            ),
            (
                "use case: store unavailable",
                UseCaseError::Store(StoreError::WriterStopped).into(),
            ),
            (
                "use case: store corrupt",
                UseCaseError::Store(StoreError::Corrupt("x".into())).into(),
            ),
            ("not_found()", ApiError::not_found("thing")),
            ("wrong_rail()", ApiError::wrong_rail("card")),
            ("rate_limited()", ApiError::rate_limited("slow down")),
            ("internal()", ApiError::internal()),
            ("unavailable()", ApiError::unavailable("down")),
            ("job_busy()", ApiError::job_busy("cutoff")),
        ];
        let table: Vec<String> = cases
            .iter()
            .map(|(what, e)| {
                let retry = e
                    .retry_after
                    .map(|s| format!(" retry-after {s}"))
                    .unwrap_or_default();
                format!(
                    "{what}: {} {} {:?}{retry}",
                    e.status.as_u16(),
                    e.code,
                    e.kind
                )
            })
            .collect();
        let expected = [
            "store: not found: 404 resource_not_found NotFoundError",
            "store: conflict: 409 conflict ConflictError",
            "store: writer stopped: 503 service_unavailable ApiError retry-after 2",
            "store: pool timed out: 503 service_unavailable ApiError retry-after 2",
            "store: other database error: 500 internal_error ApiError",
            "store: corrupt: 500 internal_error ApiError",
            "store: unsupported url: 500 internal_error ApiError",
            "validation: 400 invalid_amount InvalidRequestError",
            "ach: store: 404 resource_not_found NotFoundError",
            "ach: busy: 409 job_busy ConflictError retry-after 5",
            "ach: not outbound: 500 internal_error ApiError",
            "ach: files not written: 500 cutoff_committed_step_failed ApiError",
            "limit exceeded: 409 limit_exceeded ConflictError",
            "limit: exceeded: 409 limit_exceeded ConflictError",
            "limit: store: 503 service_unavailable ApiError retry-after 2",
            "schedule: store: 404 resource_not_found NotFoundError",
            "schedule: transition: 409 schedule_status_conflict ConflictError",
            "schedule: concurrent: 409 schedule_changed ConflictError",
            "schedule: timing: 400 same_day_not_offered InvalidRequestError",
            "schedule: busy: 409 job_busy ConflictError retry-after 5",
            "schedule: refused: 409 schedule_changed ConflictError",
            "use case: refused: 404 resource_not_found NotFoundError",
            "use case: store unavailable: 503 service_unavailable ApiError retry-after 2",
            "use case: store corrupt: 500 internal_error ApiError",
            "not_found(): 404 resource_not_found NotFoundError",
            "wrong_rail(): 409 wrong_rail ConflictError",
            "rate_limited(): 429 rate_limited RateLimitError",
            "internal(): 500 internal_error ApiError",
            "unavailable(): 503 service_unavailable ApiError",
            "job_busy(): 409 job_busy ConflictError retry-after 5",
        ];
        assert_eq!(table, expected);
    }

    /// Every refusal code the engine's use cases can produce
    /// (`inflow_engine::usecase::REFUSAL_CODES`, itself checked against the
    /// refusals the engine constructs), and the calendar's timing codes,
    /// with the status, type and field each leaves with.
    #[test]
    fn every_engine_refusal_code_and_its_status() {
        use inflow_core::calendar::TimingError;
        use inflow_engine::collections::ach::timing::timing_refusal;
        use inflow_engine::usecase::REFUSAL_CODES;
        let line = |e: ApiError| format!("{} {} {:?}", e.code, e.status.as_u16(), e.kind);
        let mut table: Vec<String> = REFUSAL_CODES
            .iter()
            .map(|(code, kind)| line(Refusal::new(*kind, code, "m").into()))
            .collect();
        let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 5).unwrap_or_default();
        for t in [
            TimingError::InThePast {
                date: day,
                today: day,
            },
            TimingError::SameDayNotOffered,
            TimingError::OutOfRange { date: day },
        ] {
            let r = timing_refusal(t);
            let field = r.field.clone().unwrap_or_default();
            table.push(format!("{} (field {field})", line(r.into())));
        }
        let expected = [
            "invalid_amount 400 InvalidRequestError",
            "amount_below_fees 400 InvalidRequestError",
            "same_day_limit_exceeded 400 InvalidRequestError",
            "missing_field 400 InvalidRequestError",
            "invalid_authorization 400 InvalidRequestError",
            "invalid_destination 400 InvalidRequestError",
            "sec_code_mismatch 400 InvalidRequestError",
            "payment_type_not_allowed 400 InvalidRequestError",
            "addenda_not_allowed 400 InvalidRequestError",
            "invalid_date 400 InvalidRequestError",
            "start_date_too_soon 400 InvalidRequestError",
            "start_date_beyond_horizon 400 InvalidRequestError",
            "resource_not_found 404 NotFoundError",
            "customer_suspended 409 ConflictError",
            "destination_account_closed 409 ConflictError",
            "payment_method_not_active 409 ConflictError",
            "wrong_rail 409 ConflictError",
            "counterparty_mismatch 409 ConflictError",
            "duplicate_transaction 409 ConflictError",
            "account_not_validated 409 ConflictError",
            "external_id_taken 409 ConflictError",
            "limit_exceeded 409 ConflictError",
            "schedule_not_changeable 409 ConflictError",
            "schedule_changed 409 ConflictError",
            "one_time_source_not_allowed 403 PermissionError",
            "company_name_not_allowed 403 PermissionError",
            "effective_date_in_past 400 InvalidRequestError (field effectiveDate)",
            "same_day_not_offered 400 InvalidRequestError (field processingMode)",
            "date_out_of_range 400 InvalidRequestError (field effectiveDate)",
        ];
        assert_eq!(table, expected);
    }
}
