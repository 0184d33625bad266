//! HTTP plumbing shared by every endpoint: request ids and logging,
//! authentication and signatures, rate limits, body and query parsing,
//! idempotency.

pub mod access_log;
pub mod audit;
pub mod auth;
pub mod auth_cache;
pub mod body;
pub mod idempotency;
pub mod rate_limit;
pub mod replay;
pub mod request_id;
pub mod signature;
pub mod upload;
