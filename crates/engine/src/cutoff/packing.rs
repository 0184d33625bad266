//! Packing a cutoff's entries (in batch-key order) into files: plan the
//! batches and files (`nacha::plan`: control fields and
//! `max_entries_per_file`) on small per-entry records ([`Due`]: id, batch
//! key, amounts — never every whole collection at once), give each file the
//! next free File ID Modifier of the day and a block of trace numbers, and
//! file each one ([`super::commit`]: its collections read back, moved and
//! turned into entries a chunk at a time; the file built and strictly
//! validated) inside one savepoint. When a file fails to build, everything
//! since the savepoint is undone, its entries are checked one by one, the
//! entries that cannot be filed fail alone ([`super::poison`]) and the rest
//! are planned again.
//!
//! When the day's File ID Modifiers cannot cover every file, the smallest
//! entries are filed first (as many as fit the files left) and the others
//! stay `pending` for the next cutoff: a customer with very large debits
//! waits, everyone else is filed.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use inflow_core::calendar::{Cutoff, CutoffKind};
use inflow_core::collection::{AchCollection, StatusChange};
use inflow_core::crypto::Vault;
use inflow_core::ids::CollectionId;
use inflow_store::repo::ach_files::OUTBOUND;
use inflow_store::Tx;

use super::{poison, FailedEntry, FILE_ID_MODIFIERS, MAX_TRACE_SEQUENCE};
use crate::config::{AchConfig, OffsetAccount};
use crate::files::{
    entry_addenda, entry_amount, file_batches, plan_entry, AchError, BatchKey, FileHeaderInfo,
    DEFAULT_FILE_NAME_PATTERN,
};
use nacha::plan::Offsets;

mod file_plan;

pub(super) use file_plan::{Built, FilePlan};

/// How many collections are read back per query to check or fail them.
const LOAD_CHUNK: usize = 1_000;

/// A due entry as the planner keeps it: no more of the collection than
/// planning, numbering and reading it back need.
pub(super) struct Due {
    pub id: CollectionId,
    /// Its batch key (an index into [`Keys`]).
    pub key: u32,
    /// The collection's amount in minor units (the smallest wait least).
    amount: i64,
    /// The amount written in the entry (0 for a prenote).
    written: i64,
    addenda: bool,
}

impl Due {
    /// `c` (already moved to its effective date) with batch key `key`.
    pub(super) fn of(c: &AchCollection, key: u32) -> Self {
        Due {
            id: c.id.clone(),
            key,
            amount: c.amount.minor(),
            written: entry_amount(c),
            addenda: entry_addenda(c).is_some(),
        }
    }

    fn plan_entry(&self) -> nacha::plan::PlanEntry {
        plan_entry(
            u64::try_from(self.written).unwrap_or(u64::MAX),
            self.addenda,
        )
    }
}

/// The cutoff's batch keys, each kept once.
#[derive(Default)]
pub(super) struct Keys {
    index: HashMap<BatchKey, u32>,
    keys: Vec<Arc<BatchKey>>,
}

impl Keys {
    /// The index of `key`, added if new.
    pub(super) fn intern(&mut self, key: BatchKey) -> u32 {
        if let Some(&i) = self.index.get(&key) {
            return i;
        }
        let i = self.keys.len() as u32;
        self.keys.push(Arc::new(key.clone()));
        self.index.insert(key, i);
        i
    }

    pub(super) fn get(&self, i: u32) -> &Arc<BatchKey> {
        &self.keys[i as usize]
    }

    /// Sort `due` by batch key, then collection id.
    pub(super) fn sort(&self, due: &mut [Due]) {
        let mut order: Vec<u32> = (0..self.keys.len() as u32).collect();
        order.sort_by(|&a, &b| self.keys[a as usize].cmp(&self.keys[b as usize]));
        let mut rank = vec![0u32; order.len()];
        for (r, &k) in order.iter().enumerate() {
            rank[k as usize] = r as u32;
        }
        due.sort_by(|a, b| {
            rank[a.key as usize]
                .cmp(&rank[b.key as usize])
                .then_with(|| a.id.cmp(&b.id))
        });
    }
}

