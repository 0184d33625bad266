//! The validation finding type: machine-readable location (line, record
//! kind, field), the rule that was broken, its [`Severity`], and
//! expected/found values, with a precise human message.

use crate::record::RecordKind;
use std::fmt;

/// A validation rule. Each error names exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// A record is not 94 characters.
    RecordLength,
    /// Position 1 is not a known record type code.
    UnknownRecordType,
    /// Record appears where it is not allowed (entry outside a batch, …).
    RecordOrder,
    /// No file header record.
    MissingFileHeader,
    /// More than one file header.
    DuplicateFileHeader,
    /// No file control record.
    MissingFileControl,
    /// More than one file control.
    DuplicateFileControl,
    /// Batch without a batch control.
    MissingBatchControl,
    /// Records after the file control that are not padding.
    DataAfterFileControl,
    /// A byte outside the NACHA character set (control characters, and
    /// anything beyond printable ASCII).
    InvalidCharacter,
    /// Field must be digits.
    NotNumeric,
    /// Mandatory field is blank or zero.
    MandatoryField,
    /// Invalid date or time.
    InvalidDate,
    /// Fixed-value field has the wrong value.
    InvalidConstant,
    /// Routing-number check digit mismatch.
    CheckDigit,
    /// File ID modifier is not A-Z / 0-9.
    FileIdModifier,
    /// Unknown service class code.
    ServiceClassCode,
    /// Unknown or inappropriate transaction code.
    TransactionCode,
    /// Unknown SEC code.
    SecCode,
    /// Entry transaction code not allowed by the batch service class.
    ServiceClassMismatch,
    /// Batch header and batch control disagree.
    HeaderControlMismatch,
    /// Entry/addenda count mismatch.
    EntryAddendaCount,
    /// Entry hash mismatch.
    EntryHash,
    /// Total debit amount mismatch.
    TotalDebit,
    /// Total credit amount mismatch.
    TotalCredit,
    /// Batch count mismatch.
    BatchCount,
    /// Block count mismatch.
    BlockCount,
    /// Record count is not a multiple of the blocking factor.
    Padding,
    /// Trace numbers not ascending within a batch.
    TraceOrder,
    /// Trace number does not start with the batch ODFI identification.
    TracePrefix,
    /// Batch numbers not ascending.
    BatchNumberOrder,
    /// Invalid return reason code.
    ReturnCode,
    /// Invalid change code.
    ChangeCode,
    /// Invalid originator status code.
    OriginatorStatusCode,
    /// Addenda record indicator disagrees with the addenda present.
    AddendaIndicator,
    /// Too many / disallowed addenda for the SEC code.
    AddendaCount,
    /// Addenda type not allowed here.
    AddendaType,
    /// Addenda sequence / entry sequence number mismatch.
    AddendaSequence,
    /// Prenote with a non-zero amount.
    PrenoteAmount,
    /// Live entry with a zero amount.
    ZeroAmount,
    /// Credit entry in a batch whose SEC code allows only debits.
    DebitOnly,
    /// Invalid WEB/TEL payment type code.
    PaymentTypeCode,
    /// Invalid card expiration date (SHR).
    CardExpirationDate,
    /// Malformed corrected data in a NOC.
    CorrectedData,
    /// Invalid immediate origin.
    ImmediateOrigin,
    /// A company entry description NACHA reserves (`RETURN FEE`,
    /// `RETRY PYMT`, `RECLAIM`, `AUTOENROLL`, …) on a batch whose entries
    /// cannot be that kind of entry.
    ReservedDescription,
    /// A batch mixing forward entries and returns (NOCs may join either).
    EntryCategory,
    /// A `REVERSAL` batch whose entries go the wrong way (a TEL reversal
    /// holds only credits: TEL forward entries are debits).
    ReversalDirection,
}

