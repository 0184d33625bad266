//! File control record (type `9`).

use super::layout::file_control as L;
use super::{record_wrapper, RawRecord};

/// The file control record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileControl(pub(crate) RawRecord);
record_wrapper!(FileControl);

impl FileControl {
    /// Batch count.
    pub fn batch_count(&self) -> Option<u64> {
        self.0.num(L::BATCH_COUNT.span)
    }
    /// Block count.
    pub fn block_count(&self) -> Option<u64> {
        self.0.num(L::BLOCK_COUNT.span)
    }
    /// Entry/addenda count.
    pub fn entry_addenda_count(&self) -> Option<u64> {
        self.0.num(L::ENTRY_ADDENDA_COUNT.span)
    }
    /// Entry hash.
    pub fn entry_hash(&self) -> Option<u64> {
        self.0.num(L::ENTRY_HASH.span)
    }
    /// Total debit amount in cents (standard layout).
    pub fn total_debit(&self) -> Option<u64> {
        self.0.num(L::TOTAL_DEBIT.span)
    }
    /// Total credit amount in cents (standard layout).
    pub fn total_credit(&self) -> Option<u64> {
        self.0.num(L::TOTAL_CREDIT.span)
    }
}
