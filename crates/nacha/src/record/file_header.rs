//! File header record (type `1`).

use super::layout::file_header as L;
use super::{record_wrapper, RawRecord};

/// The file header record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileHeader(pub(crate) RawRecord);
record_wrapper!(FileHeader);

impl FileHeader {
    /// Immediate destination as written (10 chars, usually ` ` + routing).
    pub fn immediate_destination(&self) -> String {
        self.0
            .text(L::IMMEDIATE_DESTINATION.span)
            .trim()
            .to_string()
    }
    /// Immediate origin (trimmed).
    pub fn immediate_origin(&self) -> String {
        self.0.text(L::IMMEDIATE_ORIGIN.span).trim().to_string()
    }
    /// File creation date `YYMMDD`.
    pub fn file_creation_date(&self) -> String {
        self.0.text(L::FILE_CREATION_DATE.span)
    }
    /// File creation time `HHMM` (may be blank).
    pub fn file_creation_time(&self) -> String {
        self.0.text(L::FILE_CREATION_TIME.span)
    }
    /// File ID modifier byte.
    pub fn file_id_modifier(&self) -> char {
        char::from(self.0.bytes()[33])
    }
    /// Immediate destination name.
    pub fn destination_name(&self) -> String {
        self.0.text(L::DESTINATION_NAME.span)
    }
    /// Immediate origin name.
    pub fn origin_name(&self) -> String {
        self.0.text(L::ORIGIN_NAME.span)
    }
    /// Reference code.
    pub fn reference_code(&self) -> String {
        self.0.text(L::REFERENCE_CODE.span)
    }
}
