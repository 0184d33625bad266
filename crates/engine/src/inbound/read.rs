//! Reading an inbound file without holding it: the file (an upload's temp
//! file, a picked-up file, or bytes already in memory) is read as a stream
//! of 94-character records, never as a whole NACHA model.
//!
//! [`scan`] reads it once before anything is written: the SHA-256 of its
//! bytes, the full validation, the header facts and totals, and the check
//! that every entry is a return or a NOC — keeping only counts, the first
//! [`REPORT_LIST_LIMIT`] warnings and the entries that are neither. The
//! ingestion transaction then reads it again with [`Items`], a chunk of
//! entries at a time, so memory is bounded by a chunk whatever the file's
//! size (a bank file of 100,000 returns is 19 MB; the upload limit is
//! 100 MiB).

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::sync::Arc;

use chrono::NaiveDate;
use inflow_store::repo::returns::kind;
use nacha::reader::{RawLine, ReadLines, Record};
use sha2::{Digest, Sha256};

use super::{yymmdd, InboundItem, IngestError, REPORT_LIST_LIMIT};

/// Where an inbound file's bytes are.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// Already in memory.
    Bytes(Arc<[u8]>),
    /// A file on disk, read as a stream each time.
    Path(PathBuf),
}

impl Source {
    /// A fresh reader from the first byte.
    pub fn open(&self) -> std::io::Result<Box<dyn BufRead + Send + '_>> {
        Ok(match self {
            Source::Bytes(b) => Box::new(&b[..]),
            Source::Path(p) => {
                Box::new(BufReader::with_capacity(64 * 1024, std::fs::File::open(p)?))
            }
        })
    }
}

/// What [`scan`] found: everything needed before the transaction.
#[derive(Debug, Clone)]
pub(crate) struct Scanned {
    pub sha256: String,
    pub creation_date: NaiveDate,
    pub batch_count: i64,
    pub entry_count: i64,
    pub total_debit: i64,
    pub total_credit: i64,
    /// Return and NOC entries the file holds (what [`Items`] will yield).
    pub item_count: u64,
    /// The validation's warnings, the first [`REPORT_LIST_LIMIT`].
    pub warnings: Vec<String>,
    /// Warnings beyond those listed.
    pub warnings_omitted: u32,
}

/// Hash, validate and count the file; refuse it (changing nothing) if it
/// is empty, has validation errors, has no readable creation date, or
/// holds an entry that is neither a return nor a NOC.
pub(crate) fn scan(source: &Source) -> Result<Scanned, IngestError> {
    let (sha256, blank) = hash(source.open()?)?;
    if blank {
        return Err(IngestError::Empty);
    }
    let mut checker = nacha::validate::Checker::new(&nacha::ValidateOptions::default());
    let mut lines = ReadLines::new(source.open()?);
    let mut items = Items::new(lines.by_ref().inspect(|l| checker.check_line(l)));
    let item_count = items.by_ref().count() as u64;
    let facts = items.facts;
    if let Some(e) = lines.take_io_error() {
        return Err(e.into());
    }
    let findings = checker.finish();
    let (errors, warnings): (Vec<_>, Vec<_>) = findings
        .into_iter()
        .partition(|f| f.severity == nacha::Severity::Error);
    if !errors.is_empty() {
        return Err(IngestError::Invalid(
            errors.iter().map(|e| e.to_string()).collect(),
        ));
    }
    let creation_date = facts.creation_date.ok_or_else(|| {
        IngestError::Invalid(vec![
            "line 1: file header: file creation date is not a date".into(),
        ])
    })?;
    if !facts.not_returns.is_empty() {
        return Err(IngestError::NotReturnsOrNocs(facts.not_returns));
    }
    let warnings_omitted = warnings.len().saturating_sub(REPORT_LIST_LIMIT) as u32;
    Ok(Scanned {
        sha256,
        creation_date,
        batch_count: facts.batch_count,
        entry_count: facts.entry_count,
        total_debit: facts.total_debit,
        total_credit: facts.total_credit,
        item_count,
        warnings: warnings
            .iter()
            .take(REPORT_LIST_LIMIT)
            .map(|w| w.to_string())
            .collect(),
        warnings_omitted,
    })
}

/// Hex SHA-256 of everything `r` gives, and whether it was all whitespace.
fn hash(mut r: impl Read) -> std::io::Result<(String, bool)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut blank = true;
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            break;
        }
        blank = blank && buf[..n].iter().all(u8::is_ascii_whitespace);
        hasher.update(&buf[..n]);
    }
    Ok((hex::encode(hasher.finalize()), blank))
}

/// Header facts and totals gathered while reading.
#[derive(Debug, Default, Clone)]
pub(crate) struct Facts {
    pub creation_date: Option<NaiveDate>,
    pub batch_count: i64,
    pub entry_count: i64,
    pub total_debit: i64,
    pub total_credit: i64,
    /// `line N: entry detail: …` for entries without a return or NOC addenda.
    pub not_returns: Vec<String>,
}

/// The entry being read: its line, amount and trace, and whether an
/// addenda made it a return or NOC.
struct Open {
    line: u64,
    amount: i64,
    trace: String,
    found: bool,
}

/// The return and NOC items of a record stream, in file order; an entry's
/// items are yielded once its addenda are read.
pub(crate) struct Items<I> {
    lines: I,
    open: Option<Open>,
    in_batch: bool,
    ready: VecDeque<InboundItem>,
    pub facts: Facts,
}

