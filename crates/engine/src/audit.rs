//! The audit trail's hook: an [`AuditContext`] says who acts (an API key,
//! the command line, start-up, the system), for which customer, from where
//! (client IP) and in which request; the server builds it once per request
//! and use cases call [`AuditContext::record`] inside the transaction that
//! makes the change, so a record exists if and only if the change
//! committed. `before`/`after` are the object as the API shows it, passed
//! through [`mask`] on the way in: no key secret, signing secret, full
//! account number or card number ever reaches the audit table.

use chrono::{DateTime, Utc};
use inflow_core::ids::{ApiKeyId, AuditEventId, CustomerId};
use inflow_store::repo::audit::AuditEvent;
use inflow_store::{StoreError, Tx};
use serde::Serialize;

/// Who took an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A request made with this API key.
    ApiKey(ApiKeyId),
    /// An operator signed in to the console with this (operator) API key:
    /// the same key, through the console's channel.
    Console(ApiKeyId),
    /// The `inflow` command line (direct database access).
    Cli,
    /// `inflow serve` at start-up (bootstrap or sandbox demo key).
    Startup,
    /// Inflow itself (a background job).
    System,
}

impl Actor {
    /// `api_key`, `console`, `cli`, `startup` or `system`.
    pub fn kind(&self) -> &'static str {
        match self {
            Actor::ApiKey(_) => "api_key",
            Actor::Console(_) => "console",
            Actor::Cli => "cli",
            Actor::Startup => "startup",
            Actor::System => "system",
        }
    }

    /// The API key id, for [`Actor::ApiKey`] and [`Actor::Console`].
    pub fn id(&self) -> Option<&str> {
        match self {
            Actor::ApiKey(id) | Actor::Console(id) => Some(id.as_str()),
            _ => None,
        }
    }

    /// `{"type": …, "id": …}`, as events name their actor.
    pub fn to_json(&self) -> serde_json::Value {
        match self.id() {
            Some(id) => serde_json::json!({"type": self.kind(), "id": id}),
            None => serde_json::json!({"type": self.kind()}),
        }
    }
}

/// Who acts, for whom, from where: built once per request (or command).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditContext {
    pub actor: Actor,
    /// The customer the request acts for, if any.
    pub customer_id: Option<CustomerId>,
    /// The request's `req_…` id.
    pub request_id: Option<String>,
    /// The client's address (the connection's, or `X-Forwarded-For`'s
    /// first hop when the connection is a trusted proxy).
    pub client_ip: Option<String>,
}

/// One change to record.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    /// `customer.updated`, `api_key.revoked`, …
    pub action: &'a str,
    /// `customer`, `api_key`, …
    pub object_type: &'a str,
    pub object_id: &'a str,
    /// The object before (`None` for a creation) and after (`None` for a deletion).
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl AuditContext {
    /// An action of `actor` outside any HTTP request.
    pub fn of(actor: Actor) -> Self {
        Self {
            actor,
            customer_id: None,
            request_id: None,
            client_ip: None,
        }
    }

    /// Start describing a change: `ctx.change("customer.updated",
    /// "customer", id).before(&was).after(&now).record(tx, at)`.
    pub fn change<'a>(
        &'a self,
        action: &'a str,
        object_type: &'a str,
        object_id: &'a str,
    ) -> Pending<'a> {
        Pending {
            ctx: self,
            change: Change {
                action,
                object_type,
                object_id,
                before: None,
                after: None,
            },
        }
    }

    /// Append `change` to the audit trail in `tx` (the change's own
    /// transaction). `business_time` is the business clock (the sandbox's
    /// moved clock); the record's own time is the wall clock.
    pub async fn record(
        &self,
        tx: &mut Tx,
        change: Change<'_>,
        business_time: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let now = Utc::now();
        tx.insert_audit_event(&AuditEvent {
            id: AuditEventId::generate(now),
            actor_type: self.actor.kind().to_owned(),
            actor_id: self.actor.id().map(str::to_owned),
            customer_id: self.customer_id.as_ref().map(|c| c.to_string()),
            action: change.action.to_owned(),
            object_type: change.object_type.to_owned(),
            object_id: change.object_id.to_owned(),
            request_id: self.request_id.clone(),
            client_ip: self.client_ip.clone(),
            before: change.before.map(mask),
            after: change.after.map(mask),
            created_at: now,
            business_time,
        })
        .await
    }
}

