//! How the dispatcher behaves, independent of how the server reads it.

use inflow_core::webhook::RetryPolicy;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct DispatchConfig {
    /// One attempt may take this long (connect, send, response).
    pub timeout: Duration,
    pub retry: RetryPolicy,
    /// How long a claim keeps other dispatchers off a delivery (wall clock).
    /// Must exceed `timeout`, so a claim cannot lapse while its attempt runs.
    pub claim_ttl: Duration,
    /// Deliveries claimed at a time.
    pub batch: u32,
    /// Attempts in flight at once per dispatcher.
    pub concurrency: usize,
    /// A finished attempt waits at most about this long to be recorded
    /// while others of its batch are still in flight (outcomes are written
    /// together, a batch's worth per transaction; the last ones as soon as
    /// the batch's attempts are all done).
    pub record_within: Duration,
    /// Disable an endpoint after this many deliveries in a row failed for
    /// good (0: never).
    pub disable_after_failures: u32,
    /// Allow loopback and private targets (sandbox mode).
    pub allow_private_targets: bool,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            claim_ttl: Duration::from_secs(60),
            batch: 64,
            concurrency: 16,
            record_within: Duration::from_millis(50),
            disable_after_failures: 5,
            allow_private_targets: false,
        }
    }
}
