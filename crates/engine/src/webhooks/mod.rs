//! Webhook delivery: the dispatcher that takes due deliveries, signs and
//! POSTs them, and records what happened.
//!
//! - [`config`]: timeouts, retry policy, claim length, failure threshold.
//! - [`view`]: the event and endpoint resources as the API (and the webhook
//!   body) show them.
//! - [`sender`]: one HTTP attempt (reqwest, rustls, no redirects, no proxy,
//!   private addresses refused in production).
//! - [`dispatcher`]: claim a batch → send its attempts → record them
//!   together.
//! - [`attempt`]: one attempt: sign, POST, and the delivery's next step
//!   (succeeded, retry with backoff, failed).
//! - [`record`]: a batch's outcomes in one transaction, and the endpoints'
//!   failure runs (disablement).
//!
//! Deliveries themselves are created with their event, in the same
//! transaction (`inflow_store::repo::events`).

pub mod attempt;
pub mod config;
pub mod dispatcher;
pub mod record;
pub mod sender;
pub mod view;

pub use config::DispatchConfig;
pub use dispatcher::{Dispatcher, PassReport};
