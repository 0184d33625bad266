//! The error of a use case the API (and the schedules job) calls: a rule
//! refused the request ([`Refusal`], nothing changed), or the store failed.
//! The two never mix: a database outage is a [`UseCaseError::Store`], never
//! a refusal, so it can never be shown as a 404 or any other 4xx.

use inflow_core::{Refusal, RefusalKind};
use inflow_store::StoreError;

use crate::limits::{LimitError, LimitExceeded};

/// Why a use case did not complete.
#[derive(Debug, thiserror::Error)]
pub enum UseCaseError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub type UseCaseResult<T> = Result<T, UseCaseError>;

impl From<inflow_core::ValidationError> for UseCaseError {
    fn from(e: inflow_core::ValidationError) -> Self {
        Self::Refused(e.into())
    }
}

impl From<LimitExceeded> for UseCaseError {
    fn from(e: LimitExceeded) -> Self {
        Self::Refused(e.into())
    }
}

impl From<LimitError> for UseCaseError {
    fn from(e: LimitError) -> Self {
        match e {
            LimitError::Exceeded(x) => x.into(),
            LimitError::Store(s) => s.into(),
        }
    }
}

impl UseCaseError {
    /// The refusal, when a rule refused.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            Self::Refused(r) => Some(r),
            Self::Store(_) => None,
        }
    }

    /// Apply `f` to the refusal (a store error passes unchanged).
    pub fn map_refusal(self, f: impl FnOnce(Refusal) -> Refusal) -> Self {
        match self {
            Self::Refused(r) => Self::Refused(f(r)),
            other => other,
        }
    }
}

/// A store lookup where a missing row is a refusal: `NotFound` becomes
/// `refusal`; every other store failure stays a store failure.
pub fn missing_as(refusal: impl FnOnce() -> Refusal) -> impl FnOnce(StoreError) -> UseCaseError {
    move |e| match e {
        StoreError::NotFound => UseCaseError::Refused(refusal()),
        other => UseCaseError::Store(other),
    }
}

