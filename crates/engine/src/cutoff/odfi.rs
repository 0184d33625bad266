//! Splitting a cutoff's due entries by ODFI. An entry's ODFI is its
//! destination account's (`accounts.odfi_id`), else its customer's
//! (`customers.odfi_id`), else the default profile (the first). Only the
//! ODFIs in the cutoff's [`OdfiScope`] are filed; the others' entries stay
//! `pending` for their own ODFI's cutoff. Entries assigned to an ODFI that
//! is no longer configured stay `pending` (an alert is logged) until the
//! operator configures it again or moves the customer or account.

use inflow_core::collection::AchCollection;
use inflow_store::Tx;

use super::OdfiScope;
use crate::config::AchConfig;
use crate::files::AchError;
use crate::odfi_windows::Assignments;

/// The due entries per ODFI in `scope`, in profile order: each part with
/// the configuration carrying its ODFI's header values, file rules and
/// windows, and its ODFI's id (`None` without profiles: everything goes to
/// `cfg` as is).
pub(super) async fn split(
    tx: &mut Tx,
    cfg: &AchConfig,
    due: Vec<AchCollection>,
    scope: &OdfiScope,
) -> Result<Vec<(AchConfig, Option<String>, Vec<AchCollection>)>, AchError> {
    if cfg.default_odfi_id().is_some() && due.is_empty() {
        return Ok(Vec::new());
    }
    let router = Router::load(tx, cfg).await?;
    let mut parts = router.parts(cfg);
    for (i, part) in router.route(cfg, due, scope) {
        parts[i].2 = part;
    }
    Ok(parts
        .into_iter()
        .filter(|(_, _, part)| !part.is_empty())
        .collect())
}

/// Which ODFI files each entry, the assignments read once (for a cutoff
/// that reads its due entries a page at a time).
pub(super) struct Router {
    assigned: Assignments,
}

impl Router {
    /// Read the assignments (nothing without profiles).
    pub(super) async fn load(tx: &mut Tx, cfg: &AchConfig) -> Result<Self, AchError> {
        Ok(Router {
            assigned: Assignments::load(tx, cfg).await?,
        })
    }

    /// Every part a cutoff can file, in profile order, each empty: its
    /// configuration and its ODFI's id (one part, `cfg` as is, without
    /// profiles). [`Router::route`] gives indexes into this.
    pub(super) fn parts<T>(&self, cfg: &AchConfig) -> Vec<(AchConfig, Option<String>, Vec<T>)> {
        if cfg.default_odfi_id().is_none() {
            return vec![(cfg.clone(), None, Vec::new())];
        }
        cfg.odfis
            .iter()
            .map(|o| (cfg.for_odfi(o), Some(o.id.clone()), Vec::new()))
            .collect()
    }

    /// `due` split by ODFI (indexes into [`Router::parts`]), only the
    /// ODFIs in `scope`, in profile order.
    pub(super) fn route(
        &self,
        cfg: &AchConfig,
        due: Vec<AchCollection>,
        scope: &OdfiScope,
    ) -> Vec<(usize, Vec<AchCollection>)> {
        if cfg.default_odfi_id().is_none() {
            return vec![(0, due)];
        }
        let mut parts: Vec<Vec<AchCollection>> = vec![Vec::new(); cfg.odfis.len()];
        for c in due {
            let odfi = self.assigned.odfi_of(cfg, &c).unwrap_or_default();
            match cfg.odfis.iter().position(|o| o.id == odfi) {
                Some(i) => parts[i].push(c),
                None => tracing::error!(
                    collection_id = %c.id,
                    customer_id = %c.customer_id,
                    account_id = %c.destination_account_id,
                    odfi = %odfi,
                    "ALERT: the entry's ODFI is not configured; the collection stays pending until it is (or its customer or destination account is moved to another ODFI)"
                ),
            }
        }
        parts
            .into_iter()
            .enumerate()
            .filter(|(i, part)| !part.is_empty() && scope.includes(&cfg.odfis[*i].id))
            .collect()
    }
}
