//! Repositories: the queries for each resource, as methods on [`crate::Tx`].

pub mod accounts;
pub mod api_keys;
pub mod counterparties;
pub mod customers;
pub mod idempotency;
pub mod payment_methods;
