//! Batch control record (type `8`).

use super::layout::batch_control as L;
use super::{record_wrapper, RawRecord};

/// The batch control record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BatchControl(pub(crate) RawRecord);
record_wrapper!(BatchControl);

impl BatchControl {
    /// Service class code.
    pub fn service_class_code(&self) -> Option<u64> {
        self.0.num(L::SERVICE_CLASS_CODE.span)
    }
    /// Entry/addenda count.
    pub fn entry_addenda_count(&self) -> Option<u64> {
        self.0.num(L::ENTRY_ADDENDA_COUNT.span)
    }
    /// Entry hash.
    pub fn entry_hash(&self) -> Option<u64> {
        self.0.num(L::ENTRY_HASH.span)
    }
    /// Total debit amount in cents.
    pub fn total_debit(&self) -> Option<u64> {
        self.0.num(L::TOTAL_DEBIT.span)
    }
    /// Total credit amount in cents.
    pub fn total_credit(&self) -> Option<u64> {
        self.0.num(L::TOTAL_CREDIT.span)
    }
    /// Company identification.
    pub fn company_identification(&self) -> String {
        self.0.text(L::COMPANY_IDENTIFICATION.span)
    }
    /// Batch number.
    pub fn batch_number(&self) -> Option<u64> {
        self.0.num(L::BATCH_NUMBER.span)
    }
}
