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

/// An event that committed, with what a collection's metrics need from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedEvent {
    /// `collection.created`, `collection.submitted`, …
    pub event_type: String,
    /// For `collection.*`: `ach` or `card`.
    pub rail: Option<String>,
    /// For an ACH collection: `PPD`, `WEB`, …
    pub sec_code: Option<String>,
    /// For `collection.*`: the amount's currency and minor units.
    pub currency: Option<String>,
    pub amount_minor: Option<i64>,
}

impl CommittedEvent {
    pub(crate) fn of(event_type: &str, data: &serde_json::Value) -> Self {
        let mut e = CommittedEvent {
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
                .and_then(|v| v.parse().ok());
        }
        e
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
