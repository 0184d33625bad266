//! The card rail: a processor connector ([`processor`]), the built-in
//! deterministic [`sandbox`] processor, the operations on card collections
//! ([`ops`]: sale, authorization, force, capture, void, refund) and the
//! ledger hooks each money movement calls ([`postings`]).

pub mod ops;
pub mod postings;
pub mod processor;
pub mod sandbox;

pub use ops::{CardError, NewCardCollection};
pub use processor::{CardProcessor, ProcessorError};
pub use sandbox::SandboxProcessor;

/// Days an uncaptured authorization lives before it expires.
pub const AUTHORIZATION_TTL_DAYS: i64 = 7;
