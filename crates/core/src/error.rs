//! The domain's validation error: which field is wrong, a stable code, and a
//! sentence a payments engineer can act on.

use std::fmt;

/// A value failed domain validation.
///
/// `field` is the name of the offending input (camelCase, as the API names it);
/// the HTTP layer returns it as `param`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ValidationError {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code,
            message: message.into(),
        }
    }

    /// Re-label the error with the full path of the field it came from,
    /// e.g. `routingNumber` → `oneTimeSource.routingNumber`.
    pub fn at(mut self, field: impl Into<String>) -> Self {
        self.field = field.into();
        self
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}
