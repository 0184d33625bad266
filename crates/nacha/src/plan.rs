//! Splitting a list of entries into batches and files whose control
//! records can hold them ([`crate::limits`]), plus a ceiling on entries per
//! file that an ODFI may impose.
//!
//! Entries arrive in file order with a flag saying whether each may share
//! the previous entry's batch (same company, SEC code, description and
//! effective date — the caller's grouping). The planner is greedy and
//! deterministic: an entry joins the current batch unless the group changes
//! or the batch's count or a total would overflow; it joins the current
//! file unless the file's entry ceiling, block count, batch count, count or
//! a total would overflow. So a batch is split only where it must be, and
//! planning the entries of one planned file again (with any entry ceiling)
//! gives back exactly that file's batches — a file can be rebuilt from its
//! entries alone.
//!
//! ```
//! use nacha::plan::{plan, PlanEntry, PlanLimits};
//! let big = PlanEntry::debit(9_999_999_999);
//! // 101 entries of $99,999,999.99 overflow one 12-digit control total.
//! let p = plan((0..101).map(|_| ("ACME", big)), PlanLimits::fields_only());
//! assert_eq!(p.files.len(), 2);
//! assert_eq!(p.files[0].batches, vec![(0..100).collect::<Vec<_>>()]);
//! assert_eq!(p.files[1].batches, vec![vec![100]]);
//! ```

use crate::limits::{batch_overflow, file_overflow, MAX_ENTRY_AMOUNT, MAX_TOTAL_AMOUNT};

/// What the planner needs to know of one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanEntry {
    /// Cents.
    pub amount: u64,
    /// Counts towards the credit totals (else the debit totals).
    pub credit: bool,
    /// Addenda records that follow the entry.
    pub addenda: u32,
}

impl PlanEntry {
    /// A debit of `amount` cents without addenda.
    pub fn debit(amount: u64) -> Self {
        PlanEntry {
            amount,
            credit: false,
            addenda: 0,
        }
    }

    fn records(&self) -> u64 {
        1 + u64::from(self.addenda)
    }

    fn split(&self) -> (u64, u64) {
        if self.credit {
            (0, self.amount)
        } else {
            (self.amount, 0)
        }
    }
}

/// Limits beyond the fields' own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanLimits {
    /// Entry detail records (not addenda) one file may hold; at least 1.
    pub max_entries_per_file: u64,
    /// Whether each batch gets an offsetting credit (a balanced file).
    pub offsets: Offsets,
}

/// The offsetting credit entry each batch may get: one entry crediting the
/// originator's settlement account with the batch's debit total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Offsets {
    /// No offset entries.
    #[default]
    None,
    /// The offset is the last entry of its batch: it counts towards the
    /// batch's and the file's entries, records and credit totals.
    InBatch,
    /// The offset goes in another file (one that holds only credits); only
    /// its amount limits this batch.
    Elsewhere,
}

impl PlanLimits {
    /// Only the limits of the NACHA fields.
    pub fn fields_only() -> Self {
        PlanLimits {
            max_entries_per_file: u64::MAX,
            offsets: Offsets::None,
        }
    }

    /// These limits with `offsets`.
    pub fn with_offsets(self, offsets: Offsets) -> Self {
        PlanLimits { offsets, ..self }
    }
}

/// Where the planner put an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// In the current batch.
    SameBatch,
    /// First of a new batch in the current file.
    NewBatch,
    /// First of a new batch in a new file.
    NewFile,
    /// Nowhere: its amount does not fit the 10-digit entry field.
    Refused,
}

#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    entries: u64,
    entry_addenda: u64,
    debit: u64,
    credit: u64,
}

impl Tally {
    fn add(&mut self, e: &PlanEntry) {
        let (d, c) = e.split();
        self.entries += 1;
        self.entry_addenda += e.records();
        self.debit += d;
        self.credit += c;
    }
}

/// The streaming planner: feed entries in file order with [`Planner::place`].
#[derive(Debug, Clone)]
pub struct Planner {
    limits: PlanLimits,
    started: bool,
    file: Tally,
    batches: u64,
    /// Every record of the file so far, file header and control included.
    records: u64,
    batch: Tally,
}