/// A filed entry: its collection, batch key and trace sequence.
pub(super) struct Member {
    pub id: CollectionId,
    pub key: u32,
    pub seq: i64,
}

/// What every file of one cutoff shares.
pub(super) struct Context {
    pub info: FileHeaderInfo,
    offset: Option<OffsetAccount>,
    offsets: Offsets,
    file_name_pattern: String,
    /// The File ID Modifiers still free on the cutoff's creation date, in order.
    modifiers: Vec<char>,
    kind_label: String,
    odfi8: String,
    trace_counter: String,
    max_entries_per_file: u64,
    pub cutoff: Cutoff,
    pub now: DateTime<Utc>,
    /// At a standard cutoff, the next banking day: where entries effective
    /// on or before the cutoff's day (same-day entries that missed every
    /// window) move.
    roll_to: Option<NaiveDate>,
}

impl Context {
    pub(super) async fn new(
        tx: &mut Tx,
        cfg: &AchConfig,
        cutoff: &Cutoff,
        now: DateTime<Utc>,
    ) -> Result<Self, AchError> {
        let info = FileHeaderInfo::from_config(cfg, cutoff);
        let rules = &cfg.file_rules;
        let offsets = match (&rules.offset, rules.separate_debits_and_credits) {
            (None, _) => Offsets::None,
            (Some(_), false) => Offsets::InBatch,
            (Some(_), true) => Offsets::Elsewhere,
        };
        let used = tx.used_file_id_modifiers(OUTBOUND, cutoff.date).await?;
        let modifiers = rules
            .file_id_modifiers
            .as_deref()
            .unwrap_or(FILE_ID_MODIFIERS)
            .chars()
            .filter(|m| !used.iter().any(|u| u.eq_ignore_ascii_case(&m.to_string())))
            .collect();
        let kind_label = match cutoff.kind {
            CutoffKind::SameDay { window } => format!("same-day window {}", window + 1),
            CutoffKind::Standard => "standard cutoff".to_owned(),
        };
        Ok(Context {
            info,
            offset: rules.offset.clone(),
            offsets,
            file_name_pattern: rules
                .file_name_pattern
                .clone()
                .unwrap_or_else(|| DEFAULT_FILE_NAME_PATTERN.to_owned()),
            modifiers,
            kind_label,
            odfi8: cfg.odfi_routing.as_string()[..8].to_owned(),
            trace_counter: super::trace_counter_name(cfg),
            max_entries_per_file: cfg.max_entries_per_file,
            cutoff: *cutoff,
            now,
            roll_to: None,
        })
    }

    /// Entries effective on or before the cutoff's day move to `next`.
    pub(super) fn rolling_to(mut self, next: Option<NaiveDate>) -> Self {
        self.roll_to = next;
        self
    }

    /// Move `c` to the next banking day if it missed the same-day windows
    /// (the reason in its history); whether it moved.
    pub(super) fn roll(&self, c: &mut AchCollection) -> bool {
        roll(c, &self.cutoff, self.roll_to, self.now)
    }

    /// File ID Modifiers each planned file takes: two when its offsets go
    /// in a companion credit file.
    fn modifiers_per_file(&self) -> usize {
        if self.offsets == Offsets::Elsewhere {
            2
        } else {
            1
        }
    }
}

