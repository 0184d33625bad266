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
    if cfg.default_odfi_id().is_none() {
        return Ok(vec![(cfg.clone(), None, due)]);
    }
    if due.is_empty() {
        return Ok(Vec::new());
    }
    let assigned = Assignments::load(tx, cfg).await?;
    let mut parts: Vec<Vec<AchCollection>> = vec![Vec::new(); cfg.odfis.len()];
    for c in due {
        let odfi = assigned.odfi_of(cfg, &c).unwrap_or_default().to_owned();
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
    Ok(cfg
        .odfis
        .iter()
        .zip(parts)
        .filter(|(o, part)| !part.is_empty() && scope.includes(&o.id))
        .map(|(o, part)| (cfg.for_odfi(o), Some(o.id.clone()), part))
        .collect())
}
