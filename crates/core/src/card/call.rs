//! A call to the card processor, recorded before it is made.
//!
//! Inflow never calls the processor inside a database transaction: it first
//! commits the call (its reference is the processor's idempotency key), then
//! calls, then commits the answer. A call whose answer never came stays
//! `pending` until a retry — the client's, with the same `Idempotency-Key`,
//! or the reconciliation job's — gets one. Asking again with the same
//! reference cannot move money twice.

use chrono::{DateTime, Duration, Utc};

use super::CardOperation;
use crate::bank::string_enum;
use crate::ids::{CollectionId, CustomerId, RefundId};

string_enum!(
    /// `pending` until the processor has answered.
    CallState, "processor call state" { Pending => "pending", Succeeded => "succeeded", Failed => "failed" });

/// Who asked for a call, so a retry of the same request finds it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRequester {
    pub scope: String,
    pub key: String,
    /// Hex SHA-256 of the request (method, path, canonical body).
    pub request_hash: String,
}

/// One processor call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessorCall {
    /// The processor's idempotency key: the collection id for an
    /// authorization, the refund id for a refund,
    /// [`ProcessorCall::reference_for`] for a capture or void.
    pub reference: String,
    pub collection_id: CollectionId,
    pub customer_id: CustomerId,
    pub operation: CardOperation,
    /// Minor units (0 for a void).
    pub amount: i64,
    pub refund_id: Option<RefundId>,
    /// A void's reason.
    pub reason: Option<String>,
    pub state: CallState,
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub requester: Option<CallRequester>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// How long the reconciliation job leaves a fresh call to the request that
/// made it before retrying it itself.
pub const FIRST_RETRY_AFTER_SECS: i64 = 30;

/// When the next retry of a call that has failed `attempts` times is due:
/// 30 s doubling, at most 15 minutes apart.
pub fn next_retry(now: DateTime<Utc>, attempts: u32) -> DateTime<Utc> {
    let exp = attempts.saturating_sub(1).min(5);
    let secs = (FIRST_RETRY_AFTER_SECS << exp).min(900);
    now + Duration::seconds(secs)
}

impl ProcessorCall {
    /// The reference of a capture or void of `collection` asked for at
    /// `at` (a collection has one call in flight at a time, so the instant
    /// tells its calls apart).
    pub fn reference_for(
        collection: &CollectionId,
        operation: CardOperation,
        at: DateTime<Utc>,
    ) -> String {
        format!(
            "{collection}:{}:{}",
            operation.as_str(),
            at.timestamp_micros()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_from_thirty_seconds_to_fifteen_minutes() {
        let t = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap();
        let gaps: Vec<i64> = (1..=8)
            .map(|a| (next_retry(t, a) - t).num_seconds())
            .collect();
        assert_eq!(gaps, [30, 60, 120, 240, 480, 900, 900, 900]);
    }
}