/// At a standard cutoff (`next`: the next banking day), move `c` if it is
/// effective on or before the cutoff's day (a same-day entry that missed
/// every window) to `next`, with the reason in its history; whether it moved.
pub(super) fn roll(
    c: &mut AchCollection,
    cutoff: &Cutoff,
    next: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> bool {
    let Some(next) = next.filter(|_| cutoff.is_standard() && c.effective_date <= cutoff.date)
    else {
        return false;
    };
    let reason = format!(
        "missed the same-day windows of {}; effective date moved from {} to {}",
        c.effective_date, c.effective_date, next
    );
    c.effective_date = next;
    c.status_reason = Some(reason.clone());
    c.status_history.push(StatusChange {
        status: c.status,
        reason: Some(reason),
        at: now,
    });
    c.updated_at = now;
    true
}

/// What packing did.
pub(super) struct Packed {
    /// The files made (each with its companion file, if any), in order.
    pub files: super::commit::Made,
    pub failed: Vec<FailedEntry>,
    /// Left pending: no File ID Modifier left for them today (ids, in order).
    pub deferred: Vec<String>,
}

/// Plan, number, build and commit the files for `entries` (sorted by key,
/// then id). The files are made inside a savepoint: when one fails to
/// build, everything since is undone, its entries are checked one by one,
/// those that cannot be filed fail alone and the rest are planned again.
pub(super) async fn pack(
    tx: &mut Tx,
    vault: &Vault,
    ctx: &Context,
    keys: &Keys,
    mut entries: Vec<Due>,
) -> Result<Packed, AchError> {
    let mut failed = Vec::new();
    loop {
        let (files, refused, deferred) = choose(ctx, &entries);
        if !refused.is_empty() {
            let why = "the amount does not fit the 10-digit entry field";
            let poisoned = load_rolled(tx, ctx, &entries, &refused).await?;
            let poisoned = poisoned.into_iter().map(|(i, c)| (i, c, why.to_owned()));
            failed.extend(fail_all(tx, ctx, &mut entries, poisoned.collect()).await?);
            continue;
        }
        let savepoint = tx.savepoint().await?;
        let mut made = Vec::with_capacity(files.len());
        let mut broken: Vec<(Vec<usize>, AchError)> = Vec::new();
        let per_file = ctx.modifiers_per_file();
        for (members, modifiers) in files.into_iter().zip(ctx.modifiers.chunks(per_file)) {
            let batches = count_batches(ctx, keys, &entries, &members)?;
            let plan = FilePlan::new(tx, vault, ctx, modifiers, members.len(), batches).await?;
            let numbered: Vec<Member> = members
                .iter()
                .zip(plan.first_trace..)
                .map(|(&i, seq)| Member {
                    id: entries[i].id.clone(),
                    key: entries[i].key,
                    seq,
                })
                .collect();
            match super::commit::file(tx, vault, keys, ctx, &plan, numbered).await {
                Ok(m) => made.extend(m),
                Err(AchError::Store(e)) => return Err(AchError::Store(e)),
                Err(e) => broken.push((members, e)),
            }
        }
        if broken.is_empty() {
            tx.release(savepoint).await?;
            let deferred = deferred.iter().map(|&i| entries[i].id.to_string());
            let mut deferred: Vec<String> = deferred.collect();
            deferred.sort();
            return Ok(Packed {
                files: made,
                failed,
                deferred,
            });
        }
        tx.rollback_to(savepoint).await?;
        drop(made);
        let mut poisoned = Vec::new();
        for (members, _) in &broken {
            for (i, c) in load_rolled(tx, ctx, &entries, members).await? {
                if let Err(reason) = poison::check_entry(vault, &ctx.info, &ctx.cutoff, &c) {
                    poisoned.push((i, c, reason));
                }
            }
        }
        if poisoned.is_empty() {
            // The file fails while each of its entries builds alone.
            return Err(broken.swap_remove(0).1);
        }
        failed.extend(fail_all(tx, ctx, &mut entries, poisoned).await?);
    }
}

/// The collections of `entries` at `at`, read back (a chunk at a time)
/// and moved to their effective date as the cutoff moved them.
async fn load_rolled(
    tx: &mut Tx,
    ctx: &Context,
    entries: &[Due],
    at: &[usize],
) -> Result<Vec<(usize, AchCollection)>, AchError> {
    let mut out = Vec::with_capacity(at.len());
    for chunk in at.chunks(LOAD_CHUNK) {
        let ids: Vec<CollectionId> = chunk.iter().map(|&i| entries[i].id.clone()).collect();
        for (&i, mut c) in chunk.iter().zip(tx.load_ach_collections(&ids).await?) {
            ctx.roll(&mut c);
            out.push((i, c));
        }
    }
    Ok(out)
}

/// Fail the entries `poisoned` (index, collection, reason) and take them
/// out of `entries`.
async fn fail_all(
    tx: &mut Tx,
    ctx: &Context,
    entries: &mut Vec<Due>,
    mut poisoned: Vec<(usize, AchCollection, String)>,
) -> Result<Vec<FailedEntry>, AchError> {
    poisoned.sort_by_key(|p| std::cmp::Reverse(p.0));
    let mut failed = Vec::with_capacity(poisoned.len());
    for (i, c, reason) in poisoned {
        entries.remove(i);
        failed.extend(poison::fail_entry(tx, c, &reason, ctx.now).await?);
    }
    failed.reverse();
    Ok(failed)
}

/// The files to make now (each the indexes of its entries, in order), the
/// entries no file can hold, and the entries left for a later cutoff when
/// the day's File ID Modifiers run short.
fn choose(ctx: &Context, entries: &[Due]) -> (Vec<Vec<usize>>, Vec<usize>, Vec<usize>) {
    let all: Vec<usize> = (0..entries.len()).collect();
    let (files, refused) = plan_files(ctx, entries, &all);
    let room = ctx.modifiers.len() / ctx.modifiers_per_file();
    if files.len() <= room || !refused.is_empty() {
        return (files, refused, Vec::new());
    }
    // Smallest first: the largest prefix (by amount) that fits the files left.
    let mut by_amount = all;
    by_amount.sort_by_key(|&i| (entries[i].amount, i));
    let fits = |k: usize| {
        let mut chosen = by_amount[..k].to_vec();
        chosen.sort_unstable();
        let (files, _) = plan_files(ctx, entries, &chosen);
        (files.len() <= room).then_some(files)
    };
    let (mut lo, mut hi) = (0, by_amount.len());
    let mut best = Vec::new();
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        match fits(mid) {
            Some(files) => {
                best = files;
                lo = mid;
            }
            None => hi = mid - 1,
        }
    }
    let mut deferred = by_amount[lo..].to_vec();
    deferred.sort_unstable();
    tracing::error!(
        date = %ctx.cutoff.date,
        deferred = deferred.len(),
        "not enough File ID Modifiers left today for every file; the largest entries wait for the next cutoff"
    );
    (best, Vec::new(), deferred)
}

