//! Entry detail record (type `6`) in the standard (non-IAT, non-ADV)
//! layout. IAT and ADV batches use [`super::IatEntryDetail`] and
//! [`super::AdvEntryDetail`] views of the same record.

use super::layout::entry_detail as L;
use super::{record_wrapper, RawRecord};
use crate::codes::TransactionCode;

/// The entry detail record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EntryDetail(pub(crate) RawRecord);
record_wrapper!(EntryDetail);

impl EntryDetail {
    /// Transaction code (None if not two digits).
    pub fn transaction_code(&self) -> Option<TransactionCode> {
        TransactionCode::from_bytes(self.0.field(L::TRANSACTION_CODE.span))
    }
    /// RDFI identification (8 digits).
    pub fn rdfi_identification(&self) -> &[u8] {
        self.0.field(L::RDFI_IDENTIFICATION.span)
    }
    /// RDFI routing number (identification + check digit) as text.
    pub fn rdfi_routing(&self) -> String {
        String::from_utf8_lossy(&self.0.bytes()[3..12]).into_owned()
    }
    /// DFI account number (trailing spaces trimmed).
    pub fn dfi_account_number(&self) -> String {
        self.0.text(L::DFI_ACCOUNT_NUMBER.span)
    }
    /// Amount in cents (None if not digits).
    pub fn amount(&self) -> Option<u64> {
        self.0.num(L::AMOUNT.span)
    }
    /// Individual identification number / identification number.
    pub fn identification_number(&self) -> String {
        self.0.text(L::IDENTIFICATION_NUMBER.span)
    }
    /// Individual name / receiving company name.
    pub fn individual_name(&self) -> String {
        self.0.text(L::INDIVIDUAL_NAME.span)
    }
    /// Discretionary data (payment type code for WEB/TEL).
    pub fn discretionary_data(&self) -> String {
        self.0.text(L::DISCRETIONARY_DATA.span)
    }
    /// True when the addenda record indicator is `1`.
    pub fn has_addenda(&self) -> bool {
        self.0.bytes()[78] == b'1'
    }
    /// Trace number (None if not digits).
    pub fn trace_number(&self) -> Option<u64> {
        self.0.num(L::TRACE_NUMBER.span)
    }
}
