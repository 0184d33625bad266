//! What the store tells an observer (the metrics): events that committed
//! and how long a connection took to get.
//!
//! The store does not depend on a metrics library. [`set_observer`] installs
//! one process-wide [`StoreObserver`]; without one nothing is recorded. An
//! event is reported only once its transaction has committed (an event
//! written by a transaction that rolled back, or by a group-commit job that
//! failed, is never reported), so counters built on it count what happened.

use std::sync::OnceLock;
use std::time::Duration;

/// Events that committed (`count` of them, alike in everything but their
/// amounts), with what a collection's metrics need from them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedEvent {
    /// How many events this stands for (a bulk write records a run of
    /// alike events once: a cutoff of a million entries keeps a handful).
    pub count: u64,
    /// `collection.created`, `collection.submitted`, …
    pub event_type: String,
    /// For `collection.*`: `ach` or `card`.
    pub rail: Option<String>,
    /// For an ACH collection: `PPD`, `WEB`, …
    pub sec_code: Option<String>,
    /// For `collection.*`: the amount's currency, and the sum of the
    /// `count` events' amounts in minor units (negative ones count as 0).
    pub currency: Option<String>,
    pub amount_minor: Option<i64>,
}

impl CommittedEvent {
    pub(crate) fn of(event_type: &str, data: &serde_json::Value) -> Self {
        let mut e = CommittedEvent {
            count: 1,
            event_type: event_type.to_owned(),
            rail: None,
            sec_code: None,
            currency: None,
            amount_minor: None,
        };
        if event_type.starts_with("collection.") {
            // The collection as the API shows it, under `object`.
            let data = data.get("object").unwrap_or(data);
            let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
            e.rail = text(&data["rail"]);
            e.sec_code = text(&data["secCode"]);
            e.currency = text(&data["amount"]["currency"]);
            e.amount_minor = data["amount"]["value"]
                .as_str()
                .and_then(|v| v.parse::<i64>().ok())
                .map(|m| m.max(0));
        }
        e
    }

    /// Count `other` in `self` when they are alike but for the amount
    /// (`false`, nothing changed, otherwise).
    pub(crate) fn absorb(&mut self, other: &CommittedEvent) -> bool {
        let alike = self.event_type == other.event_type
            && self.rail == other.rail
            && self.sec_code == other.sec_code
            && self.currency == other.currency
            && self.amount_minor.is_some() == other.amount_minor.is_some();
        if alike {
            self.count += other.count;
            self.amount_minor = self
                .amount_minor
                .zip(other.amount_minor)
                .map(|(a, b)| a.saturating_add(b));
        }
        alike
    }

    /// `events` with each run of alike events recorded once.
    pub(crate) fn runs(events: impl IntoIterator<Item = CommittedEvent>) -> Vec<CommittedEvent> {
        let mut out: Vec<CommittedEvent> = Vec::new();
        for e in events {
            let absorbed = out.last_mut().is_some_and(|last| last.absorb(&e));
            if !absorbed {
                out.push(e);
            }
        }
        out
    }
}

/// Which pool a connection came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolKind {
    /// SQLite's one writer connection, or PostgreSQL's pool for writes.
    Write,
    /// SQLite's readers, or PostgreSQL's pool for reads.
    Read,
}

impl PoolKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PoolKind::Write => "write",
            PoolKind::Read => "read",
        }
    }
}

/// Receives what the store observed. Calls are made inline: keep them cheap.
pub trait StoreObserver: Send + Sync {
    /// Events of a transaction that has just committed.
    fn committed(&self, events: &[CommittedEvent]);
    /// A transaction began after waiting `waited` for its connection
    /// (`ok` false: the wait ended in an error, e.g. a pool timeout).
    fn acquired(&self, pool: PoolKind, waited: Duration, ok: bool);
}

static OBSERVER: OnceLock<&'static dyn StoreObserver> = OnceLock::new();

/// Install the process's observer; a second call is ignored (returns false).
pub fn set_observer(observer: &'static dyn StoreObserver) -> bool {
    OBSERVER.set(observer).is_ok()
}

pub(crate) fn committed(events: &[CommittedEvent]) {
    if events.is_empty() {
        return;
    }
    if let Some(o) = OBSERVER.get() {
        o.committed(events);
    }
}

pub(crate) fn acquired(pool: PoolKind, waited: Duration, ok: bool) {
    if let Some(o) = OBSERVER.get() {
        o.acquired(pool, waited, ok);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn submitted(amount: &str) -> CommittedEvent {
        CommittedEvent::of(
            "collection.batched",
            &serde_json::json!({ "object": {
                "rail": "ach", "secCode": "PPD",
                "amount": { "currency": "USD", "value": amount },
            }}),
        )
    }

    #[test]
    fn runs_of_alike_events_are_kept_once_with_their_count_and_total() {
        let other = CommittedEvent::of("collection.updated", &serde_json::json!({}));
        let runs = CommittedEvent::runs([
            submitted("100"),
            submitted("250"),
            other.clone(),
            submitted("-5"),
            submitted("7"),
        ]);
        assert_eq!(runs.len(), 3);
        assert_eq!((runs[0].count, runs[0].amount_minor), (2, Some(350)));
        assert_eq!(runs[1], other);
        // A negative amount counts as 0, as the metrics always did.
        assert_eq!((runs[2].count, runs[2].amount_minor), (2, Some(7)));
    }
}
