//! The single-pass validation state machine. Feed it records in file order
//! with [`Checker::check_line`], then call [`Checker::finish`]. The
//! per-record checks live in the sibling modules (`file`, `batch`, `entry`,
//! `addenda`, `controls`); this module holds the state, the dispatch, the
//! short-line rule and the end-of-file checks, and decides the severity of
//! tolerated disagreements (warning, or error in strict mode).

use super::error::{Rule, Severity, ValidationError};
use super::fields::show;
use super::ValidateOptions;
use crate::codes::{SecCode, ServiceClass};
use crate::reader::lines::{LineIssue, RawLine};
use crate::record::{RawRecord, RecordKind};

#[derive(Debug)]
pub(super) struct EntryState {
    pub(super) line: u64,
    pub(super) has_indicator: bool,
    pub(super) addenda: u32,
    pub(super) count05: u32,
    pub(super) trace: Option<u64>,
    pub(super) category: Category,
}

/// What an entry is, by its addenda (moov-io/ach's entry category): a
/// forward entry, a return (addenda 99) or a notification of change (98).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Category {
    Forward,
    Return,
    Noc,
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Category::Forward => "forward entry",
            Category::Return => "return",
            Category::Noc => "notification of change",
        })
    }
}

#[derive(Debug)]
pub(super) struct BatchState {
    pub(super) line: u64,
    pub(super) sec: SecCode,
    pub(super) is_iat: bool,
    pub(super) scc: Option<ServiceClass>,
    pub(super) scc_raw: [u8; 3],
    pub(super) company_id: [u8; 10],
    pub(super) odfi: [u8; 8],
    pub(super) batch_number: [u8; 7],
    pub(super) reversal: bool,
    pub(super) reserved: Option<crate::codes::ReservedDescription>,
    pub(super) osc: u8,
    pub(super) dne_reported: bool,
    /// The first entry's category; later entries (NOCs aside) must match.
    pub(super) category: Option<Category>,
    pub(super) records: u64,
    pub(super) hash: u64,
    pub(super) debit: u64,
    pub(super) credit: u64,
    pub(super) last_trace: Option<u64>,
    pub(super) entry: Option<EntryState>,
}

impl BatchState {
    pub(super) fn is_adv(&self) -> bool {
        self.sec == SecCode::Adv
    }
}

/// Non-ASCII bytes moov-io/ach's alphanumeric check accepts (as Latin-1
/// characters): `À`–`ÿ`, no-break space, `¢`, `¬`, `¦`, `±`.
fn moov_tolerates(c: u8) -> bool {
    c >= 0xC0 || matches!(c, 0xA0 | 0xA2 | 0xAC | 0xA6 | 0xB1)
}

/// Streaming validator state.
#[derive(Debug)]
pub struct Checker {
    pub(super) opts: ValidateOptions,
    pub(super) errors: Vec<ValidationError>,
    pub(super) header_seen: bool,
    pub(super) any_record: bool,
    pub(super) control_seen: bool,
    pub(super) batch: Option<BatchState>,
    pub(super) batch_count: u64,
    pub(super) records: u64,
    pub(super) physical: u64,
    pub(super) entry_addenda: u64,
    pub(super) hash: u64,
    pub(super) debit: u64,
    pub(super) credit: u64,
    pub(super) last_batch_number: Option<u64>,
    pub(super) adv_file: bool,
    pub(super) after_control_reported: bool,
}

impl Checker {
    /// A checker with the given options.
    pub fn new(opts: &ValidateOptions) -> Self {
        Checker {
            opts: *opts,
            errors: Vec::new(),
            header_seen: false,
            any_record: false,
            control_seen: false,
            batch: None,
            batch_count: 0,
            records: 0,
            physical: 0,
            entry_addenda: 0,
            hash: 0,
            debit: 0,
            credit: 0,
            last_batch_number: None,
            adv_file: false,
            after_control_reported: false,
        }
    }

    /// The severity of a disagreement that tolerant parsers accept:
    /// [`Severity::Warning`], or [`Severity::Error`] in strict mode.
    pub(super) fn tolerated(&self) -> Severity {
        if self.opts.strict {
            Severity::Error
        } else {
            Severity::Warning
        }
    }

    pub(super) fn push(&mut self, e: ValidationError) {
        self.errors.push(e);
    }

    pub(super) fn err(
        &mut self,
        line: u64,
        kind: RecordKind,
        rule: Rule,
        field: Option<&'static str>,
        msg: String,
    ) {
        let mut e = ValidationError::new(line, kind, rule, msg);
        e.field = field;
        self.errors.push(e);
    }

    /// Checks one record cut from the input.
    pub fn check_line(&mut self, l: &RawLine) {
        self.check_record(l.line, &l.record, l.issue);
    }

