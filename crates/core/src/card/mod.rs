//! Cards: the card number, its brand and expiry (validated on construction),
//! and the card collection's lifecycle.
//!
//! ```text
//! authorization ─▶ authorized ─▶ captured ─▶ completed (batch settled)
//!                      │             │  │          │
//!                      ▼             ▼  └──────────┴─▶ partially_refunded ─▶ refunded
//!                   voided        voided
//! sale / force ─▶ captured        (declined: final, nothing moved)
//! ```

mod number;
mod payment_method;
mod status;

pub use number::{luhn_valid, CardBrand, CardNumber, Cvc, Expiry};
pub use payment_method::{BillingAddress, CardPaymentMethod};
pub use status::{
    CardCollection, CardRefund, CardStatus, CardStatusChange, CardTransitionError, CardTxType,
};
