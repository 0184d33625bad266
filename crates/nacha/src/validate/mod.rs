//! Validation of NACHA files: record length and order, field formats,
//! routing check digits, SEC-code rules, service class vs transaction
//! codes, header/control agreement, counts, hashes, totals, block count,
//! trace and batch number order, return/change codes and originator status.
//!
//! Validation runs in a single streaming pass ([`Checker`]) over 94-byte
//! records and returns *all* findings. Named relaxations for real-world bank
//! files are in [`ValidateOptions`]; all are off by default (plus one
//! opt-in tightening, `require_padding`).

mod addenda;
mod batch;
mod checker;
mod controls;
mod entry;
pub mod error;
mod fields;
mod file;

pub use checker::Checker;
pub use error::{Rule, ValidationError};

use crate::model::NachaFile;
use crate::reader::lines::{RawLine, ReadLines, SliceLines};

/// Relaxations of named rules. Every option is off (strict) by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ValidateOptions {
    /// Do not require ascending batch numbers ([`Rule::BatchNumberOrder`]).
    pub allow_unordered_batch_numbers: bool,
    /// Do not require ascending trace numbers within a batch ([`Rule::TraceOrder`]).
    pub allow_unordered_trace_numbers: bool,
    /// Accept any `Rnn` return code with two digits ([`Rule::ReturnCode`]).
    pub allow_custom_return_codes: bool,
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
}

impl ValidateOptions {
    /// Strict defaults.
    pub fn strict() -> Self {
        Self::default()
    }
}

/// Validates raw file bytes in one streaming pass.
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
            c.check_line(&RawLine {
                line: i as u64 + 1,
                record: rec.clone(),
                issue: None,
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
