//! The builder's error type: which input is wrong and why.

/// Why a file could not be built. Locations are 1-based batch/entry indexes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// A text field is too long, empty where required, or has characters
    /// outside printable ASCII.
    #[error("{location}: {field}: {reason}")]
    Field {
        /// Where.
        location: String,
        /// Field name.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A rule of the SEC code, service class or transaction code is broken.
    #[error("{location}: {reason}")]
    Rule {
        /// Where.
        location: String,
        /// What is wrong.
        reason: String,
    },
    /// A batch has no entries.
    #[error("batch {0} has no entries")]
    EmptyBatch(usize),
    /// Counts overflow their fields.
    #[error("file too large: {0}")]
    TooLarge(&'static str),
}
