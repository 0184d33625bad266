//! Prefixed, time-ordered identifiers (`cus_…`, `pm_…`).
//!
//! An id is the resource prefix, an underscore and a UUIDv7 in lowercase hex.
//! UUIDv7 starts with the creation time in milliseconds, so ids sort in the
//! order they were made; cursor pagination relies on that. The time comes
//! from the caller's [`Clock`](crate::clock::Clock) so sandbox time travel
//! keeps ids in step with everything else.

use chrono::{DateTime, Utc};
use std::sync::{LazyLock, Mutex};
use uuid::{timestamp::context::ContextV7, Timestamp, Uuid};

use crate::ValidationError;

/// The v7 context keeps ids made within one millisecond increasing.
static CONTEXT: LazyLock<Mutex<ContextV7>> = LazyLock::new(|| Mutex::new(ContextV7::new()));

/// A fresh time-ordered 32-hex-digit body for an id made at `now`.
pub fn new_id_body(now: DateTime<Utc>) -> String {
    let secs = now.timestamp().max(0) as u64;
    let nanos = now.timestamp_subsec_nanos();
    let context = CONTEXT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let ts = Timestamp::from_unix(&*context, secs, nanos);
    Uuid::new_v7(ts).simple().to_string()
}

fn is_valid_id(prefix: &str, s: &str) -> bool {
    s.len() == prefix.len() + 1 + 32
        && s.starts_with(prefix)
        && s.as_bytes()[prefix.len()] == b'_'
        && s[prefix.len() + 1..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

macro_rules! define_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// A new id for an object created at `now`.
            pub fn generate(now: DateTime<Utc>) -> Self {
                Self(format!("{}_{}", $prefix, new_id_body(now)))
            }

            /// Parse an id received from outside; the prefix must match.
            pub fn parse(field: &str, s: &str) -> Result<Self, ValidationError> {
                if is_valid_id($prefix, s) {
                    Ok(Self(s.to_owned()))
                } else {
                    Err(ValidationError::new(
                        field,
                        "invalid_id",
                        format!("`{}` is not a valid id: expected `{}_` followed by 32 hex digits", crate::text::clip(s, 60), $prefix),
                    ))
                }
            }

            /// Wrap a value read back from our own storage.
            pub fn from_trusted(s: String) -> Self {
                Self(s)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = ValidationError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse("id", &s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
    };
}

define_id!(
    /// A customer (agency, merchant, platform) served by the operator.
    CustomerId, "cus");
define_id!(
    /// An API key.
    ApiKeyId, "key");
define_id!(
    /// A customer's destination account that collections credit.
    AccountId, "acc");
define_id!(
    /// A payer.
    CounterpartyId, "cpt");
define_id!(
    /// A saved payment method (bank account or card).
    PaymentMethodId, "pm");
define_id!(
    /// A collection on any rail.
    CollectionId, "col");
define_id!(
    /// A refund of a captured card collection.
    RefundId, "rfd");
define_id!(
    /// A recurring ACH debit schedule.
    ScheduleId, "sch");
define_id!(
    /// A domain event (the webhook outbox row).
    EventId, "evt");
define_id!(
    /// A received ACH return or notification of change.
    ReturnId, "ret");
define_id!(
    /// A URL a customer receives events at.
    WebhookEndpointId, "we");
define_id!(
    /// One event on its way to one webhook endpoint (with its attempts).
    WebhookDeliveryId, "whd");
define_id!(
    /// A balanced ledger transaction (two or more entries).
    LedgerTransactionId, "ltx");
define_id!(
    /// One append-only audit record: who changed what, when and from where.
    AuditEventId, "aud");

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn ids_made_later_sort_after_ids_made_earlier() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let a = CustomerId::generate(t0);
        let b = CustomerId::generate(t0 + chrono::Duration::milliseconds(1));
        let c = CustomerId::generate(t0 + chrono::Duration::seconds(5));
        assert!(a < b && b < c, "{a} {b} {c}");
    }

    #[test]
    fn ids_made_in_the_same_millisecond_are_distinct_and_ordered() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let ids: Vec<_> = (0..1000).map(|_| PaymentMethodId::generate(t0)).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), ids.len());
    }

    #[test]
    fn parse_rejects_a_foreign_prefix_and_names_the_field() {
        let id = CustomerId::generate(Utc::now());
        let err = PaymentMethodId::parse("paymentMethodId", id.as_str()).unwrap_err();
        assert_eq!(err.field, "paymentMethodId");
        assert_eq!(err.code, "invalid_id");
        assert!(PaymentMethodId::parse("x", "pm_xyz").is_err());
        assert!(CustomerId::parse("x", id.as_str()).is_ok());
    }
}