/// Plan the entries at `chosen` (ascending indexes) into files.
fn plan_files(ctx: &Context, entries: &[Due], chosen: &[usize]) -> (Vec<Vec<usize>>, Vec<usize>) {
    let limits = nacha::plan::PlanLimits {
        max_entries_per_file: ctx.max_entries_per_file,
        offsets: ctx.offsets,
    };
    let items = chosen
        .iter()
        .map(|&i| (entries[i].key, entries[i].plan_entry()));
    let plan = nacha::plan::plan(items, limits);
    let files = plan
        .files
        .iter()
        .map(|f| f.entries().map(|j| chosen[j]).collect())
        .collect();
    (files, plan.refused.iter().map(|&j| chosen[j]).collect())
}

/// How many batches (so offsets) the entries at `members` make in one file.
fn count_batches(
    ctx: &Context,
    keys: &Keys,
    entries: &[Due],
    members: &[usize],
) -> Result<usize, AchError> {
    if ctx.offsets == Offsets::None {
        return Ok(0);
    }
    let items = members
        .iter()
        .map(|&i| (&**keys.get(entries[i].key), entries[i].plan_entry()));
    file_batches(items, ctx.offsets)
        .map(|b| b.len())
        .map_err(|reason| AchError::Build {
            file_id: String::new(),
            reason,
        })
}
