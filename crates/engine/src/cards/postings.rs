//! Ledger hooks: one function per card money movement, called in the same
//! transaction as the change. The double-entry ledger (#6) is built on
//! another branch; until it is merged these post nothing.

use inflow_core::card::{CardCollection, CardRefund};
use inflow_store::{StoreError, Tx};

/// Money captured (sale, force or capture of an authorization): `amount_minor`.
pub async fn on_capture(
    _tx: &mut Tx,
    _c: &CardCollection,
    _amount_minor: i64,
) -> Result<(), StoreError> {
    // ledger (#6) posts here: debit card clearing, credit the destination account (pending).
    Ok(())
}

/// A capture cancelled before settlement (a void of an authorization moves no money).
pub async fn on_void(
    _tx: &mut Tx,
    _c: &CardCollection,
    _voided_capture_minor: i64,
) -> Result<(), StoreError> {
    // ledger (#6) posts here: reverse the capture's posting when `_voided_capture_minor` > 0.
    Ok(())
}

/// A refund of (part of) a capture.
pub async fn on_refund(
    _tx: &mut Tx,
    _c: &CardCollection,
    _r: &CardRefund,
) -> Result<(), StoreError> {
    // ledger (#6) posts here: debit the destination account, credit card clearing.
    Ok(())
}
