//! Reading a cutoff's due entries a page at a time ([`SCAN_PAGE`] rows, in
//! id order): a row that cannot be read fails alone ([`super::poison`]);
//! the others are split by ODFI ([`super::odfi`]), screened against their
//! parties' live state (`crate::eligibility::screen`: the ineligible are
//! held or failed, with their events), moved to the next banking day when
//! they missed the same-day windows, and kept as small [`Due`] records —
//! never every whole collection at once.

use chrono::{DateTime, NaiveDate, Utc};
use inflow_core::calendar::{Cutoff, CutoffKind};
use inflow_store::repo::ach_work::CutoffSelection;
use inflow_store::Tx;

use super::odfi::Router;
use super::packing::{roll, Due, Keys};
use super::{poison, FailedEntry, OdfiScope};
use crate::config::AchConfig;
use crate::files::{AchError, BatchKey};

/// How many due rows are read per query.
pub(super) const SCAN_PAGE: i64 = 5_000;

/// The due entries of a cutoff, per ODFI part.
pub(super) struct Scanned {
    /// Each ODFI's configuration, id and entries, in profile order (one
    /// part without profiles); parts may be empty.
    pub parts: Vec<(AchConfig, Option<String>, Vec<Due>)>,
    pub keys: Keys,
    /// Where missed same-day entries moved (a standard cutoff's next banking day).
    pub roll_to: Option<NaiveDate>,
}

/// Read, fail, screen and key the entries due at `cutoff` in `scope`.
pub(super) async fn scan(
    tx: &mut Tx,
    cfg: &AchConfig,
    cutoff: &Cutoff,
    scope: &OdfiScope,
    now: DateTime<Utc>,
    failed: &mut Vec<FailedEntry>,
) -> Result<Scanned, AchError> {
    let selection = match cutoff.kind {
        CutoffKind::SameDay { .. } => CutoffSelection::SameDay { date: cutoff.date },
        CutoffKind::Standard => CutoffSelection::Standard { date: cutoff.date },
    };
    let router = Router::load(tx, cfg).await?;
    let roll_to = cutoff
        .is_standard()
        .then(|| cfg.calendar.next_banking_day(cutoff.date));
    let mut out = Scanned {
        parts: router.parts(cfg),
        keys: Keys::default(),
        roll_to,
    };
    let mut after = String::new();
    loop {
        let page = tx
            .ach_collections_due_page(selection, &after, SCAN_PAGE)
            .await?;
        let Some(last) = page.last_id else { break };
        after = last;
        for u in page.unreadable {
            failed.extend(poison::fail_unreadable(tx, u, now).await?);
        }
        for (i, part) in router.route(cfg, page.collections, scope) {
            let eligible =
                crate::eligibility::screen(tx, part, "not filed at the cutoff", now).await?;
            for mut c in eligible {
                roll(&mut c, cutoff, roll_to, now);
                let key = out.keys.intern(BatchKey::of(&c));
                out.parts[i].2.push(Due::of(&c, key));
            }
        }
    }
    Ok(out)
}
