//! Packing a cutoff's entries (in batch-key order) into files: plan the
//! batches and files (`nacha::plan`: control fields and
//! `max_entries_per_file`), give each file the next free File ID Modifier of
//! the day and a block of trace numbers, and build and strictly validate
//! each file. A file that fails is checked entry by entry; the entries that
//! cannot be filed fail alone ([`super::poison`]) and the rest are planned
//! again.
//!
//! When the day's File ID Modifiers cannot cover every file, the smallest
//! entries are filed first (as many as fit the files left) and the others
//! stay `pending` for the next cutoff: a customer with very large debits
//! waits, everyone else is filed.

use chrono::{DateTime, Utc};
use inflow_core::calendar::{Cutoff, CutoffKind};
use inflow_core::collection::{AchCollection, CollectionStatus};
use inflow_core::crypto::Vault;
use inflow_store::repo::ach_files::{AchFile, OUTBOUND, STATUS_CREATED};
use inflow_store::Tx;

use super::{poison, FailedEntry, FILE_ID_MODIFIERS, MAX_TRACE_SEQUENCE};
use crate::config::{AchConfig, OffsetAccount};
use crate::files::{
    build_file, entry_addenda, entry_amount, file_batches, file_name_from_pattern, offset_context,
    plan_entry, AchError, BatchKey, FileHeaderInfo, OffsetEntry, OffsetInfo,
    DEFAULT_FILE_NAME_PATTERN,
};
use nacha::plan::Offsets;

/// An entry with its batch key.
pub(super) type Keyed = (BatchKey, AchCollection);

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
        })
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

/// A file ready to commit: its entries numbered and `submitted`, its row
/// and the bytes built (and validated) from them.
pub(super) struct Built {
    pub plan: FilePlan,
    pub entries: Vec<Keyed>,
    pub file: AchFile,
    pub bytes: Vec<u8>,
    /// The offset entries (in this file or in `companion`).
    pub offsets: Vec<OffsetEntry>,
    /// The file of this file's offset credits, when the ODFI wants debits
    /// and credits in separate files.
    pub companion: Option<(AchFile, Vec<u8>)>,
}

/// What packing decided.
pub(super) struct Packed {
    pub files: Vec<Built>,
    pub failed: Vec<FailedEntry>,
    /// Left pending: no File ID Modifier left for them today.
    pub deferred: Vec<AchCollection>,
}

/// Plan, number and build the files for `entries` (sorted by key, then id).
pub(super) async fn pack(
    tx: &mut Tx,
    vault: &Vault,
    ctx: &Context,
    mut entries: Vec<Keyed>,
) -> Result<Packed, AchError> {
    let mut failed = Vec::new();
    loop {
        let (files, refused, deferred) = choose(ctx, &entries);
        if !refused.is_empty() {
            let why = "the amount does not fit the 10-digit entry field";
            let poisoned = refused.into_iter().map(|i| (i, why.to_owned())).collect();
            failed.extend(fail_all(tx, ctx, &mut entries, poisoned).await?);
            continue;
        }
        let mut built = Vec::with_capacity(files.len());
        let mut broken: Vec<(Vec<usize>, AchError)> = Vec::new();
        let per_file = ctx.modifiers_per_file();
        for (members, modifiers) in files.into_iter().zip(ctx.modifiers.chunks(per_file)) {
            let batches = count_batches(ctx, &entries, &members)?;
            let plan = FilePlan::new(tx, vault, ctx, modifiers, members.len(), batches).await?;
            let mine = members.iter().map(|&i| entries[i].clone()).collect();
            match plan.build(vault, mine) {
                Ok(b) => built.push(b),
                Err(e) => broken.push((members, e)),
            }
        }
        if broken.is_empty() {
            let mut deferred: Vec<AchCollection> =
                deferred.iter().map(|&i| entries[i].1.clone()).collect();
            deferred.sort_by(|a, b| a.id.cmp(&b.id));
            return Ok(Packed {
                files: built,
                failed,
                deferred,
            });
        }
        let poisoned: Vec<(usize, String)> = broken
            .iter()
            .flat_map(|(members, _)| members.iter().copied())
            .filter_map(|i| {
                poison::check_entry(vault, &ctx.info, &ctx.cutoff, &entries[i].1)
                    .err()
                    .map(|reason| (i, reason))
            })
            .collect();
        if poisoned.is_empty() {
            // The file fails while each of its entries builds alone.
            return Err(broken.swap_remove(0).1);
        }
        failed.extend(fail_all(tx, ctx, &mut entries, poisoned).await?);
    }
}

