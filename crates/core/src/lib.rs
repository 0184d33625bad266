//! Inflow's domain layer: the values every other layer passes around.
//!
//! Everything here validates on construction, so an invalid routing number,
//! account number or amount cannot exist past the edge of the system. The
//! crate does no I/O; time comes in through [`clock::Clock`].

pub mod bank;
pub mod calendar;
pub mod card;
pub mod clock;
pub mod collection;
pub mod crypto;
pub mod error;
pub mod fees;
pub mod ids;
pub mod model;
pub mod money;
pub mod noc;
pub mod refusal;
pub mod request_signature;
pub mod schedule;
pub mod text;
pub mod webhook;

pub use error::ValidationError;
pub use refusal::{Refusal, RefusalKind};
