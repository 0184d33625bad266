//! Validation of NACHA files: record length and order, field formats,
//! routing check digits, SEC-code rules, service class vs transaction
//! codes, header/control agreement, counts, hashes, totals, block count,
//! trace and batch number order, return/change codes and originator status.
//!
//! Validation runs in a single streaming pass ([`Checker`]) over 94-byte
//! records and returns *all* findings, each an error or a warning
//! ([`Severity`]). A file is valid when it has no errors.
//!
//! **Default mode** accepts what a tolerant bank parser (moov-io/ach)
//! accepts, but still reports the disagreement as a warning: the file
//! control's redundant tallies (batch count, block count, entry/addenda
//! count, entry hash, debit/credit totals) not matching the file, a
//! transaction code the service class does not allow inside an IAT batch,
//! bytes beyond ASCII that moov's character check accepts (Latin-1 letters
//! and a few symbols), and UTF-8 lines of 94 characters but more bytes.
//! Everything else is an error. **Strict mode** ([`ValidateOptions::strict`])
//! turns every warning into an error; Inflow checks every file it writes in
//! strict mode ([`crate::NachaFile::to_checked_bytes`]).
//!
//! Named relaxations for real-world bank files are in [`ValidateOptions`];
//! all are off by default (plus one opt-in tightening, `require_padding`).

mod addenda;
mod batch;
mod checker;
mod controls;
mod entry;
pub mod error;
mod fields;
mod file;

pub use checker::Checker;
pub use error::{Rule, Severity, ValidationError};

use crate::model::NachaFile;
use crate::reader::lines::{RawLine, ReadLines, SliceLines};

/// Validation options: named relaxations (all off by default), one opt-in
/// tightening (`require_padding`) and strict mode (`strict`).
///
/// `ValidateOptions::default()` is the tolerant reading mode for files
/// received from banks: disagreements that moov-io/ach accepts are reported
/// as [`Severity::Warning`]. [`ValidateOptions::strict()`] is for files
/// Inflow writes: every warning becomes an error.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ValidateOptions {
    /// Do not require ascending batch numbers ([`Rule::BatchNumberOrder`]).
    pub allow_unordered_batch_numbers: bool,
    /// Do not require ascending trace numbers within a batch ([`Rule::TraceOrder`]).
    pub allow_unordered_trace_numbers: bool,
    /// Accept any `Rnn` return code with two digits ([`Rule::ReturnCode`]).
    pub allow_custom_return_codes: bool,
    /// Do not require trace numbers to start with the batch's ODFI
    /// identification ([`Rule::TracePrefix`]), as moov-io/ach's
    /// `customTraceNumbers` (which also drops the ascending-order check;
    /// here that is [`Self::allow_unordered_trace_numbers`]).
    pub custom_trace_numbers: bool,
    /// Skip the check digit of the immediate destination.
    pub skip_destination_check_digit: bool,
    /// Accept a file without a file header ([`Rule::MissingFileHeader`]).
    pub allow_missing_file_header: bool,
    /// Accept a file without a file control ([`Rule::MissingFileControl`]).
    pub allow_missing_file_control: bool,
    /// Accept batches without a batch control ([`Rule::MissingBatchControl`]).
    pub allow_missing_batch_control: bool,
    /// Opt-in tightening: require the record count (incl. padding) to be a
    /// multiple of 10 ([`Rule::Padding`]). Off by default because many real
    /// files (and moov's fixtures) omit the all-9 padding; the block count
    /// in the file control is always checked.
    pub require_padding: bool,
    /// Strict mode: report every finding that would be a
    /// [`Severity::Warning`] as a [`Severity::Error`] (file control tallies,
    /// service class vs transaction code in IAT batches). Use it for every
    /// file Inflow writes.
    pub strict: bool,
}

impl ValidateOptions {
    /// Strict mode: no relaxations and every warning is an error.
    pub fn strict() -> Self {
        ValidateOptions {
            strict: true,
            ..Self::default()
        }
    }
}

/// True when `findings` contains at least one [`Severity::Error`].
pub fn has_errors(findings: &[ValidationError]) -> bool {
    findings.iter().any(ValidationError::is_error)
}

/// Validates raw file bytes in one streaming pass. Returns every finding,
/// errors and warnings, in file order; the file is valid when none is an
/// error ([`has_errors`]).
pub fn validate(data: &[u8], opts: &ValidateOptions) -> Vec<ValidationError> {
    let mut c = Checker::new(opts);
    for l in SliceLines::new(data) {
        c.check_line(&l);
    }
    c.finish()
}

/// Validates a file from a reader without loading it into a model.
pub fn validate_from<R: std::io::BufRead>(
    r: R,
    opts: &ValidateOptions,
) -> Result<Vec<ValidationError>, std::io::Error> {
    let mut c = Checker::new(opts);
    let mut lines = ReadLines::new(r);
    for l in lines.by_ref() {
        c.check_line(&l);
    }
    if let Some(e) = lines.take_io_error() {
        return Err(e);
    }
    Ok(c.finish())
}

