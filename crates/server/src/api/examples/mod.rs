//! Request and response examples for the main operations of `/openapi.json`.
//!
//! The handlers' `#[utoipa::path]` attributes refer to these functions, so
//! the examples are part of the document generated from the handlers' types.
//! Every id has its real format (prefix, `_`, 32 hex digits) and the same
//! ids run through all the examples: the card sale's collection is the one
//! the refund example refunds. `tests/api/openapi_examples.rs` checks each
//! example against its schema, sends each request example (with real ids
//! in place of these) to a server on both backends, and checks that each
//! response example has the fields the server's answer has.

mod requests;
mod responses;

pub use requests::*;
pub use responses::*;

/// The ids the examples use; a test swaps them for the ids of real objects.
pub mod ids {
    /// The customer (`POST /v1/customers`).
    pub const CUSTOMER: &str = "cus_0193b7e2a1c47d8e9f0a1b2c3d4e5f60";
    /// The customer's destination account.
    pub const ACCOUNT: &str = "acc_0193b7e2a6f07c3d8e9fa0b1c2d3e4f5";
    /// A saved bank account.
    pub const BANK_PAYMENT_METHOD: &str = "pm_0193b7e2b2d47a1b8c9d0e1f2a3b4c5d";
    /// A saved card.
    pub const CARD_PAYMENT_METHOD: &str = "pm_0193b7e2b9e87f6a9b0c1d2e3f4a5b6c";
    /// An ACH debit.
    pub const ACH_COLLECTION: &str = "col_0193b7e2c4a17b2c8d3e4f5a6b7c8d9e";
    /// A card sale.
    pub const CARD_COLLECTION: &str = "col_0193b7e2c8f37e4d9a5b6c7d8e9f0a1b";
    /// A refund of the card sale.
    pub const REFUND: &str = "rfd_0193b7e2d1b27c5e8f6a7b8c9d0e1f2a";
    /// A webhook endpoint.
    pub const WEBHOOK_ENDPOINT: &str = "we_0193b7e2d7c47f8a9b0c1d2e3f4a5b6c";

    /// Every id above, for tests that substitute them.
    pub const ALL: &[&str] = &[
        CUSTOMER,
        ACCOUNT,
        BANK_PAYMENT_METHOD,
        CARD_PAYMENT_METHOD,
        ACH_COLLECTION,
        CARD_COLLECTION,
        REFUND,
        WEBHOOK_ENDPOINT,
    ];
}

/// The future-dated debit's effective date (a banking day within a year of
/// December 2026; the server refuses past dates and dates over a year out).
pub const FUTURE_EFFECTIVE_DATE: &str = "2027-03-15";
