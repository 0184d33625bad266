//! Resources as integrators see them: in API responses and as the
//! `data.object` of events. One rendering per resource, so a webhook and a
//! GET never disagree.

mod card;
mod collection;
mod credit;
mod noc;
mod payment_method;

pub use card::*;
pub use collection::*;
pub use credit::*;
pub use noc::*;
pub use payment_method::*;

/// Timestamps as the API writes them: RFC 3339, UTC, milliseconds.
pub fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