impl NachaFile {
    /// Validates the model (records are numbered in file order).
    pub fn validate(&self, opts: &ValidateOptions) -> Vec<ValidationError> {
        let mut c = Checker::new(opts);
        for (i, rec) in self.records().enumerate() {
            // A record read from a UTF-8 line is written back as that line.
            let issue = rec
                .source()
                .map(<[u8]>::len)
                .filter(|&n| n > crate::field::RECORD_LEN)
                .map(crate::reader::lines::LineIssue::Multibyte);
            c.check_line(&RawLine {
                line: i as u64 + 1,
                record: rec.clone(),
                issue,
            });
        }
        let n = self.record_count() as u64;
        let pad = (10 - n % 10) % 10;
        for line in n + 1..=n + pad {
            c.check_line(&RawLine {
                line,
                record: crate::record::RawRecord::new([b'9'; crate::field::RECORD_LEN]),
                issue: None,
            });
        }
        c.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::*;

    /// A one-batch PPD debit file (service class 225), as text lines.
    fn ppd_debit_lines() -> Vec<String> {
        let rt = |s| RoutingNumber::parse(s).unwrap();
        let file = FileBuilder::new(FileHeaderSpec::new(
            rt("231380104"),
            "1210428822",
            "FED",
            "ACME",
            Date::new(2025, 1, 3),
            'A',
        ))
        .batch(BatchSpec::new(
            ServiceClass::DebitsOnly,
            SecCode::Ppd,
            "ACME",
            "1234567890",
            "PAYMENT",
            Date::new(2025, 1, 6),
            rt("121042882"),
        ))
        .entry(EntrySpec::new(
            TransactionCode::CHECKING_DEBIT,
            rt("231380104"),
            "12345",
            100,
            "JANE DOE",
        ))
        .build()
        .unwrap();
        let text = String::from_utf8(file.to_bytes()).unwrap();
        text.lines().map(String::from).collect()
    }

    fn check(lines: &[String], opts: &ValidateOptions) -> Vec<(Rule, Severity)> {
        validate(lines.join("\n").as_bytes(), opts)
            .iter()
            .map(|e| (e.rule, e.severity))
            .collect()
    }

    #[test]
    fn file_control_tallies_are_warnings_by_default_and_errors_when_strict() {
        let mut l = ppd_debit_lines();
        l[4].replace_range(1..7, "000002"); // batch count 2, file has 1
        assert_eq!(
            check(&l, &ValidateOptions::default()),
            [(Rule::BatchCount, Severity::Warning)]
        );
        assert_eq!(
            check(&l, &ValidateOptions::strict()),
            [(Rule::BatchCount, Severity::Error)]
        );
        assert!(!has_errors(&validate(
            l.join("\n").as_bytes(),
            &ValidateOptions::default()
        )));
    }

    #[test]
    fn a_zero_mandatory_tally_is_an_error_in_every_mode() {
        let mut l = ppd_debit_lines();
        l[4].replace_range(13..21, "00000000"); // entry/addenda count 0
        assert_eq!(
            check(&l, &ValidateOptions::default()),
            [(Rule::EntryAddendaCount, Severity::Error)]
        );
    }

    #[test]
    fn batch_control_tallies_and_non_iat_service_class_stay_errors() {
        let mut l = ppd_debit_lines();
        l[3].replace_range(4..10, "000002"); // batch control entry count
        assert_eq!(
            check(&l, &ValidateOptions::default()),
            [(Rule::EntryAddendaCount, Severity::Error)]
        );
        let mut l = ppd_debit_lines();
        l[1].replace_range(1..4, "220"); // credits-only batch with a debit
        l[3].replace_range(1..4, "220");
        assert_eq!(
            check(&l, &ValidateOptions::default()),
            [(Rule::ServiceClassMismatch, Severity::Error)]
        );
    }

    #[test]
    fn a_short_line_takes_the_severity_of_the_records_worst_finding() {
        let mut l = ppd_debit_lines();
        l[4].replace_range(1..7, "000002");
        l[4].truncate(55); // blank tail dropped, as some writers do
        assert_eq!(
            check(&l, &ValidateOptions::default()),
            [
                (Rule::BatchCount, Severity::Warning),
                (Rule::RecordLength, Severity::Warning)
            ]
        );
        assert_eq!(
            check(&l, &ValidateOptions::strict()),
            [
                (Rule::BatchCount, Severity::Error),
                (Rule::RecordLength, Severity::Error)
            ]
        );
        let mut l = ppd_debit_lines();
        l[4].truncate(55);
        assert!(check(&l, &ValidateOptions::strict()).is_empty());
    }

    #[test]
    fn checked_bytes_refuse_a_file_with_any_finding() {
        let mut file = crate::read(ppd_debit_lines().join("\n").as_bytes()).unwrap();
        assert!(file.to_checked_bytes().is_ok());
        let mut c = *file.control.as_ref().unwrap().0.bytes();
        c[1..7].copy_from_slice(b"000002");
        file.control = Some(crate::record::FileControl(crate::record::RawRecord::new(c)));
        let findings = file.to_checked_bytes().unwrap_err();
        assert_eq!(findings[0].rule, Rule::BatchCount);
        assert!(findings[0].is_error());
    }
}
