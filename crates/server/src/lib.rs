//! Inflow's server crate: the HTTP API, its OpenAPI description, and the
//! `inflow` command-line program.
//!
//! Layout: [`http`] holds the cross-cutting request plumbing (request ids,
//! authentication and signatures, body parsing, idempotency); [`api`] has one
//! module per resource; [`app`] holds use cases shared by the API and the
//! CLI; [`console`] is the operator's web console at `/console`; [`bootstrap`] turns configuration into a running state, with the
//! ODFI profiles of [`odfi`].

pub mod api;
pub mod app;
pub mod bootstrap;
pub mod cli;
pub mod config;
pub mod console;
pub mod error;
pub mod http;
pub mod metrics;
pub mod odfi;
pub mod odfi_files;
pub mod report_delivery;
pub mod server;
pub mod state;
pub mod telemetry;
