//! The card rail: a processor connector ([`processor`]), the built-in
//! deterministic [`sandbox`] processor, and the operations on card
//! collections, each in three steps so the processor is never called inside
//! a database transaction:
//!
//! 1. [`reserve`]: check the operation and commit the processor call about
//!    to be made (a new collection starts `pending`);
//! 2. [`call::make_call`]: call the processor with the call's reference as
//!    its idempotency key;
//! 3. [`call::confirm`]: commit the answer — new state, status history,
//!    events and ledger postings ([`postings`]) together.
//!
//! A call left without an answer (timeout, 5xx, crash) is retried with the
//! same reference by the client's retry or by [`jobs`], which also voids
//! expired authorizations and closes the processor's daily batch.

pub mod call;
pub mod capability;
pub mod disputes;
pub mod error;
pub mod jobs;
pub mod postings;
pub mod processor;
pub mod reserve;
pub mod sandbox;
pub mod stripe;

use chrono::NaiveTime;

pub use error::CardError;
pub use processor::{Capabilities, CardProcessor, DisabledProcessor, ProcessorError};
pub use reserve::NewCardCollection;
pub use sandbox::SandboxProcessor;
pub use stripe::{StripeConfig, StripeProcessor};

/// How the card rail runs.
#[derive(Debug, Clone)]
pub struct CardConfig {
    /// Days an uncaptured authorization lives before it is voided.
    pub authorization_ttl_days: u32,
    /// When the processor's batch closes each day (US/Eastern).
    pub batch_close: NaiveTime,
}

impl Default for CardConfig {
    fn default() -> Self {
        Self {
            authorization_ttl_days: 7,
            batch_close: NaiveTime::from_hms_opt(22, 0, 0).unwrap_or(NaiveTime::MIN),
        }
    }
}
