//! Cutoff windows per ODFI: each `[[odfi]]` profile may set its own
//! same-day windows and standard cutoff (else the `[ach]` ones). A cutoff
//! at instant T files only the entries of the ODFIs whose windows have a
//! cutoff of that kind at T ([`OdfiScope`]); the scheduler runs the union
//! of every profile's cutoffs, grouped by instant ([`scheduled_cutoffs`]).
//! A manual cutoff files every ODFI ([`manual_cutoffs`]).

use chrono::{DateTime, Utc};
use inflow_core::calendar::{local_date, Cutoff, CutoffKind};

use crate::config::AchConfig;

/// The ODFIs a cutoff files entries for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OdfiScope {
    /// Every ODFI (a manual cutoff, or no `[[odfi]]` profiles).
    All,
    /// Only these profiles (those whose windows have the cutoff), in
    /// profile order.
    Only(Vec<String>),
}

impl OdfiScope {
    /// Whether the cutoff files the entries of ODFI `id`.
    pub fn includes(&self, id: &str) -> bool {
        match self {
            Self::All => true,
            Self::Only(ids) => ids.iter().any(|i| i == id),
        }
    }
}

/// A cutoff and the ODFIs it files for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopedCutoff {
    pub cutoff: Cutoff,
    pub odfis: OdfiScope,
}

impl ScopedCutoff {
    /// A cutoff for every ODFI.
    pub fn all(cutoff: Cutoff) -> Self {
        Self {
            cutoff,
            odfis: OdfiScope::All,
        }
    }
}

/// Every cutoff in `(from, to]` of any ODFI, grouped by instant (in time
/// order; at one instant same-day before standard). Each carries the ODFIs
/// whose windows have it; without profiles, the `[ach]` cutoffs for all.
pub fn scheduled_cutoffs(
    cfg: &AchConfig,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<Vec<ScopedCutoff>> {
    let mut flat: Vec<ScopedCutoff> = Vec::new();
    if cfg.odfis.is_empty() {
        flat.extend(
            cfg.cutoffs
                .cutoffs_between(&cfg.calendar, from, to)
                .into_iter()
                .map(ScopedCutoff::all),
        );
    } else {
        let mut each: Vec<(Cutoff, &str)> = Vec::new();
        for o in &cfg.odfis {
            each.extend(
                o.cutoffs
                    .cutoffs_between(&cfg.calendar, from, to)
                    .into_iter()
                    .map(|c| (c, o.id.as_str())),
            );
        }
        // Stable: within a group the ODFIs stay in profile order.
        each.sort_by_key(|(c, _)| (c.at, c.is_standard()));
        for (c, id) in each {
            match flat.last_mut() {
                Some(ScopedCutoff {
                    cutoff,
                    odfis: OdfiScope::Only(ids),
                }) if cutoff.at == c.at && cutoff.is_standard() == c.is_standard() => {
                    ids.push(id.to_owned())
                }
                _ => flat.push(ScopedCutoff {
                    cutoff: c,
                    odfis: OdfiScope::Only(vec![id.to_owned()]),
                }),
            }
        }
    }
    let mut grouped: Vec<Vec<ScopedCutoff>> = Vec::new();
    for c in flat {
        match grouped.last_mut() {
            Some(g) if g[0].cutoff.at == c.cutoff.at => g.push(c),
            _ => grouped.push(vec![c]),
        }
    }
    grouped
}

/// The cutoffs a manual cutoff at `now` runs, in order: first a same-day
/// cutoff for the ODFIs with a same-day window of today still ahead
/// (today's same-day entries go into a same-day file, not the next day),
/// then the standard cutoff of today for every ODFI (everything else due).
/// Empty when today is not a banking day.
pub fn manual_cutoffs(cfg: &AchConfig, now: DateTime<Utc>) -> Vec<ScopedCutoff> {
    let today = local_date(now);
    if !cfg.calendar.is_banking_day(today) {
        return Vec::new();
    }
    let as_now = |kind| Cutoff {
        at: now,
        date: today,
        kind,
    };
    let open_window = |s: &inflow_core::calendar::CutoffSchedule| {
        s.next_same_day_cutoff(&cfg.calendar, now)
            .filter(|c| c.date == today)
    };
    let mut out = Vec::new();
    if cfg.odfis.is_empty() {
        out.extend(open_window(&cfg.cutoffs).map(|w| ScopedCutoff::all(as_now(w.kind))));
    } else {
        let open: Vec<(CutoffKind, String)> = cfg
            .odfis
            .iter()
            .filter_map(|o| open_window(&o.cutoffs).map(|w| (w.kind, o.id.clone())))
            .collect();
        if let Some((kind, _)) = open.first() {
            out.push(ScopedCutoff {
                cutoff: as_now(*kind),
                odfis: OdfiScope::Only(open.iter().map(|(_, id)| id.clone()).collect()),
            });
        }
    }
    out.push(ScopedCutoff::all(as_now(CutoffKind::Standard)));
    out
}