impl Planner {
    /// A planner with nothing placed yet.
    pub fn new(limits: PlanLimits) -> Self {
        Planner {
            limits: PlanLimits {
                max_entries_per_file: limits.max_entries_per_file.max(1),
                offsets: limits.offsets,
            },
            started: false,
            file: Tally::default(),
            batches: 0,
            records: 2,
            batch: Tally::default(),
        }
    }

    /// Place the next entry. `same_group` says whether it may share a batch
    /// with the previous entry placed (ignored for the first one).
    pub fn place(&mut self, same_group: bool, e: PlanEntry) -> Placement {
        if e.amount > MAX_ENTRY_AMOUNT {
            return Placement::Refused;
        }
        let (d, c) = e.split();
        // An offset entry mirrors the batch's debits as a credit and must
        // itself fit the 10-digit entry amount.
        let offset_in_batch = u64::from(self.limits.offsets == Offsets::InBatch);
        let mirror = d * offset_in_batch;
        let offset_too_large =
            self.limits.offsets != Offsets::None && self.batch.debit + d > MAX_ENTRY_AMOUNT;
        let mut new_batch = !self.started
            || !same_group
            || offset_too_large
            || batch_overflow(
                self.batch.entry_addenda + e.records(),
                self.batch.debit + d,
                self.batch.credit + c + mirror,
            )
            .is_some();
        let opened = u64::from(new_batch);
        // A new batch brings its header, control and (in the batch) offset.
        let extra = e.records() + opened * (2 + offset_in_batch);
        let file_full = self.started
            && (self.file.entries + 1 + opened * offset_in_batch
                > self.limits.max_entries_per_file
                || file_overflow(
                    self.batches + opened,
                    self.records + extra,
                    self.file.entry_addenda + e.records() + opened * offset_in_batch,
                    self.file.debit + d,
                    self.file.credit + c + mirror,
                )
                .is_some());
        let placement = if !self.started || file_full {
            Placement::NewFile
        } else if new_batch {
            Placement::NewBatch
        } else {
            Placement::SameBatch
        };
        if placement == Placement::NewFile {
            self.file = Tally::default();
            self.batches = 0;
            self.records = 2;
            new_batch = true;
        }
        if new_batch {
            self.batch = Tally::default();
            self.batches += 1;
            self.records += 2 + offset_in_batch;
            for t in [&mut self.batch, &mut self.file] {
                t.entries += offset_in_batch;
                t.entry_addenda += offset_in_batch;
            }
        }
        self.started = true;
        self.batch.add(&e);
        self.file.add(&e);
        self.batch.credit += mirror;
        self.file.credit += mirror;
        self.records += e.records();
        debug_assert!(self.file.debit <= MAX_TOTAL_AMOUNT);
        placement
    }
}

/// One planned file: its batches, each the indexes of its entries in the
/// planner's input (ascending).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlannedFile {
    /// The batches in order.
    pub batches: Vec<Vec<usize>>,
}

impl PlannedFile {
    /// The indexes of every entry of the file, in order.
    pub fn entries(&self) -> impl Iterator<Item = usize> + '_ {
        self.batches.iter().flatten().copied()
    }

    /// How many entries the file holds.
    pub fn entry_count(&self) -> usize {
        self.batches.iter().map(Vec::len).sum()
    }
}

/// The planner's answer for a whole list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// The files in order.
    pub files: Vec<PlannedFile>,
    /// Entries that fit no file (amount over the 10-digit entry field).
    pub refused: Vec<usize>,
}

