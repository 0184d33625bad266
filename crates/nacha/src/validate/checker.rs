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
        // A short line is padded with spaces (as moov does) and reported
        // only when the padded record has another finding, with the
        // severity of the worst one; a long line is always an error.
        let worst = self.errors[before..].iter().map(|e| e.severity).max();
        let len_msg = match issue {
            Some(LineIssue::Long(n)) => Some((n, Severity::Error)),
            Some(LineIssue::Short(n)) => worst.map(|s| (n, s)),
            None => None,
        };
        if let Some((n, severity)) = len_msg {
            self.push(
                ValidationError::new(
                    line,
                    kind,
                    Rule::RecordLength,
                    format!("record must be 94 characters, found {n}"),
                )
                .values(94, n)
                .severity(severity),
            );
        }
    }

    /// Ends validation and returns every finding.
    pub fn finish(mut self) -> Vec<ValidationError> {
        if let Some(bs) = self.batch.take() {
            if !self.opts.allow_missing_batch_control {
                self.err(
                    bs.line,
                    RecordKind::BatchHeader,
                    Rule::MissingBatchControl,
                    None,
                    "batch has no batch control".into(),
                );
            }
            self.finish_entry_of(&bs);
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
