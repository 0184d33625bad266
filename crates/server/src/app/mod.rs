//! Use cases shared by the HTTP API and the CLI, so both create objects
//! through exactly the same validation.

pub mod ach_jobs;
pub mod ach_source;
pub mod api_keys;
pub mod collections;
pub mod customers;
pub mod debit_limits;
pub mod destination;
pub mod sandbox_clock;
pub mod schedules;
pub mod webhooks;
