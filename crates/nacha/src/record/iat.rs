//! IAT (international ACH transaction) views of the batch header and entry
//! detail records. IAT addenda (types 10-18) are kept raw; see
//! [`super::addenda`] for their field layouts used by validation.

use super::layout::{iat_batch_header as H, iat_entry_detail as E};
use super::{BatchHeader, EntryDetail};

/// IAT view of a batch header.
#[derive(Debug, Clone, Copy)]
pub struct IatBatchHeader<'a>(pub &'a BatchHeader);

impl IatBatchHeader<'_> {
    /// IAT indicator (positions 5-20).
    pub fn iat_indicator(&self) -> String {
        self.0.raw().text(H::IAT_INDICATOR.span)
    }
    /// Foreign exchange indicator (`FV`, `VF`, `FF`).
    pub fn foreign_exchange_indicator(&self) -> String {
        self.0.raw().text(H::FOREIGN_EXCHANGE_INDICATOR.span)
    }
    /// ISO destination country code.
    pub fn iso_destination_country_code(&self) -> String {
        self.0.raw().text(H::ISO_DESTINATION_COUNTRY_CODE.span)
    }
    /// Originator identification.
    pub fn originator_identification(&self) -> String {
        self.0.raw().text(H::ORIGINATOR_IDENTIFICATION.span)
    }
    /// ISO originating currency code.
    pub fn iso_originating_currency_code(&self) -> String {
        self.0.raw().text(H::ISO_ORIGINATING_CURRENCY_CODE.span)
    }
    /// ISO destination currency code.
    pub fn iso_destination_currency_code(&self) -> String {
        self.0.raw().text(H::ISO_DESTINATION_CURRENCY_CODE.span)
    }
}

/// IAT view of an entry detail.
#[derive(Debug, Clone, Copy)]
pub struct IatEntryDetail<'a>(pub &'a EntryDetail);

impl IatEntryDetail<'_> {
    /// Number of addenda records declared by the entry.
    pub fn number_of_addenda(&self) -> Option<u64> {
        self.0.raw().num(E::NUMBER_OF_ADDENDA.span)
    }
    /// Foreign receiver's account number.
    pub fn foreign_account_number(&self) -> String {
        self.0.raw().text(E::FOREIGN_ACCOUNT_NUMBER.span)
    }
}
