//! `[[report_delivery]]`: where a customer's daily reconciliation files are
//! pushed (its SFTP folder, or a local folder a connector moves on), with
//! the same transport settings and secret forms as an `[[odfi]]`
//! transport (`crate::odfi`; sealed secrets use the customer id as the
//! ODFI id: `inflow bank seal --odfi cus_…`). See `docs/reports.md`.
//!
//! ```toml
//! [[report_delivery]]
//! customer_id = "cus_…"
//! [report_delivery.transport]
//! kind = "sftp"
//! host = "sftp.agency.example"
//! user = "inflow"
//! private_key = "file:/etc/inflow/agency.key"
//! known_hosts = "sftp.agency.example ssh-ed25519 AAAA…"
//! outbound_dir = "reconciliation"
//! ```

use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use inflow_bank::{BankTransport, LocalFolder, RetryPolicy, Sftp};
use inflow_core::crypto::Vault;
use inflow_core::ids::CustomerId;
use inflow_engine::daily_files::push::{ReportDelivery, ReportDestination};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::odfi::{sftp_config, RetrySettings, TransportSettings};

/// One customer's destination.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportDeliverySettings {
    /// The customer whose files (its customer file and its accounts'
    /// files) are pushed.
    pub customer_id: String,
    pub transport: TransportSettings,
    #[serde(default)]
    pub retry: RetrySettings,
}

impl std::fmt::Debug for ReportDeliverySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportDeliverySettings")
            .field("customer_id", &self.customer_id)
            .finish_non_exhaustive()
    }
}

/// The configured destinations with their transports (secrets loaded,
/// SFTP settings checked).
pub fn report_delivery(config: &Config, vault: &Vault) -> anyhow::Result<ReportDelivery> {
    let mut destinations = Vec::with_capacity(config.report_delivery.len());
    for (i, r) in config.report_delivery.iter().enumerate() {
        let at = format!("report_delivery[{i}]");
        CustomerId::parse("customer_id", &r.customer_id)
            .map_err(|e| anyhow::anyhow!("{at}.customer_id: {}", e.message))?;
        if config.report_delivery[..i]
            .iter()
            .any(|p| p.customer_id == r.customer_id)
        {
            bail!(
                "{at}: customer {} already has a report_delivery",
                r.customer_id
            );
        }
        let transport: Arc<dyn BankTransport> = match &r.transport {
            TransportSettings::Local {
                outbound_dir,
                inbound_dir,
            } => Arc::new(LocalFolder::new(outbound_dir, inbound_dir)),
            TransportSettings::Sftp(s) => {
                let cfg = sftp_config(vault, config.sandbox, &r.customer_id, s)
                    .with_context(|| format!("{at}.transport"))?;
                Arc::new(Sftp::new(cfg).map_err(|e| anyhow::anyhow!("{at}.transport: {e}"))?)
            }
        };
        destinations.push(ReportDestination {
            customer_id: r.customer_id.clone(),
            transport,
            retry: RetryPolicy {
                max_attempts: r.retry.max_attempts,
                initial_backoff: Duration::from_secs(r.retry.initial_backoff_secs),
                max_backoff: Duration::from_secs(r.retry.max_backoff_secs),
            },
        });
    }
    Ok(ReportDelivery { destinations })
}
