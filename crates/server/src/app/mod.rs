//! Server-side jobs and helpers shared by the HTTP API and the CLI (API
//! keys, customers, webhooks, the sandbox clock, the background jobs' run).
//! The use cases creating collections and schedules are in the engine
//! (`inflow_engine::collections`, `inflow_engine::schedules::create`).

pub mod ach_jobs;
pub mod api_keys;
pub mod customers;
pub mod sandbox_clock;
pub mod webhooks;