/// Plan `entries` (each with its group; consecutive entries of equal groups
/// may share a batch) into files and batches.
pub fn plan<K: PartialEq>(
    entries: impl IntoIterator<Item = (K, PlanEntry)>,
    limits: PlanLimits,
) -> Plan {
    let mut planner = Planner::new(limits);
    let mut out = Plan::default();
    let mut last: Option<K> = None;
    for (i, (key, e)) in entries.into_iter().enumerate() {
        let same = last.as_ref() == Some(&key);
        match planner.place(same, e) {
            Placement::Refused => {
                out.refused.push(i);
                continue;
            }
            Placement::NewFile => out.files.push(PlannedFile {
                batches: vec![vec![i]],
            }),
            Placement::NewBatch => {
                if let Some(f) = out.files.last_mut() {
                    f.batches.push(vec![i]);
                }
            }
            Placement::SameBatch => {
                if let Some(b) = out.files.last_mut().and_then(|f| f.batches.last_mut()) {
                    b.push(i);
                }
            }
        }
        last = Some(key);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::{MAX_BATCH_ENTRY_ADDENDA_COUNT, MAX_RECORDS};

    const MAX: u64 = MAX_ENTRY_AMOUNT;

    fn sizes(p: &Plan) -> Vec<Vec<usize>> {
        p.files
            .iter()
            .map(|f| f.batches.iter().map(Vec::len).collect())
            .collect()
    }

    #[test]
    fn ordinary_entries_make_one_batch_per_group_in_one_file() {
        let keys = ["A", "A", "B", "B", "B", "A"];
        let p = plan(
            keys.iter().map(|k| (*k, PlanEntry::debit(100))),
            PlanLimits::fields_only(),
        );
        assert_eq!(sizes(&p), vec![vec![2, 3, 1]]);
        assert!(p.refused.is_empty());
    }

    #[test]
    fn a_batch_splits_where_its_total_would_pass_twelve_digits() {
        // 100 × MAX = 999,999,999,900 fits; 101 × MAX does not; and the
        // file total splits at the same point.
        let p = plan(
            (0..250).map(|_| ("A", PlanEntry::debit(MAX))),
            PlanLimits::fields_only(),
        );
        assert_eq!(sizes(&p), vec![vec![100], vec![100], vec![50]]);
        for f in &p.files {
            let total: u64 = f.entries().map(|_| MAX).sum();
            assert!(total <= MAX_TOTAL_AMOUNT);
        }
    }

    #[test]
    fn small_entries_after_big_ones_share_the_remaining_room() {
        let mut entries: Vec<(&str, PlanEntry)> =
            (0..100).map(|_| ("A", PlanEntry::debit(MAX))).collect();
        entries.push(("B", PlanEntry::debit(99)));
        entries.push(("A", PlanEntry::debit(MAX)));
        let p = plan(entries, PlanLimits::fields_only());
        assert_eq!(sizes(&p), vec![vec![100, 1], vec![1]]);
    }

    #[test]
    fn credits_and_debits_have_separate_totals() {
        let credit = PlanEntry {
            amount: MAX,
            credit: true,
            addenda: 0,
        };
        let entries = (0..100)
            .map(|_| ("A", PlanEntry::debit(MAX)))
            .chain((0..100).map(|_| ("A", credit)));
        let p = plan(entries, PlanLimits::fields_only());
        assert_eq!(sizes(&p), vec![vec![200]]);
    }

    #[test]
    fn the_entry_ceiling_starts_new_files_and_splits_batches_at_the_boundary() {
        let keys = ["A", "A", "A", "B", "B"];
        let limits = PlanLimits {
            max_entries_per_file: 2,
            offsets: Offsets::None,
        };
        let p = plan(keys.iter().map(|k| (*k, PlanEntry::debit(5))), limits);
        assert_eq!(sizes(&p), vec![vec![2], vec![1, 1], vec![1]]);
        assert_eq!(
            p.files[1].batches,
            vec![vec![2], vec![3]],
            "indexes are the input's"
        );
    }

    #[test]
    fn amounts_over_the_entry_field_are_refused_and_skipped() {
        let entries = vec![
            ("A", PlanEntry::debit(1)),
            ("A", PlanEntry::debit(MAX + 1)),
            ("A", PlanEntry::debit(2)),
        ];
        let p = plan(entries, PlanLimits::fields_only());
        assert_eq!(p.refused, vec![1]);
        assert_eq!(p.files[0].batches, vec![vec![0, 2]]);
    }

    #[test]
    fn batch_counts_include_addenda() {
        let with_addenda = PlanEntry {
            amount: 1,
            credit: false,
            addenda: 1,
        };
        let n = (MAX_BATCH_ENTRY_ADDENDA_COUNT / 2) as usize + 1;
        let p = plan(
            (0..n).map(|_| ("A", with_addenda)),
            PlanLimits::fields_only(),
        );
        assert_eq!(sizes(&p), vec![vec![n - 1, 1]]);
    }

    /// Place entries until the planner starts a second file; returns the
    /// records of the first one and how many batches it had.
    fn fill_one_file(same_group: bool) -> (u64, u64) {
        let mut planner = Planner::new(PlanLimits::fields_only());
        let (mut records, mut batches) = (2u64, 0u64);
        let mut first = true;
        loop {
            match planner.place(same_group, PlanEntry::debit(1)) {
                Placement::NewFile if !first => return (records, batches),
                Placement::SameBatch => records += 1,
                _ => {
                    records += 3;
                    batches += 1;
                }
            }
            first = false;
        }
    }

    #[test]
    fn the_block_count_caps_a_file() {
        let (records, _) = fill_one_file(true);
        assert!(
            records <= MAX_RECORDS && records + 1 > MAX_RECORDS,
            "{records}"
        );
    }

    #[test]
    fn the_batch_count_caps_a_file() {
        let (_, batches) = fill_one_file(false);
        assert_eq!(batches, crate::limits::MAX_BATCH_COUNT);
    }

    #[test]
    fn replanning_one_planned_file_gives_back_its_batches() {
        let mut entries = Vec::new();
        for i in 0..400u64 {
            let key = ["A", "B", "C"][(i / 150) as usize];
            let amount = if i % 7 == 0 { MAX } else { 1_000 + i };
            entries.push((key, PlanEntry::debit(amount)));
        }
        for offsets in [Offsets::None, Offsets::InBatch, Offsets::Elsewhere] {
            let limits = PlanLimits {
                max_entries_per_file: 120,
                offsets,
            };
            let p = plan(entries.iter().copied(), limits);
            assert!(p.files.len() > 3);
            for f in &p.files {
                let mine: Vec<usize> = f.entries().collect();
                let again = plan(
                    mine.iter().map(|&i| entries[i]),
                    PlanLimits::fields_only().with_offsets(offsets),
                );
                assert_eq!(again.files.len(), 1);
                let mapped: Vec<Vec<usize>> = again.files[0]
                    .batches
                    .iter()
                    .map(|b| b.iter().map(|&j| mine[j]).collect())
                    .collect();
                assert_eq!(mapped, f.batches, "{offsets:?}");
            }
        }
    }

    #[test]
    fn an_offset_caps_its_batch_at_one_entry_amount_and_counts_as_an_entry() {
        // Two entries of MAX fit one debits-only batch, but their offset
        // would not fit a 10-digit amount.
        for offsets in [Offsets::InBatch, Offsets::Elsewhere] {
            let p = plan(
                (0..3).map(|_| ("A", PlanEntry::debit(MAX))),
                PlanLimits::fields_only().with_offsets(offsets),
            );
            assert_eq!(sizes(&p), vec![vec![1, 1, 1]], "{offsets:?}");
        }
        let p = plan(
            (0..3).map(|_| ("A", PlanEntry::debit(MAX / 2))),
            PlanLimits::fields_only().with_offsets(Offsets::InBatch),
        );
        assert_eq!(sizes(&p), vec![vec![2, 1]]);
        // Four entries of one key with a ceiling of 4 entries per file: the
        // offset is the fourth entry, so the fourth debit starts a new file.
        let limits = PlanLimits {
            max_entries_per_file: 4,
            offsets: Offsets::InBatch,
        };
        let p = plan((0..4).map(|_| ("A", PlanEntry::debit(1))), limits);
        assert_eq!(sizes(&p), vec![vec![3], vec![1]]);
        // Elsewhere: the offset is not in this file.
        let p = plan(
            (0..4).map(|_| ("A", PlanEntry::debit(1))),
            limits.with_offsets(Offsets::Elsewhere),
        );
        assert_eq!(sizes(&p), vec![vec![4]]);
    }
}
