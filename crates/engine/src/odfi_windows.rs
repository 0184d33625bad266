//! Which ODFI files an entry, and so with which cutoff windows it is
//! planned: the destination account's ODFI, else the customer's, else the
//! default ([`AchConfig::effective_odfi`]). The assignments are read once
//! per use ([`Assignments::load`]); without `[[odfi]]` profiles nothing is
//! read and every entry uses [`AchConfig::cutoffs`].

use std::collections::HashMap;

use inflow_core::calendar::CutoffSchedule;
use inflow_core::collection::AchCollection;
use inflow_store::{StoreError, Tx};

use crate::config::AchConfig;

/// The customers' and destination accounts' ODFI assignments.
#[derive(Debug, Default)]
pub struct Assignments {
    customers: HashMap<String, String>,
    accounts: HashMap<String, String>,
}

impl Assignments {
    /// Read the assignments (nothing without profiles).
    pub async fn load(tx: &mut Tx, cfg: &AchConfig) -> Result<Self, StoreError> {
        if cfg.odfis.is_empty() {
            return Ok(Self::default());
        }
        Ok(Self {
            customers: tx.customer_odfi_assignments().await?.into_iter().collect(),
            accounts: tx.account_odfi_assignments().await?.into_iter().collect(),
        })
    }

    /// The id of the ODFI that files `c` (`None` without profiles).
    pub fn odfi_of<'a>(&'a self, cfg: &'a AchConfig, c: &AchCollection) -> Option<&'a str> {
        self.odfi_of_parties(
            cfg,
            c.customer_id.as_str(),
            c.destination_account_id.as_str(),
        )
    }

    /// The id of the ODFI that files entries of `customer` into `account`.
    pub fn odfi_of_parties<'a>(
        &'a self,
        cfg: &'a AchConfig,
        customer: &str,
        account: &str,
    ) -> Option<&'a str> {
        cfg.effective_odfi(
            self.accounts.get(account).map(String::as_str),
            self.customers.get(customer).map(String::as_str),
        )
    }

    /// The cutoff windows `c` is planned with.
    pub fn cutoffs_of<'a>(&self, cfg: &'a AchConfig, c: &AchCollection) -> &'a CutoffSchedule {
        cfg.cutoffs_for(self.odfi_of(cfg, c))
    }

    /// The cutoff windows of entries of `customer` into `account`.
    pub fn cutoffs_of_parties<'a>(
        &self,
        cfg: &'a AchConfig,
        customer: &str,
        account: &str,
    ) -> &'a CutoffSchedule {
        cfg.cutoffs_for(self.odfi_of_parties(cfg, customer, account))
    }
}
