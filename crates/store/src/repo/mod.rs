//! Repositories: the queries for each resource, as methods on [`crate::Tx`].

pub mod accounts;
pub mod ach_files;
pub mod ach_work;
pub mod api_keys;
pub mod card_calls;
pub mod card_collections;
pub mod card_payment_methods;
pub mod collections;
pub mod counterparties;
pub mod counters;
pub mod customers;
pub mod eligibility;
pub mod events;
pub mod fee_schedules;
pub mod idempotency;
pub mod leases;
pub mod ledger;
pub mod payment_methods;
pub mod reports;
pub mod returns;
pub mod sandbox_processor;
pub mod schedules;
pub mod webhook_deliveries;
pub mod webhook_endpoints;