/// How serious a finding is.
///
/// * [`Severity::Error`]: the file breaks a rule; it is not valid.
/// * [`Severity::Warning`]: the file disagrees with itself in a way tolerant
///   bank parsers (e.g. moov-io/ach) accept, because the value is redundant
///   and recomputed by the receiver (the file control's tallies, and the
///   service class vs transaction code inside IAT batches), or because the
///   parser reads it anyway (Latin-1 bytes beyond ASCII, UTF-8 lines of 94
///   characters but more bytes). The file is
///   valid, but the disagreement is reported. [`super::ValidateOptions::strict`]
///   turns every warning into an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Reported, but the file is still valid (default mode only).
    Warning,
    /// The file is invalid.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// One validation finding: an error, or a warning (see [`Severity`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
pub struct ValidationError {
    /// 1-based line number (record number for files without newlines);
    /// 0 for file-level findings with no line.
    pub line: u64,
    /// 1-based column (position in the record) where the problem starts,
    /// when it is about a position: the offending byte, the first byte past
    /// 94, or the start of the field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// Kind of record the finding is about.
    pub record: RecordKind,
    /// Field name, if the finding is about one field.
    pub field: Option<&'static str>,
    /// The rule broken.
    pub rule: Rule,
    /// Error or warning.
    pub severity: Severity,
    /// Expected value, if meaningful.
    pub expected: Option<String>,
    /// Value found.
    pub found: Option<String>,
    /// Human-readable description (without the location prefix).
    pub message: String,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (0, _) => {}
            (l, Some(c)) => write!(f, "line {l}, column {c}: ")?,
            (l, None) => write!(f, "line {l}: ")?,
        }
        write!(f, "{}: ", self.record)?;
        if self.severity == Severity::Warning {
            f.write_str("warning: ")?;
        }
        f.write_str(&self.message)
    }
}

impl ValidationError {
    /// A new finding (severity [`Severity::Error`]) with a message.
    pub fn new(line: u64, record: RecordKind, rule: Rule, message: impl Into<String>) -> Self {
        ValidationError {
            line,
            column: None,
            record,
            field: None,
            rule,
            severity: Severity::Error,
            expected: None,
            found: None,
            message: message.into(),
        }
    }

    /// True for [`Severity::Error`] findings.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// True for [`Severity::Warning`] findings.
    pub fn is_warning(&self) -> bool {
        self.severity == Severity::Warning
    }

    /// Sets the severity.
    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    /// Sets the field name.
    pub fn field(mut self, name: &'static str) -> Self {
        self.field = Some(name);
        self
    }

    /// Sets expected and found values.
    pub fn values(mut self, expected: impl fmt::Display, found: impl fmt::Display) -> Self {
        self.expected = Some(expected.to_string());
        self.found = Some(found.to_string());
        self
    }

    /// Sets the 1-based column.
    pub fn column(mut self, column: usize) -> Self {
        self.column = u32::try_from(column).ok();
        self
    }

    /// Sets the field name and the column where the field starts.
    pub fn at(self, def: crate::record::layout::FieldDef) -> Self {
        self.field(def.name).column(def.span.start)
    }

    /// Sets only the found value.
    pub fn found(mut self, found: impl fmt::Display) -> Self {
        self.found = Some(found.to_string());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_prefixes_line_and_record_kind() {
        let e = ValidationError::new(
            3,
            RecordKind::EntryDetail,
            Rule::CheckDigit,
            "RDFI check digit 4 does not match computed 5",
        )
        .field("RDFI check digit")
        .values(5, 4);
        assert_eq!(
            e.to_string(),
            "line 3: entry detail: RDFI check digit 4 does not match computed 5"
        );
        assert_eq!(e.expected.as_deref(), Some("5"));
        assert!(e.is_error());
    }

    #[test]
    fn warnings_are_marked_in_display_and_json() {
        let w = ValidationError::new(
            93,
            RecordKind::FileControl,
            Rule::BatchCount,
            "batch count 5 does not match computed 4",
        )
        .severity(Severity::Warning);
        assert_eq!(
            w.to_string(),
            "line 93: file control: warning: batch count 5 does not match computed 4"
        );
        assert!(w.is_warning() && !w.is_error());
        let json = serde_json::to_value(&w).unwrap();
        assert_eq!(json["severity"], "warning");
    }
}
