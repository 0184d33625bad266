//! Reading NACHA files.
//!
//! * [`records`] / [`records_from`]: streaming iterator of typed records
//!   over `&[u8]` or any `BufRead`, one 94-byte record at a time.
//! * [`batches`]: streaming iterator of whole batches (header, entries with
//!   addenda, control) — memory bounded by the largest batch.
//! * [`read`]: the whole file into a [`NachaFile`].
//! * [`read_validated`]: whole file plus full validation in one pass.

pub mod lines;

use crate::model::{Batch, Entry, NachaFile};
use crate::record::{
    Addenda, BatchControl, BatchHeader, EntryDetail, FileControl, FileHeader, RawRecord, RecordKind,
};
use crate::validate::{Checker, Rule, ValidateOptions, ValidationError};
pub use lines::{LineIssue, RawLine, ReadLines, SliceLines};
use std::io::BufRead;

/// A typed record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// `1`.
    FileHeader(FileHeader),
    /// `5`.
    BatchHeader(BatchHeader),
    /// `6`.
    EntryDetail(EntryDetail),
    /// `7`.
    Addenda(Addenda),
    /// `8`.
    BatchControl(BatchControl),
    /// `9`.
    FileControl(FileControl),
    /// All-9 padding.
    Padding,
    /// Unknown record type; kept raw.
    Unknown(RawRecord),
}

impl Record {
    /// Types a raw record by its first byte.
    pub fn from_raw(raw: RawRecord) -> Record {
        match raw.kind() {
            RecordKind::FileHeader => Record::FileHeader(FileHeader(raw)),
            RecordKind::BatchHeader => Record::BatchHeader(BatchHeader(raw)),
            RecordKind::EntryDetail => Record::EntryDetail(EntryDetail(raw)),
            RecordKind::Addenda => Record::Addenda(Addenda(raw)),
            RecordKind::BatchControl => Record::BatchControl(BatchControl(raw)),
            RecordKind::FileControl => Record::FileControl(FileControl(raw)),
            RecordKind::Padding => Record::Padding,
            RecordKind::Unknown => Record::Unknown(raw),
        }
    }
}

/// A typed record with its line number and length issue.
#[derive(Debug, Clone)]
pub struct LineRecord {
    /// 1-based line number.
    pub line: u64,
    /// The record.
    pub record: Record,
    /// Length deviation of the source line, if any.
    pub issue: Option<LineIssue>,
}

fn typed(l: RawLine) -> LineRecord {
    LineRecord {
        line: l.line,
        record: Record::from_raw(l.record),
        issue: l.issue,
    }
}

/// Streams typed records from a byte slice.
pub fn records(data: &[u8]) -> impl Iterator<Item = LineRecord> + '_ {
    SliceLines::new(data).map(typed)
}

/// Streams typed records from a reader. I/O errors end the stream; use
/// [`ReadLines`] directly to inspect them.
pub fn records_from<R: BufRead>(r: R) -> impl Iterator<Item = LineRecord> {
    ReadLines::new(r).map(typed)
}

/// Structural problems that prevent building a model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot read NACHA file: {} problem(s), first: {}", errors.len(), errors.first().map(|e| e.to_string()).unwrap_or_default())]
pub struct ReadError {
    /// All structural problems found.
    pub errors: Vec<ValidationError>,
}

/// Builds the model from a record stream, recording structural problems.
#[derive(Debug, Default)]
pub(crate) struct Assembler {
    file: NachaFile,
    batch: Option<Batch>,
    done: bool,
    errors: Vec<ValidationError>,
}

impl Assembler {
    fn err(&mut self, line: u64, kind: RecordKind, rule: Rule, msg: &str) {
        self.errors
            .push(ValidationError::new(line, kind, rule, msg));
    }

    fn flush_batch(&mut self) {
        if let Some(b) = self.batch.take() {
            self.file.batches.push(b);
        }
    }

