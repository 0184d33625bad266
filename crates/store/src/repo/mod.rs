//! Repositories: the queries for each resource, as methods on [`crate::Tx`].

pub mod accounts;
pub mod api_keys;
pub mod collections;
pub mod counterparties;
pub mod customers;
pub mod events;
pub mod idempotency;
pub mod payment_methods;
