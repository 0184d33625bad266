//! Splitting a cutoff's due entries by ODFI: each customer is assigned to
//! an `[[odfi]]` profile (`customers.odfi_id`, `NULL` for the default, the
//! first profile). Entries of a customer assigned to an ODFI that is no
//! longer configured stay `pending` (an alert is logged) until the
//! operator configures it again or moves the customer.

use std::collections::HashMap;

use inflow_core::collection::AchCollection;
use inflow_store::Tx;

use crate::config::AchConfig;
use crate::files::AchError;

/// The due entries per ODFI, in profile order: each part with the
/// configuration carrying its ODFI's header values and file rules, and its
/// ODFI's id (`None` without profiles: everything goes to `cfg` as is).
pub(super) async fn split(
    tx: &mut Tx,
    cfg: &AchConfig,
    due: Vec<AchCollection>,
) -> Result<Vec<(AchConfig, Option<String>, Vec<AchCollection>)>, AchError> {
    let Some(default_id) = cfg.default_odfi_id() else {
        return Ok(vec![(cfg.clone(), None, due)]);
    };
    let assigned: HashMap<String, String> =
        tx.customer_odfi_assignments().await?.into_iter().collect();
    let mut parts: Vec<Vec<AchCollection>> = vec![Vec::new(); cfg.odfis.len()];
    for c in due {
        let odfi = assigned
            .get(c.customer_id.as_str())
            .map(String::as_str)
            .unwrap_or(default_id);
        match cfg.odfis.iter().position(|o| o.id == odfi) {
            Some(i) => parts[i].push(c),
            None => tracing::error!(
                collection_id = %c.id,
                customer_id = %c.customer_id,
                odfi = %odfi,
                "ALERT: the customer's ODFI is not configured; the collection stays pending until it is (or the customer is moved to another ODFI)"
            ),
        }
    }
    Ok(cfg
        .odfis
        .iter()
        .zip(parts)
        .filter(|(_, part)| !part.is_empty())
        .map(|(o, part)| (cfg.for_odfi(o), Some(o.id.clone()), part))
        .collect())
}