    /// Checks one record.
    pub fn check_record(&mut self, line: u64, rec: &RawRecord, issue: Option<LineIssue>) {
        let before = self.errors.len();
        let kind = rec.kind();
        let b = rec.bytes();
        self.physical += 1;
        if kind != RecordKind::Padding {
            if self.control_seen && !self.after_control_reported {
                self.after_control_reported = true;
                self.err(
                    line,
                    kind,
                    Rule::DataAfterFileControl,
                    None,
                    format!("{kind} after the file control"),
                );
            }
            self.records += 1;
        }
        match kind {
            RecordKind::FileHeader => self.file_header(line, b),
            RecordKind::BatchHeader => self.batch_header(line, b),
            RecordKind::EntryDetail => self.entry(line, b),
            RecordKind::Addenda => self.addenda(line, rec),
            RecordKind::BatchControl => self.batch_control(line, b),
            RecordKind::FileControl => self.file_control(line, b),
            RecordKind::Padding => {}
            RecordKind::Unknown => self.err(
                line,
                kind,
                Rule::UnknownRecordType,
                Some("record type code"),
                format!("unknown record type code {:?}", show(&b[..1])),
            ),
        }
        self.any_record = true;
        self.check_charset(line, kind, rec);
        self.check_length(line, kind, issue, before);
    }

    /// A short line is padded with spaces (as moov does) and reported only
    /// when the padded record has another finding, with the severity of the
    /// worst one; a long line is always an error; a line of 94 characters
    /// but more bytes (UTF-8) is tolerated as moov does (it counts
    /// characters) → a warning, an error in strict mode.
    fn check_length(
        &mut self,
        line: u64,
        kind: RecordKind,
        issue: Option<LineIssue>,
        before: usize,
    ) {
        let worst = self.errors[before..].iter().map(|e| e.severity).max();
        let (n, severity, unit) = match issue {
            Some(LineIssue::Long(n)) => (n, Severity::Error, "characters"),
            Some(LineIssue::Short(n)) => match worst {
                Some(s) => (n, s, "characters"),
                None => return,
            },
            Some(LineIssue::Multibyte(n)) => (n, self.tolerated(), "bytes"),
            None => return,
        };
        let column = if n < crate::field::RECORD_LEN {
            n + 1
        } else {
            crate::field::RECORD_LEN + 1
        };
        self.push(
            ValidationError::new(
                line,
                kind,
                Rule::RecordLength,
                format!("record must be 94 {unit}, found {n}"),
            )
            .values(94, n)
            .column(column)
            .severity(severity),
        );
    }

    /// Every byte of a record must be in the NACHA character set (printable
    /// ASCII). Control characters are reported per field (errors); this
    /// reports one byte beyond ASCII per record (the first moov refuses too,
    /// else the first), counting the others. Bytes moov
    /// accepts (Latin-1 letters and a few symbols) are tolerated → a
    /// warning, an error in strict mode; any other is an error.
    fn check_charset(&mut self, line: u64, kind: RecordKind, rec: &RawRecord) {
        let b = rec.bytes();
        if b.is_ascii() {
            return; // the common case, checked a word at a time
        }
        let beyond = |c: &u8| *c >= 0x80;
        // The first byte moov refuses too, else the first beyond ASCII.
        let (p, severity) = match b.iter().position(|c| beyond(c) && !moov_tolerates(*c)) {
            Some(p) => (p, Severity::Error),
            None => match b.iter().position(beyond) {
                Some(p) => (p, self.tolerated()),
                None => return,
            },
        };
        let more = b.iter().filter(|c| beyond(c)).count() - 1;
        let shown = rec.char_at(p);
        let field = super::fields::field_at(kind, b, p + 1);
        let tail = if more > 0 {
            format!(" (and {more} more)")
        } else {
            String::new()
        };
        let what = field.map_or_else(|| "record".to_owned(), |f| f.to_owned());
        let mut e = ValidationError::new(
            line,
            kind,
            Rule::InvalidCharacter,
            format!("{what} holds {shown}, outside the NACHA character set{tail}"),
        )
        .column(p + 1)
        .found(shown)
        .severity(severity);
        e.field = field;
        self.push(e);
    }

    /// Ends validation and returns every finding.
    pub fn finish(mut self) -> Vec<ValidationError> {
        if let Some(mut bs) = self.batch.take() {
            if !self.opts.allow_missing_batch_control {
                self.err(
                    bs.line,
                    RecordKind::BatchHeader,
                    Rule::MissingBatchControl,
                    None,
                    "batch has no batch control".into(),
                );
            }
            self.finish_entry_of(&mut bs);
        }
        if !self.header_seen && !self.opts.allow_missing_file_header {
            self.err(
                0,
                RecordKind::FileHeader,
                Rule::MissingFileHeader,
                None,
                "file has no file header".into(),
            );
        }
        if !self.control_seen && !self.opts.allow_missing_file_control {
            self.err(
                0,
                RecordKind::FileControl,
                Rule::MissingFileControl,
                None,
                "file has no file control".into(),
            );
        }
        if self.control_seen && !self.physical.is_multiple_of(10) && self.opts.require_padding {
            self.push(
                ValidationError::new(
                    0,
                    RecordKind::Padding,
                    Rule::Padding,
                    format!(
                        "file has {} records; padding must bring it to a multiple of 10",
                        self.physical
                    ),
                )
                .values("a multiple of 10", self.physical),
            );
        }
        self.errors
    }
}
