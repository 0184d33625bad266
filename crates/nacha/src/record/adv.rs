//! ADV (automated accounting advice) views: the ADV entry detail, batch
//! control and file control layouts differ from the standard ones (12-digit
//! entry amounts, 20-digit totals).

use super::layout::{adv_batch_control as C, adv_entry_detail as E, adv_file_control as F};
use super::{BatchControl, EntryDetail, FileControl};

/// ADV view of an entry detail.
#[derive(Debug, Clone, Copy)]
pub struct AdvEntryDetail<'a>(pub &'a EntryDetail);

impl AdvEntryDetail<'_> {
    /// DFI account number (15).
    pub fn dfi_account_number(&self) -> String {
        self.0.raw().text(E::DFI_ACCOUNT_NUMBER.span)
    }
    /// Amount (12 digits).
    pub fn amount(&self) -> Option<u64> {
        self.0.raw().num(E::AMOUNT.span)
    }
    /// Advice routing number.
    pub fn advice_routing_number(&self) -> String {
        self.0.raw().text(E::ADVICE_ROUTING_NUMBER.span)
    }
    /// Individual name.
    pub fn individual_name(&self) -> String {
        self.0.raw().text(E::INDIVIDUAL_NAME.span)
    }
    /// Sequence number within the batch.
    pub fn sequence_number(&self) -> Option<u64> {
        self.0.raw().num(E::SEQUENCE_NUMBER.span)
    }
}

/// ADV view of a batch control.
#[derive(Debug, Clone, Copy)]
pub struct AdvBatchControl<'a>(pub &'a BatchControl);

impl AdvBatchControl<'_> {
    /// Total debits (20 digits).
    pub fn total_debit(&self) -> Option<u64> {
        self.0.raw().num(C::TOTAL_DEBIT.span)
    }
    /// Total credits (20 digits).
    pub fn total_credit(&self) -> Option<u64> {
        self.0.raw().num(C::TOTAL_CREDIT.span)
    }
}

/// ADV view of a file control.
#[derive(Debug, Clone, Copy)]
pub struct AdvFileControl<'a>(pub &'a FileControl);

impl AdvFileControl<'_> {
    /// Total debits (20 digits).
    pub fn total_debit(&self) -> Option<u64> {
        self.0.raw().num(F::TOTAL_DEBIT.span)
    }
    /// Total credits (20 digits).
    pub fn total_credit(&self) -> Option<u64> {
        self.0.raw().num(F::TOTAL_CREDIT.span)
    }
}