/// Every refusal code the engine's use cases name ([`crate::collections`],
/// [`crate::schedules::create`], [`crate::limits`], and the card operations
/// of [`crate::cards`]), with its kind: the
/// server's error mapping lists each with its HTTP status. The codes of the
/// domain's value checks (`inflow_core::ValidationError`, the calendar's
/// `TimingError`) are all [`RefusalKind::Invalid`].
pub const REFUSAL_CODES: &[(&str, RefusalKind)] = &[
    ("invalid_amount", RefusalKind::Invalid),
    ("amount_below_fees", RefusalKind::Invalid),
    ("same_day_limit_exceeded", RefusalKind::Invalid),
    ("missing_field", RefusalKind::Invalid),
    ("invalid_authorization", RefusalKind::Invalid),
    ("invalid_destination", RefusalKind::Invalid),
    ("sec_code_mismatch", RefusalKind::Invalid),
    ("payment_type_not_allowed", RefusalKind::Invalid),
    ("addenda_not_allowed", RefusalKind::Invalid),
    ("invalid_date", RefusalKind::Invalid),
    ("start_date_too_soon", RefusalKind::Invalid),
    ("start_date_beyond_horizon", RefusalKind::Invalid),
    ("resource_not_found", RefusalKind::NotFound),
    ("customer_suspended", RefusalKind::Conflict),
    ("destination_account_closed", RefusalKind::Conflict),
    ("payment_method_not_active", RefusalKind::Conflict),
    ("wrong_rail", RefusalKind::Conflict),
    ("counterparty_mismatch", RefusalKind::Conflict),
    ("duplicate_transaction", RefusalKind::Conflict),
    ("account_not_validated", RefusalKind::Conflict),
    ("external_id_taken", RefusalKind::Conflict),
    ("limit_exceeded", RefusalKind::Conflict),
    ("schedule_not_changeable", RefusalKind::Conflict),
    ("schedule_changed", RefusalKind::Conflict),
    ("one_time_source_not_allowed", RefusalKind::Forbidden),
    ("company_name_not_allowed", RefusalKind::Forbidden),
    // Card operations (`crate::cards`).
    ("operation_in_progress", RefusalKind::Conflict),
    ("concurrent_update", RefusalKind::Conflict),
    ("collection_not_capturable", RefusalKind::Conflict),
    ("authorization_expired", RefusalKind::Conflict),
    ("collection_not_voidable", RefusalKind::Conflict),
    ("collection_not_refundable", RefusalKind::Conflict),
    ("card_daily_limit_exceeded", RefusalKind::Unprocessable),
    ("currency_mismatch", RefusalKind::Unprocessable),
    ("invalid_amount", RefusalKind::Unprocessable),
    ("amount_exceeds_authorized", RefusalKind::Unprocessable),
    ("amount_exceeds_refundable", RefusalKind::Unprocessable),
    ("capability_not_supported", RefusalKind::Unprocessable),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The use cases' sources, read for the refusals they construct.
    const SOURCES: &[(&str, &str)] = &[
        (
            "collections/destination.rs",
            include_str!("collections/destination.rs"),
        ),
        (
            "collections/ach/mod.rs",
            include_str!("collections/ach/mod.rs"),
        ),
        (
            "collections/ach/amount.rs",
            include_str!("collections/ach/amount.rs"),
        ),
        (
            "collections/ach/details.rs",
            include_str!("collections/ach/details.rs"),
        ),
        (
            "collections/ach/parties.rs",
            include_str!("collections/ach/parties.rs"),
        ),
        (
            "collections/ach/timing.rs",
            include_str!("collections/ach/timing.rs"),
        ),
        (
            "collections/ach/source.rs",
            include_str!("collections/ach/source.rs"),
        ),
        (
            "collections/ach/entry.rs",
            include_str!("collections/ach/entry.rs"),
        ),
        (
            "collections/ach/status.rs",
            include_str!("collections/ach/status.rs"),
        ),
        ("schedules/create.rs", include_str!("schedules/create.rs")),
        ("limits.rs", include_str!("limits.rs")),
        ("cards/reserve.rs", include_str!("cards/reserve.rs")),
        ("cards/capability.rs", include_str!("cards/capability.rs")),
    ];

    /// `(code, kind)` of every `Refusal::<constructor>("code"` in `src`
    /// (a timing error's `e.code()` is left to the server's table).
    fn constructed(src: &str) -> Vec<(String, RefusalKind)> {
        let fixed = [
            (
                "Refusal::not_found(",
                "resource_not_found",
                RefusalKind::NotFound,
            ),
            ("Refusal::wrong_rail(", "wrong_rail", RefusalKind::Conflict),
        ];
        let named = [
            ("Refusal::invalid(", RefusalKind::Invalid),
            ("Refusal::conflict(", RefusalKind::Conflict),
            ("Refusal::forbidden(", RefusalKind::Forbidden),
        ];
        let mut found = Vec::new();
        for (call, code, kind) in fixed {
            found.extend(src.matches(call).map(|_| (code.to_owned(), kind)));
        }
        // The card operations' helpers (`cards::error::{conflict, unprocessable}`).
        let helpers = [
            ("conflict(", RefusalKind::Conflict),
            ("unprocessable(", RefusalKind::Unprocessable),
        ];
        let is_call =
            |at: usize| !src[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':');
        // Card amounts over a ceiling: `("amount_exceeds_…", over)`.
        for (at, _) in src.match_indices("\", over)") {
            let code = src[..at].rsplit('"').next().unwrap_or_default();
            found.push((code.to_owned(), RefusalKind::Unprocessable));
        }
        let calls = named.into_iter().map(|(c, k)| (c, k, false));
        for (call, kind, helper) in calls.chain(helpers.into_iter().map(|(c, k)| (c, k, true))) {
            for (at, _) in src.match_indices(call) {
                if helper && !is_call(at) {
                    continue;
                }
                let rest = src[at + call.len()..].trim_start();
                if rest.starts_with("e.code()") || rest.starts_with("over.0") {
                    // A calendar `TimingError`'s own code (always `Invalid`),
                    // or a card amount's ceiling code (found above).
                    continue;
                }
                let code = rest
                    .strip_prefix('"')
                    .and_then(|r| r.split('"').next())
                    .unwrap_or("<not a literal>");
                found.push((code.to_owned(), kind));
            }
        }
        found
    }

    #[test]
    fn every_refusal_the_use_cases_construct_is_listed_with_its_kind() {
        let mut seen = std::collections::BTreeSet::new();
        for (file, src) in SOURCES {
            for (code, kind) in constructed(src) {
                assert!(
                    REFUSAL_CODES.contains(&(code.as_str(), kind)),
                    "{file}: {code} ({kind:?}) is not in REFUSAL_CODES"
                );
                seen.insert(code);
            }
        }
        for (code, _) in REFUSAL_CODES {
            assert!(
                seen.contains(*code),
                "{code} is listed but never constructed"
            );
        }
    }

    #[test]
    fn only_a_missing_row_becomes_a_refusal() {
        let missing = missing_as(|| Refusal::not_found("counterparty"))(StoreError::NotFound);
        assert!(missing.refusal().is_some());
        let down = missing_as(|| Refusal::not_found("counterparty"))(StoreError::WriterStopped);
        assert!(matches!(
            down,
            UseCaseError::Store(StoreError::WriterStopped)
        ));
    }
}