    pub(crate) fn push(&mut self, line: u64, rec: &Record) {
        match rec {
            Record::FileHeader(h) => {
                if self.file.header.is_some()
                    || !self.file.batches.is_empty()
                    || self.batch.is_some()
                {
                    self.err(
                        line,
                        RecordKind::FileHeader,
                        Rule::DuplicateFileHeader,
                        "unexpected second file header",
                    );
                } else {
                    self.file.header = Some(h.clone());
                }
            }
            Record::BatchHeader(h) => {
                self.flush_batch();
                self.batch = Some(Batch {
                    header: h.clone(),
                    entries: Vec::new(),
                    control: None,
                });
            }
            Record::EntryDetail(e) => match &mut self.batch {
                Some(b) if b.control.is_none() => b.entries.push(Entry {
                    detail: e.clone(),
                    addenda: Vec::new(),
                }),
                _ => self.err(
                    line,
                    RecordKind::EntryDetail,
                    Rule::RecordOrder,
                    "entry detail outside of a batch",
                ),
            },
            Record::Addenda(a) => match self.batch.as_mut().and_then(|b| {
                if b.control.is_some() {
                    None
                } else {
                    b.entries.last_mut()
                }
            }) {
                Some(e) => e.addenda.push(a.clone()),
                None => self.err(
                    line,
                    RecordKind::Addenda,
                    Rule::RecordOrder,
                    "addenda outside of an entry",
                ),
            },
            Record::BatchControl(c) => match &mut self.batch {
                Some(b) if b.control.is_none() => {
                    b.control = Some(c.clone());
                    self.flush_batch();
                }
                _ => self.err(
                    line,
                    RecordKind::BatchControl,
                    Rule::RecordOrder,
                    "batch control outside of a batch",
                ),
            },
            Record::FileControl(c) => {
                self.flush_batch();
                if self.file.control.is_some() {
                    self.err(
                        line,
                        RecordKind::FileControl,
                        Rule::DuplicateFileControl,
                        "unexpected second file control",
                    );
                } else {
                    self.file.control = Some(c.clone());
                    self.done = true;
                }
            }
            Record::Padding => self.file.padding_read += 1,
            Record::Unknown(r) => {
                let t = String::from_utf8_lossy(&r.bytes()[..1]).into_owned();
                self.err(
                    line,
                    RecordKind::Unknown,
                    Rule::UnknownRecordType,
                    &format!("unknown record type {t:?}"),
                );
            }
        }
    }

    pub(crate) fn finish(mut self) -> (NachaFile, Vec<ValidationError>) {
        self.flush_batch();
        (self.file, self.errors)
    }
}

/// Reads a whole file into the model. Fails only on structure the model
/// cannot hold (records outside a batch, unknown record types, duplicate
/// headers/controls); use [`crate::validate()`] for full validation.
pub fn read(data: &[u8]) -> Result<NachaFile, ReadError> {
    let mut asm = Assembler::default();
    for l in records(data) {
        asm.push(l.line, &l.record);
    }
    let (file, errors) = asm.finish();
    if errors.is_empty() {
        Ok(file)
    } else {
        Err(ReadError { errors })
    }
}

/// Reads a whole file from a reader.
pub fn read_from<R: BufRead>(r: R) -> Result<NachaFile, std::io::Error> {
    let mut lines = ReadLines::new(r);
    let mut asm = Assembler::default();
    for l in lines.by_ref() {
        asm.push(l.line, &Record::from_raw(l.record));
    }
    if let Some(e) = lines.take_io_error() {
        return Err(e);
    }
    let (file, errors) = asm.finish();
    if errors.is_empty() {
        Ok(file)
    } else {
        Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            ReadError { errors },
        ))
    }
}

/// Reads and fully validates in one pass. Returns the model (as far as it
/// could be built) and every finding (errors and warnings; the file is
/// valid when none is an error, see [`crate::validate::has_errors`]).
pub fn read_validated(data: &[u8], opts: &ValidateOptions) -> (NachaFile, Vec<ValidationError>) {
    let mut asm = Assembler::default();
    let mut checker = Checker::new(opts);
    for l in SliceLines::new(data) {
        checker.check_line(&l);
        asm.push(l.line, &Record::from_raw(l.record));
    }
    let (file, _structural) = asm.finish();
    (file, checker.finish())
}

/// Streaming iterator of whole batches; see [`batches`].
pub struct Batches<I> {
    inner: I,
    pending: Option<Batch>,
    /// File header, once seen.
    pub header: Option<FileHeader>,
    /// File control, once seen.
    pub control: Option<FileControl>,
}

/// Streams batches from a record iterator (e.g. [`records`] or
/// [`records_from`]). Records outside batches other than the file header
/// and control are skipped; validate separately to detect them.
pub fn batches<I: Iterator<Item = LineRecord>>(records: I) -> Batches<I> {
    Batches {
        inner: records,
        pending: None,
        header: None,
        control: None,
    }
}

impl<I: Iterator<Item = LineRecord>> Iterator for Batches<I> {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        for l in self.inner.by_ref() {
            match l.record {
                Record::FileHeader(h) => self.header = Some(h),
                Record::BatchHeader(h) => {
                    let prev = self.pending.replace(Batch {
                        header: h,
                        entries: Vec::new(),
                        control: None,
                    });
                    if prev.is_some() {
                        return prev;
                    }
                }
                Record::EntryDetail(d) => {
                    if let Some(b) = &mut self.pending {
                        b.entries.push(Entry {
                            detail: d,
                            addenda: Vec::new(),
                        });
                    }
                }
                Record::Addenda(a) => {
                    if let Some(e) = self.pending.as_mut().and_then(|b| b.entries.last_mut()) {
                        e.addenda.push(a);
                    }
                }
                Record::BatchControl(c) => {
                    if let Some(mut b) = self.pending.take() {
                        b.control = Some(c);
                        return Some(b);
                    }
                }
                Record::FileControl(c) => self.control = Some(c),
                Record::Padding | Record::Unknown(_) => {}
            }
        }
        self.pending.take()
    }
}
