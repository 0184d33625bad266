//! Cards: the card number, its brand and expiry (validated on construction),
//! and the card collection's lifecycle.
//!
//! ```text
//! (every new one starts `pending` until the processor answers: ─▶ authorized | declined)
//! authorization ─▶ authorized ─▶ captured ─▶ completed (batch settled)
//!                      │             │  │          │
//!                      ▼             ▼  └──────────┴─▶ partially_refunded ─▶ refunded
//!                   voided        voided
//! sale / force ─▶ captured        (declined: final, nothing moved)
//! ```

pub mod call;
mod number;
mod payment_method;
mod status;

pub use call::{CallRequester, CallState, ProcessorCall};
pub use number::{luhn_valid, CardBrand, CardNumber, Cvc, Expiry};
pub use payment_method::{BillingAddress, CardPaymentMethod};
pub use status::{
    CardCollection, CardOperation, CardRefund, CardStatus, CardStatusChange, CardTransitionError,
    CardTxType, PendingOperation, RefundStatus,
};