impl<I: Iterator<Item = RawLine>> Items<I> {
    pub fn new(lines: I) -> Self {
        Self {
            lines,
            open: None,
            in_batch: false,
            ready: VecDeque::new(),
            facts: Facts::default(),
        }
    }

    fn close_entry(&mut self) {
        if let Some(e) = self.open.take() {
            if !e.found {
                self.facts.not_returns.push(format!(
                    "line {}: entry detail: trace {} has no return (99) or NOC (98) addenda",
                    e.line, e.trace
                ));
            }
        }
    }

    fn take(&mut self, line: u64, record: Record) {
        match record {
            Record::FileHeader(h) => {
                self.close_entry();
                self.facts.creation_date = yymmdd(&h.file_creation_date());
            }
            Record::BatchHeader(_) => {
                self.close_entry();
                self.facts.batch_count += 1;
                self.in_batch = true;
            }
            Record::EntryDetail(d) => {
                self.close_entry();
                if !self.in_batch {
                    return; // a validation error; never applied
                }
                self.facts.entry_count += 1;
                let amount = d.amount().unwrap_or(0) as i64;
                match d.transaction_code() {
                    Some(tc) if tc.is_debit() => self.facts.total_debit += amount,
                    _ => self.facts.total_credit += amount,
                }
                let trace = d
                    .trace_number()
                    .map(|t| format!("{t:015}"))
                    .unwrap_or_default();
                self.open = Some(Open {
                    line,
                    amount,
                    trace,
                    found: false,
                });
            }
            Record::Addenda(a) => {
                let Some(e) = self.open.as_mut() else {
                    return;
                };
                if let Some(r) = a.return_info() {
                    e.found = true;
                    let kind = match a.kind() {
                        nacha::record::AddendaKind::DishonoredReturn => kind::DISHONORED_RETURN,
                        nacha::record::AddendaKind::ContestedReturn => kind::CONTESTED_RETURN,
                        _ => kind::RETURN,
                    };
                    let item = InboundItem {
                        line: e.line,
                        kind,
                        code: r.code_text.trim().to_owned(),
                        original_trace: r.original_trace.trim().to_owned(),
                        entry_trace: trace_or(&r.trace_number, &e.trace),
                        amount: e.amount,
                        corrected_data: None,
                        correction: None,
                        addenda_information: r.addenda_information.trim().to_owned(),
                    };
                    self.ready.push_back(item);
                } else if let Some(n) = a.noc_info() {
                    e.found = true;
                    let refused = n.code.is_some_and(|c| c.is_refused());
                    let item = InboundItem {
                        line: e.line,
                        kind: if refused {
                            kind::REFUSED_NOC
                        } else {
                            kind::NOC
                        },
                        code: n.code_text.trim().to_owned(),
                        original_trace: n.original_trace.trim().to_owned(),
                        entry_trace: trace_or(&n.trace_number, &e.trace),
                        amount: e.amount,
                        corrected_data: Some(n.corrected_data.clone()),
                        correction: n.correction.clone(),
                        addenda_information: String::new(),
                    };
                    self.ready.push_back(item);
                }
            }
            Record::BatchControl(_) => {
                self.close_entry();
                self.in_batch = false;
            }
            Record::FileControl(_) => {
                self.close_entry();
                self.in_batch = false;
            }
            Record::Padding | Record::Unknown(_) => {}
        }
    }
}

impl<I: Iterator<Item = RawLine>> Iterator for Items<I> {
    type Item = InboundItem;

    fn next(&mut self) -> Option<InboundItem> {
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Some(item);
            }
            match self.lines.next() {
                Some(l) => {
                    let line = l.line;
                    self.take(line, Record::from_raw(l.record));
                }
                None => {
                    self.close_entry();
                    return None;
                }
            }
        }
    }
}

fn trace_or(addenda_trace: &str, entry_trace: &str) -> String {
    let t = addenda_trace.trim();
    if t.is_empty() {
        entry_trace.to_owned()
    } else {
        t.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/ach-testdata/moov/test/testdata")
            .join(name);
        std::fs::read(path).unwrap()
    }

    #[test]
    fn the_same_items_from_bytes_and_from_a_file() {
        let bytes = fixture("return-WEB.ach");
        let from_bytes = scan(&Source::Bytes(bytes.clone().into())).unwrap();
        let dir = std::env::temp_dir().join(format!("inflow-read-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("return-WEB.ach");
        std::fs::write(&path, &bytes).unwrap();
        let source = Source::Path(path);
        let from_file = scan(&source).unwrap();
        assert_eq!(from_bytes.sha256, from_file.sha256);
        assert_eq!(from_bytes.sha256, super::super::content_sha256(&bytes));
        assert_eq!(from_file.item_count, 2);
        assert_eq!(from_file.entry_count, 2);
        let items: Vec<_> = Items::new(ReadLines::new(source.open().unwrap())).collect();
        assert_eq!(items.len() as u64, from_file.item_count);
        assert!(items.iter().all(|i| i.kind == kind::RETURN));
        assert!(items.iter().all(|i| i.line > 2), "{items:?}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_forward_entry_is_refused_naming_its_line() {
        let bytes = fixture("ppd-mixedDebitCredit.ach");
        match scan(&Source::Bytes(bytes.into())) {
            Err(IngestError::NotReturnsOrNocs(v)) => {
                assert!(v[0].starts_with("line 3: entry detail"), "{v:?}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn whitespace_is_an_empty_file() {
        let r = scan(&Source::Bytes(b"  \n\n".to_vec().into()));
        assert!(matches!(r, Err(IngestError::Empty)), "{r:?}");
    }
}
