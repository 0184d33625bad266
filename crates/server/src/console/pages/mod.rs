//! The console's pages, one module per area.

pub mod account;
pub mod api_keys;
pub mod clock;
pub mod collection_detail;
pub mod collections;
pub mod customers;
pub mod fees;
pub mod files;
pub mod inbound;
pub mod limits;
pub mod overview;
pub mod reports;
pub mod webhooks;

use chrono_tz::Tz;

use crate::state::AppState;

/// The operator's time zone (validated at start-up).
pub fn tz(state: &AppState) -> Tz {
    state
        .config
        .console
        .tz()
        .unwrap_or(inflow_core::calendar::EASTERN)
}
