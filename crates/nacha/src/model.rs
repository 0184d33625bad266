//! The file model: a [`NachaFile`] holds the file header, batches (header,
//! entries with their addenda, control) and the file control. Records keep
//! their raw bytes, so the model round-trips exactly.

use crate::codes::SecCode;
use crate::record::{
    Addenda, BatchControl, BatchHeader, EntryDetail, FileControl, FileHeader, RawRecord,
};

/// A whole NACHA file. Equality compares records only (not
/// `padding_read`).
#[derive(Debug, Clone, Eq, Default)]
pub struct NachaFile {
    /// File header (absent only in damaged files read with relaxed rules).
    pub header: Option<FileHeader>,
    /// Batches in file order.
    pub batches: Vec<Batch>,
    /// File control (absent only in damaged files read with relaxed rules).
    pub control: Option<FileControl>,
    /// Number of all-9 padding records read after the file control.
    /// The writer ignores it and always writes the padding needed.
    pub padding_read: usize,
}

impl PartialEq for NachaFile {
    fn eq(&self, other: &Self) -> bool {
        self.header == other.header
            && self.batches == other.batches
            && self.control == other.control
    }
}

/// One batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// Batch header.
    pub header: BatchHeader,
    /// Entries in order.
    pub entries: Vec<Entry>,
    /// Batch control (absent only in damaged files).
    pub control: Option<BatchControl>,
}

/// One entry detail record and its addenda.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Entry detail.
    pub detail: EntryDetail,
    /// Addenda records, in order.
    pub addenda: Vec<Addenda>,
}

impl Batch {
    /// SEC code of the batch.
    pub fn sec_code(&self) -> SecCode {
        self.header.sec_code()
    }

    /// Number of entry + addenda records.
    pub fn record_count(&self) -> usize {
        self.entries.iter().map(|e| 1 + e.addenda.len()).sum()
    }
}

impl NachaFile {
    /// Every record in file order, without padding.
    pub fn records(&self) -> impl Iterator<Item = &RawRecord> + '_ {
        let head = self.header.iter().map(|h| h.raw());
        let batches = self.batches.iter().flat_map(|b| {
            std::iter::once(b.header.raw())
                .chain(b.entries.iter().flat_map(|e| {
                    std::iter::once(e.detail.raw()).chain(e.addenda.iter().map(|a| a.raw()))
                }))
                .chain(b.control.iter().map(|c| c.raw()))
        });
        head.chain(batches)
            .chain(self.control.iter().map(|c| c.raw()))
    }

    /// Number of records excluding padding.
    pub fn record_count(&self) -> usize {
        usize::from(self.header.is_some())
            + usize::from(self.control.is_some())
            + self
                .batches
                .iter()
                .map(|b| 1 + usize::from(b.control.is_some()) + b.record_count())
                .sum::<usize>()
    }

    /// Number of entry detail records.
    pub fn entry_count(&self) -> usize {
        self.batches.iter().map(|b| b.entries.len()).sum()
    }

    /// Iterates all entries with their batch.
    pub fn entries(&self) -> impl Iterator<Item = (&Batch, &Entry)> + '_ {
        self.batches
            .iter()
            .flat_map(|b| b.entries.iter().map(move |e| (b, e)))
    }
}