/// A change being described (see [`AuditContext::change`]).
#[must_use = "a change is recorded only by `record`"]
pub struct Pending<'a> {
    ctx: &'a AuditContext,
    change: Change<'a>,
}

impl Pending<'_> {
    /// The object before the change, as the API shows it.
    pub fn before<T: Serialize>(mut self, value: &T) -> Self {
        self.change.before = serde_json::to_value(value).ok();
        self
    }

    /// The object after the change, as the API shows it.
    pub fn after<T: Serialize>(mut self, value: &T) -> Self {
        self.change.after = serde_json::to_value(value).ok();
        self
    }

    /// Append it to the audit trail in `tx`, the change's own transaction.
    pub async fn record(self, tx: &mut Tx, business_time: DateTime<Utc>) -> Result<(), StoreError> {
        self.ctx.record(tx, self.change, business_time).await
    }
}

/// `value` as JSON, for [`Change::before`]/[`Change::after`].
pub fn snapshot<T: Serialize>(value: &T) -> Result<serde_json::Value, StoreError> {
    serde_json::to_value(value).map_err(|e| StoreError::Corrupt(format!("audit snapshot: {e}")))
}

/// Fields whose values are secrets: never stored, whatever their shape.
const SECRET_FIELDS: &[&str] = &[
    "key",
    "secret",
    "signingsecret",
    "previoussecret",
    "password",
    "token",
    "cvc",
    "cvv",
    "apikey",
];

/// Fields holding an account or card number: only the last four digits stay.
const NUMBER_FIELDS: &[&str] = &["accountnumber", "number", "cardnumber", "pan"];

/// `value` with every secret replaced by `"[redacted]"` and every account
/// or card number cut to `****1234`, at any depth. Field names are compared
/// without case, `_` or `-`.
pub fn mask(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let norm: String = k
                        .chars()
                        .filter(|c| *c != '_' && *c != '-')
                        .collect::<String>()
                        .to_ascii_lowercase();
                    let v = if SECRET_FIELDS.contains(&norm.as_str()) && !v.is_null() {
                        Value::String("[redacted]".into())
                    } else if NUMBER_FIELDS.contains(&norm.as_str()) {
                        match v {
                            Value::String(s) => Value::String(last_four(&s)),
                            Value::Number(n) => Value::String(last_four(&n.to_string())),
                            other => mask(other),
                        }
                    } else {
                        mask(v)
                    };
                    (k, v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(mask).collect()),
        other => other,
    }
}

fn last_four(s: &str) -> String {
    let digits: Vec<char> = s.chars().filter(char::is_ascii_digit).collect();
    let tail: String = digits[digits.len().saturating_sub(4)..].iter().collect();
    format!("****{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn mask_removes_secrets_and_cuts_numbers_at_any_depth() {
        let masked = mask(json!({
            "id": "key_1",
            "key": "ik_test_abcdef",
            "signingSecret": "whsec",
            "usBankAccount": {"accountNumber": "000123456789", "routingNumber": "121042882"},
            "card": {"number": "4242424242424242", "last4": "4242"},
            "items": [{"secret": "s"}],
            "revokedAt": null,
            "previousSecretExpiresAt": null,
        }));
        assert_eq!(masked["key"], "[redacted]");
        assert_eq!(masked["signingSecret"], "[redacted]");
        assert_eq!(masked["usBankAccount"]["accountNumber"], "****6789");
        assert_eq!(masked["usBankAccount"]["routingNumber"], "121042882");
        assert_eq!(masked["card"]["number"], "****4242");
        assert_eq!(masked["items"][0]["secret"], "[redacted]");
        assert_eq!(masked["id"], "key_1");
        assert!(masked["previousSecretExpiresAt"].is_null());
    }

    #[test]
    fn an_already_masked_number_stays_masked() {
        assert_eq!(
            mask(json!({"accountNumber": "****6789"}))["accountNumber"],
            "****6789"
        );
    }
}
