//! The error mapping's tables: every centrally mapped error and every
//! engine refusal code, with the status each leaves as.

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
    use inflow_engine::cards::{CardError, ProcessorError};
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
        (
            "card: refused",
            CardError::Refused(Refusal::wrong_rail("ach")).into(),
        ),
        (
            "card: processing unavailable",
            CardError::ProcessingUnavailable("off".into()).into(),
        ),
        (
            "card: processor unavailable",
            CardError::Processor(ProcessorError::Unavailable("down".into())).into(),
        ),
        (
            "card: processor rejected",
            CardError::Processor(ProcessorError::Rejected("no".into())).into(),
        ),
        (
            "card: store",
            CardError::Store(StoreError::WriterStopped).into(),
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
        "card: refused: 409 wrong_rail ConflictError",
        "card: processing unavailable: 503 card_processing_unavailable ApiError",
        "card: processor unavailable: 503 processor_unavailable ApiError retry-after 5",
        "card: processor rejected: 502 processor_error ApiError",
        "card: store: 503 service_unavailable ApiError retry-after 2",
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
        "operation_in_progress 409 ConflictError",
        "concurrent_update 409 ConflictError",
        "collection_not_capturable 409 ConflictError",
        "authorization_expired 409 ConflictError",
        "collection_not_voidable 409 ConflictError",
        "collection_not_refundable 409 ConflictError",
        "card_daily_limit_exceeded 422 InvalidRequestError",
        "currency_mismatch 422 InvalidRequestError",
        "invalid_amount 422 InvalidRequestError",
        "amount_exceeds_authorized 422 InvalidRequestError",
        "amount_exceeds_refundable 422 InvalidRequestError",
        "capability_not_supported 422 InvalidRequestError",
        "effective_date_in_past 400 InvalidRequestError (field effectiveDate)",
        "same_day_not_offered 400 InvalidRequestError (field processingMode)",
        "date_out_of_range 400 InvalidRequestError (field effectiveDate)",
    ];
    assert_eq!(table, expected);
}