/// Fail the entries at `poisoned` (index, reason) and take them out of `entries`.
async fn fail_all(
    tx: &mut Tx,
    ctx: &Context,
    entries: &mut Vec<Keyed>,
    mut poisoned: Vec<(usize, String)>,
) -> Result<Vec<FailedEntry>, AchError> {
    poisoned.sort_by_key(|p| std::cmp::Reverse(p.0));
    let mut failed = Vec::with_capacity(poisoned.len());
    for (i, reason) in poisoned {
        let (_, c) = entries.remove(i);
        failed.extend(poison::fail_entry(tx, c, &reason, ctx.now).await?);
    }
    failed.reverse();
    Ok(failed)
}

/// The files to make now (each the indexes of its entries, in order), the
/// entries no file can hold, and the entries left for a later cutoff when
/// the day's File ID Modifiers run short.
fn choose(ctx: &Context, entries: &[Keyed]) -> (Vec<Vec<usize>>, Vec<usize>, Vec<usize>) {
    let all: Vec<usize> = (0..entries.len()).collect();
    let (files, refused) = plan_files(ctx, entries, &all);
    let room = ctx.modifiers.len() / ctx.modifiers_per_file();
    if files.len() <= room || !refused.is_empty() {
        return (files, refused, Vec::new());
    }
    // Smallest first: the largest prefix (by amount) that fits the files left.
    let mut by_amount = all;
    by_amount.sort_by_key(|&i| (entries[i].1.amount.minor(), i));
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
fn plan_files(ctx: &Context, entries: &[Keyed], chosen: &[usize]) -> (Vec<Vec<usize>>, Vec<usize>) {
    let limits = nacha::plan::PlanLimits {
        max_entries_per_file: ctx.max_entries_per_file,
        offsets: ctx.offsets,
    };
    let items = chosen.iter().map(|&i| {
        let (key, c) = &entries[i];
        let amount = u64::try_from(entry_amount(c)).unwrap_or(u64::MAX);
        (key, plan_entry(amount, entry_addenda(c).is_some()))
    });
    let plan = nacha::plan::plan(items, limits);
    let files = plan
        .files
        .iter()
        .map(|f| f.entries().map(|j| chosen[j]).collect())
        .collect();
    (files, plan.refused.iter().map(|&j| chosen[j]).collect())
}

/// How many batches (so offsets) the entries at `members` make in one file.
fn count_batches(ctx: &Context, entries: &[Keyed], members: &[usize]) -> Result<usize, AchError> {
    if ctx.offsets == Offsets::None {
        return Ok(0);
    }
    let items = members.iter().map(|&i| {
        let (key, c) = &entries[i];
        let amount = u64::try_from(entry_amount(c)).unwrap_or(u64::MAX);
        (key, plan_entry(amount, entry_addenda(c).is_some()))
    });
    file_batches(items, ctx.offsets)
        .map(|b| b.len())
        .map_err(|reason| AchError::Build {
            file_id: String::new(),
            reason,
        })
}

/// A file's companion credit file (its offsets), planned with it.
#[derive(Clone)]
struct CompanionPlan {
    file_id: String,
    file_name: String,
    modifier: char,
}

/// One file of the cutoff.
#[derive(Clone)]
pub(super) struct FilePlan {
    file_id: String,
    pub file_name: String,
    modifier: char,
    first_trace: i64,
    odfi8: String,
    reason: String,
    summary_json: String,
    companion: Option<CompanionPlan>,
    cutoff: Cutoff,
    now: DateTime<Utc>,
}

impl FilePlan {
    /// A file with the first of `modifiers` (its companion credit file,
    /// if any, the second) and a block of trace numbers: one per entry and
    /// one per batch's offset.
    async fn new(
        tx: &mut Tx,
        vault: &Vault,
        ctx: &Context,
        modifiers: &[char],
        entries: usize,
        batches: usize,
    ) -> Result<Self, AchError> {
        let fail = |reason: &str| AchError::Build {
            file_id: String::new(),
            reason: reason.to_owned(),
        };
        let modifier = *modifiers
            .first()
            .ok_or_else(|| fail("no File ID Modifier"))?;
        let date = ctx.cutoff.date;
        let file_name = file_name_from_pattern(&ctx.file_name_pattern, date, modifier, "debits");
        let first_trace = tx
            .reserve_counter(
                &ctx.trace_counter,
                (entries + batches) as i64,
                MAX_TRACE_SEQUENCE,
            )
            .await?;
        let file_id = AchFile::new_id(ctx.now);
        let mut info = ctx.info.clone();
        info.offset = ctx.offset.as_ref().map(|o| OffsetInfo {
            routing: o.routing.as_string(),
            account_sealed: hex::encode(vault.seal(
                o.account_number.expose().as_bytes(),
                &offset_context(&file_id),
            )),
            account_type: o.account_type,
            name: o.name.clone(),
            // The block never straddles the counter's wrap.
            first_trace: first_trace + entries as i64,
            in_file: ctx.offsets == Offsets::InBatch,
        });
        let companion = match ctx.offsets {
            Offsets::Elsewhere => {
                let m = *modifiers
                    .get(1)
                    .ok_or_else(|| fail("no File ID Modifier"))?;
                Some(CompanionPlan {
                    file_id: AchFile::new_id(ctx.now),
                    file_name: file_name_from_pattern(&ctx.file_name_pattern, date, m, "credits"),
                    modifier: m,
                })
            }
            _ => None,
        };
        let summary_json = serde_json::to_string(&info).map_err(|e| fail(&e.to_string()))?;
        Ok(FilePlan {
            reason: format!(
                "in file {file_name} ({} of {})",
                ctx.kind_label, ctx.cutoff.date
            ),
            file_id,
            file_name,
            modifier,
            first_trace,
            odfi8: ctx.odfi8.clone(),
            summary_json,
            companion,
            cutoff: ctx.cutoff,
            now: ctx.now,
        })
    }

    /// Number the entries in order, move them to `batched` and build the file.
    fn build(&self, vault: &Vault, mut entries: Vec<Keyed>) -> Result<Built, AchError> {
        for (i, (_, c)) in entries.iter_mut().enumerate() {
            c.trace_number = Some(format!("{}{:07}", self.odfi8, self.first_trace + i as i64));
            c.file_id = Some(self.file_id.clone());
            c.transition(
                CollectionStatus::Batched,
                Some(self.reason.clone()),
                self.now,
            )?;
        }
        self.build_with_traces(vault, entries)
    }

    /// Build the file for entries that already carry their traces.
    pub(super) fn build_with_traces(
        &self,
        vault: &Vault,
        entries: Vec<Keyed>,
    ) -> Result<Built, AchError> {
        let total_debit = entries.iter().map(|(_, c)| entry_amount(c)).sum();
        let mut file = AchFile {
            id: self.file_id.clone(),
            direction: OUTBOUND.to_owned(),
            status: STATUS_CREATED.to_owned(),
            file_name: self.file_name.clone(),
            creation_date: self.cutoff.date,
            file_id_modifier: Some(self.modifier.to_string()),
            cutoff_at: Some(self.cutoff.at),
            batch_count: 0,
            entry_count: entries.len() as i64,
            total_debit,
            total_credit: 0,
            sha256: None,
            summary: Some(self.summary_json.clone()),
            created_at: self.now,
            written_at: None,
        };
        let collections: Vec<AchCollection> = entries.iter().map(|(_, c)| c.clone()).collect();
        let built = build_file(vault, &file, &collections)?;
        file.batch_count = built.batch_count;
        let offset_total: i64 = built.offsets.iter().map(|o| o.amount).sum();
        let mut offsets = built.offsets;
        let companion = match &self.companion {
            Some(cp) => self.build_companion(vault, cp, &collections)?,
            None => {
                // Balanced: the offsets are entries of this file.
                file.entry_count += offsets.len() as i64;
                file.total_credit = offset_total;
                None
            }
        };
        if let Some((_, _, o)) = &companion {
            offsets = o.clone();
        }
        Ok(Built {
            plan: self.clone(),
            entries,
            file,
            bytes: built.bytes,
            offsets,
            companion: companion.map(|(f, b, _)| (f, b)),
        })
    }

    /// The companion credit file of this file's offsets (`None` when no
    /// batch moves money, e.g. only prenotes).
    #[allow(clippy::type_complexity)]
    fn build_companion(
        &self,
        vault: &Vault,
        cp: &CompanionPlan,
        collections: &[AchCollection],
    ) -> Result<Option<(AchFile, Vec<u8>, Vec<OffsetEntry>)>, AchError> {
        let mut info: FileHeaderInfo =
            serde_json::from_str(&self.summary_json).map_err(|e| AchError::Build {
                file_id: cp.file_id.clone(),
                reason: e.to_string(),
            })?;
        info.offsets_of = Some(self.file_id.clone());
        let mut file = AchFile {
            id: cp.file_id.clone(),
            direction: OUTBOUND.to_owned(),
            status: STATUS_CREATED.to_owned(),
            file_name: cp.file_name.clone(),
            creation_date: self.cutoff.date,
            file_id_modifier: Some(cp.modifier.to_string()),
            cutoff_at: Some(self.cutoff.at),
            batch_count: 0,
            entry_count: 0,
            total_debit: 0,
            total_credit: 0,
            sha256: None,
            summary: Some(serde_json::to_string(&info).map_err(|e| AchError::Build {
                file_id: cp.file_id.clone(),
                reason: e.to_string(),
            })?),
            created_at: self.now,
            written_at: None,
        };
        let built = build_file(vault, &file, collections)?;
        if built.offsets.is_empty() {
            return Ok(None);
        }
        file.batch_count = built.batch_count;
        file.entry_count = built.offsets.len() as i64;
        file.total_credit = built.offsets.iter().map(|o| o.amount).sum();
        Ok(Some((file, built.bytes, built.offsets)))
    }
}
