//! What every request handler shares.

use inflow_core::clock::{SandboxClock, SharedClock};
use inflow_core::crypto::Vault;
use inflow_store::Store;
use std::sync::Arc;

use crate::config::Config;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub vault: Arc<Vault>,
    /// Business time: ids, timestamps, expiries. Advanceable in sandbox mode.
    pub clock: SharedClock,
    /// Real time, for freshness checks that protect against replay (request
    /// signatures); sandbox time travel must not open that window.
    pub wall_clock: SharedClock,
    /// The advanceable clock, present in sandbox mode.
    pub sandbox_clock: Option<Arc<SandboxClock>>,
    pub config: Arc<Config>,
    /// The ODFI, calendar and cutoff schedule.
    pub ach: Arc<inflow_engine::config::AchConfig>,
    /// The ODFIs files are delivered to (the sandbox's simulated bank, or
    /// the configured `[[odfi]]` with their transports).
    pub delivery: Arc<inflow_engine::delivery::Delivery>,
    /// Customers' folders their daily files are pushed to (often none).
    pub report_delivery: Arc<inflow_engine::daily_files::push::ReportDelivery>,
    /// API keys and customers recently used to authenticate.
    pub auth_cache: Arc<crate::http::auth_cache::AuthCache>,
    /// Request signatures already accepted (shared on PostgreSQL).
    pub replay: Arc<crate::http::replay::ReplayMemory>,
    /// Idempotency keys being processed on this node.
    pub in_flight: Arc<crate::http::idempotency::InFlight>,
    /// Delivers webhooks (the background loop and the sandbox clock use it).
    pub webhooks: Arc<inflow_engine::webhooks::Dispatcher>,
    /// The card processor connector (the built-in sandbox processor today).
    pub card_processor: Arc<dyn inflow_engine::cards::CardProcessor>,
    /// Authorization lifetime and batch close time.
    pub cards: Arc<inflow_engine::cards::CardConfig>,
    /// Set when the node was told to stop: `/readyz` answers 503 so a load
    /// balancer routes away while in-flight requests finish.
    pub draining: Arc<std::sync::atomic::AtomicBool>,
}

impl AppState {
    /// The collection rules with the operator's settings (the engine's
    /// ACH collection and schedule use cases take them).
    pub fn collection_rules(&self) -> inflow_engine::collections::ach::CollectionRules {
        inflow_engine::collections::ach::CollectionRules {
            ach: self.ach.clone(),
            vault: self.vault.clone(),
            default_company_name: self.config.ach.default_company_name.clone(),
            default_company_id: self.config.ach.default_company_id.clone(),
            duplicate_window: chrono::Duration::hours(i64::from(
                self.config.ach.duplicate_window_hours,
            )),
        }
    }
}
