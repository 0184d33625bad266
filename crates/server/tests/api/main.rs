//! The server's integration tests, in one test binary: one module per
//! scenario file (its name is the test path's first part, e.g.
//! `cargo test -p inflow-server --test api bank_delivery::`), all sharing
//! [`support`]. One binary is linked once instead of once per file, and its
//! tests share the test runner's threads. `tests/metrics.rs` stays a binary
//! of its own: it counts exact deltas of the process-wide metrics recorder,
//! which every server started in this process would add to.

#[path = "../support/mod.rs"]
mod support;

// For the modules that name it `crate::on_both_backends`.
use support::on_both_backends;

mod ach_collections;
mod ach_end_to_end;
mod ach_policy;
mod ach_refunds;
mod ach_reversals;
mod alerts;
mod api_contract;
mod api_key_rights;
mod audit_trail;
mod backup_restore;
mod bank_crash;
mod bank_delivery;
mod bank_files;
mod bank_odfi_windows;
mod bank_odfis;
mod bootstrap_admin;
mod card_data_leak;
mod card_disputes;
mod card_lifecycle;
mod cards;
mod cards_production;
mod cli_ach;
mod cli_config_check;
mod cli_ledger;
mod cli_serve;
mod collections_inquiry;
mod company_names;
mod console;
mod cutoff_crash;
mod cutoff_limits;
mod daily_files;
mod daily_files_push;
mod faults;
mod foundation_api;
mod holds;
mod holds_concurrency;
mod holds_props;
mod job_busy;
mod ledger_api;
mod ledger_props;
mod manual_cutoff;
mod nacha_fields;
mod openapi_examples;
mod openapi_snapshot;
mod otlp_traces;
mod rate_limits;
mod readme_walkthrough;
mod refunds;
mod returns_at_scale;
mod rolling_upgrade;
mod rough_edges;
mod schedules;
mod secrets_at_rest;
mod settlement_report;
mod shared_clock;
mod signatures;
mod stripe_leak;
mod stripe_localstripe;
mod two_nodes;
mod webhooks;
