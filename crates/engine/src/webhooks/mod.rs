//! Webhook delivery: the dispatcher that takes due deliveries, signs and
//! POSTs them, and records what happened.
//!
//! - [`config`]: timeouts, retry policy, claim length, failure threshold.
//! - [`view`]: the event and endpoint resources as the API (and the webhook
//!   body) show them.
//! - [`sender`]: one HTTP attempt (reqwest, rustls, no redirects, no proxy,
//!   private addresses refused in production).
//! - [`dispatcher`]: claim → send → record, with retries, per-object order
//!   and the endpoint's failure run.
//!
//! Deliveries themselves are created with their event, in the same
//! transaction (`inflow_store::repo::events`).

pub mod config;
pub mod dispatcher;
pub mod sender;
pub mod view;

pub use config::DispatchConfig;
pub use dispatcher::{Dispatcher, PassReport};
