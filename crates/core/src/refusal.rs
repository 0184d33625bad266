//! The domain's one refusal type: a rule said no.
//!
//! Every use case (creating a collection, a schedule, …) refuses with a
//! [`Refusal`]: what kind of refusal it is ([`RefusalKind`]), a stable code,
//! a sentence a payments engineer can act on, and the request field it is
//! about. The kind says *why* — the input is invalid, an object is missing,
//! the request conflicts with the state of things, the caller may not do
//! this — never how a transport shows it: the HTTP status is chosen by the
//! server, in one place.

use std::fmt;

use crate::error::ValidationError;

/// Why a rule refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefusalKind {
    /// The request itself is wrong (a value, a combination of values).
    Invalid,
    /// An object the request names does not exist (for this customer).
    NotFound,
    /// The request is valid but conflicts with the current state
    /// (a closed account, a duplicate, a suspended customer, …).
    Conflict,
    /// The caller is not allowed to do this.
    Forbidden,
    /// The request is well-formed but the operation cannot take it (a card
    /// amount over what was authorized, a capability the processor lacks).
    Unprocessable,
}

/// A rule refused a request; nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Refusal {
    pub kind: RefusalKind,
    /// Stable, snake_case: `invalid_amount`, `destination_account_closed`.
    pub code: &'static str,
    pub message: String,
    /// The request field it is about (camelCase, dotted: `amount.value`).
    pub field: Option<String>,
}

impl Refusal {
    pub fn new(kind: RefusalKind, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            code,
            message: message.into(),
            field: None,
        }
    }

    /// An invalid value of `field`.
    pub fn invalid(code: &'static str, message: impl Into<String>, field: &str) -> Self {
        Self::new(RefusalKind::Invalid, code, message).with_field(field)
    }

    /// `resource_not_found`: "no such {what}".
    pub fn not_found(what: &str) -> Self {
        Self::new(
            RefusalKind::NotFound,
            "resource_not_found",
            format!("no such {what}"),
        )
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(RefusalKind::Conflict, code, message)
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(RefusalKind::Forbidden, code, message)
    }

    /// `wrong_rail`: the object exists, but on the other rail (a card where
    /// a bank account is expected, …); `message` says what it is.
    pub fn wrong_rail(message: impl Into<String>) -> Self {
        Self::conflict("wrong_rail", message)
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl From<ValidationError> for Refusal {
    fn from(e: ValidationError) -> Self {
        Self::new(RefusalKind::Invalid, e.code, e.message).with_field(e.field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_validation_error_is_an_invalid_refusal_naming_its_field() {
        let r = Refusal::from(ValidationError::new("amount.value", "invalid_amount", "no"));
        assert_eq!(r.kind, RefusalKind::Invalid);
        assert_eq!(r.code, "invalid_amount");
        assert_eq!(r.field.as_deref(), Some("amount.value"));
        assert_eq!(r.to_string(), "invalid_amount: no");
    }

    #[test]
    fn not_found_names_the_missing_object() {
        let r = Refusal::not_found("payment method");
        assert_eq!(
            (r.kind, r.code, r.message.as_str()),
            (
                RefusalKind::NotFound,
                "resource_not_found",
                "no such payment method"
            )
        );
    }
}
