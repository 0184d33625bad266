//! Applying a file's entries in chunks, the way the cutoff files
//! collections: per chunk of [`CHUNK`] entries, one query matches every
//! original trace number, one statement records the return entries, and
//! the ordinary returns — the bulk of any return file — move their
//! collections to `returned` with a few set-based statements: the status
//! updates, the ledger reversals and return fees, the events.
//!
//! A return whose original trace is no collection's but a refund or
//! reversal credit's returns that credit ([`crate::credits::lifecycle`]).
//!
//! Every entry that needs more than that goes through the one-at-a-time
//! rules of [`super::apply`], after the chunk's ordinary returns and in file
//! order: NOCs, dishonored and contested returns, returns of prenotes, of
//! collections on a schedule or whose code blocks a saved payment method,
//! late returns, returns of collections not in a returnable status, and
//! every entry of a collection named twice in the chunk. A collection
//! moved by someone else between the read and the update falls back the
//! same way. Memory is bounded by the chunk: the report lists at most
//! [`super::REPORT_LIST_LIMIT`] entries and warnings.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use inflow_core::calendar::local_date;
use inflow_core::collection::{AchCollection, AchEntryType, CollectionStatus};
use inflow_core::crypto::Vault;
use inflow_core::ids::CollectionId;
use inflow_store::repo::ach_offsets::OffsetEntryRow;
use inflow_store::repo::returns::{kind, AchReturn};
use inflow_store::{StoreError, Tx};

use super::apply::{self, LATE_RETURN_LIMIT_DAYS};
use super::{InboundItem, IngestError, IngestReport, IngestedEntry, BLOCKING_RETURN_CODES};
use crate::config::AchConfig;
use crate::events::status_event_row;

/// Entries per chunk: large enough that per-statement costs vanish, small
/// enough that a chunk's rows and statements stay a few megabytes.
pub const CHUNK: usize = 2_000;

/// Record and apply every item, chunk by chunk, adding to `report`; the
/// number of items applied. Only one chunk of items is held at a time.
pub(super) async fn apply_items(
    tx: &mut Tx,
    vault: &Vault,
    cfg: &AchConfig,
    file_id: &str,
    items: &mut (dyn Iterator<Item = InboundItem> + Send),
    now: DateTime<Utc>,
    report: &mut IngestReport,
) -> Result<u64, IngestError> {
    let mut applied = 0;
    loop {
        let chunk: Vec<InboundItem> = (&mut *items).take(CHUNK).collect();
        if chunk.is_empty() {
            return Ok(applied);
        }
        applied += chunk.len() as u64;
        let ctx = Chunk {
            vault,
            cfg,
            items: &chunk,
            now,
        };
        ctx.apply(tx, file_id, report).await?;
    }
}

struct Chunk<'a> {
    vault: &'a Vault,
    cfg: &'a AchConfig,
    items: &'a [InboundItem],
    now: DateTime<Utc>,
}

/// An ordinary return ready to be applied in bulk: the item's index and
/// its collection, already moved to `returned` in memory.
struct Ordinary {
    index: usize,
    before: CollectionStatus,
    collection: AchCollection,
}

impl Chunk<'_> {
    async fn apply(
        &self,
        tx: &mut Tx,
        file_id: &str,
        report: &mut IngestReport,
    ) -> Result<(), IngestError> {
        let traces: Vec<&str> = self
            .items
            .iter()
            .map(|i| i.original_trace.as_str())
            .collect();
        let matches = tx.collection_ids_by_traces(&traces).await?;
        // Returns of refund and reversal credits: matched by their trace.
        let unmatched: Vec<&str> = self
            .items
            .iter()
            .filter(|i| i.kind == kind::RETURN && !matches.contains_key(&i.original_trace))
            .map(|i| i.original_trace.as_str())
            .collect();
        let credits = tx.ach_credit_entries_by_traces(&unmatched).await?;
        // The rest may return a balanced file's offset entry.
        let mut offsets: HashMap<&str, OffsetEntryRow> = HashMap::new();
        let rest: Vec<&str> = unmatched
            .into_iter()
            .filter(|t| !credits.contains_key(*t))
            .collect();
        if !rest.is_empty() && tx.any_ach_offset_entries().await? {
            for t in rest {
                if let Some(o) = tx.ach_offset_entry_by_trace(t).await? {
                    offsets.insert(t, o);
                }
            }
        }
        let records: Vec<AchReturn> = self
            .items
            .iter()
            .map(|i| {
                let c = matches.get(&i.original_trace).cloned();
                let mut r = apply::return_record(self.vault, file_id, i, c, self.now);
                if i.kind == kind::RETURN && credits.contains_key(&i.original_trace) {
                    r.matched = true;
                }
                r
            })
            .collect();
        let inserted = record(tx, &records).await?;
        let collections = self.load_matched(tx, &records, &inserted).await?;
        let mut named: HashMap<&str, usize> = HashMap::new();
        for r in records.iter().filter(|r| inserted.contains(r.id.as_str())) {
            if let Some(c) = &r.collection_id {
                *named.entry(c.as_str()).or_default() += 1;
            }
        }

        let mut entries = Vec::with_capacity(self.items.len());
        let mut ordinary = Vec::new();
        let mut one_by_one = Vec::new();
        for (index, (item, r)) in self.items.iter().zip(&records).enumerate() {
            let is_new = inserted.contains(r.id.as_str());
            let offset = offsets
                .get(item.original_trace.as_str())
                .filter(|_| r.collection_id.is_none());
            entries.push(apply::report_entry(item, r, is_new, offset, report));
            if let (true, Some(e)) = (is_new, credits.get(&item.original_trace)) {
                let (what, id) = (e.kind.clone(), e.id.clone());
                let applied =
                    crate::credits::lifecycle::apply_return(tx, e.clone(), &item.code, self.now)
                        .await?;
                let outcome = if applied {
                    format!("{what} {id} returned")
                } else {
                    format!("{what} {id} is not in a returnable status; recorded, not applied")
                };
                if let Some(last) = entries.last_mut() {
                    last.outcome.push(outcome);
                }
                continue;
            }
            if let (Some(o), true) = (offset, is_new) {
                apply::record_offset_return(tx, item, r, o, self.now).await?;
            }
            let Some(id) = r.collection_id.as_ref().filter(|_| is_new) else {
                continue;
            };
            match collections.get(id.as_str()) {
                Some(c) if named[id.as_str()] == 1 && self.is_ordinary(item, c) => {
                    ordinary.push(self.returned(index, item, c.clone())?)
                }
                _ => one_by_one.push(index),
            }
        }
        one_by_one.extend(
            self.apply_ordinary(tx, ordinary, &mut entries, report)
                .await?,
        );
        one_by_one.sort_unstable();
        for index in one_by_one {
            let id = records[index]
                .collection_id
                .as_ref()
                .ok_or_else(|| StoreError::Corrupt("matched entry without collection".into()))?;
            let mut c = tx.get_ach_collection(None, id).await?;
            let (item, entry) = (&self.items[index], &mut entries[index]);
            apply::apply_matched(
                tx, self.vault, self.cfg, item, &mut c, self.now, report, entry,
            )
            .await?;
        }
        report.list_entries(entries);
        report.bound_warnings();
        Ok(())
    }

    /// The collections of the newly recorded, matched entries, by id.
    async fn load_matched(
        &self,
        tx: &mut Tx,
        records: &[AchReturn],
        inserted: &HashSet<String>,
    ) -> Result<HashMap<String, AchCollection>, IngestError> {
        let mut ids: Vec<CollectionId> = records
            .iter()
            .filter(|r| inserted.contains(r.id.as_str()))
            .filter_map(|r| r.collection_id.clone())
            .collect();
        ids.sort_unstable_by(|a, b| a.as_str().cmp(b.as_str()));
        ids.dedup();
        let loaded = tx.load_ach_collections(&ids).await?;
        Ok(loaded.into_iter().map(|c| (c.id.to_string(), c)).collect())
    }

    /// A return that only moves its collection: no prenote, schedule or
    /// payment method to block, returnable now and within the time limit.
    fn is_ordinary(&self, item: &InboundItem, c: &AchCollection) -> bool {
        use CollectionStatus::*;
        let days_after_settlement = (local_date(self.now) - c.effective_date).num_days();
        item.kind == kind::RETURN
            && matches!(c.status, Submitted | Processing | Completed)
            && days_after_settlement <= LATE_RETURN_LIMIT_DAYS
            && c.entry_type != AchEntryType::Prenote
            && c.schedule.is_none()
            && !(BLOCKING_RETURN_CODES.contains(&item.code.as_str())
                && c.payment_method_id.is_some())
    }

    /// `c` moved to `returned` by `item`, in memory.
    fn returned(
        &self,
        index: usize,
        item: &InboundItem,
        mut c: AchCollection,
    ) -> Result<Ordinary, IngestError> {
        let before = c.status;
        c.return_code = Some(item.code.clone());
        c.return_trace = Some(item.entry_trace.clone());
        c.transition(
            CollectionStatus::Returned,
            Some(apply::return_reason(&item.code)),
            self.now,
        )
        .map_err(|e| StoreError::Corrupt(format!("collection {}: {e}", c.id)))?;
        Ok(Ordinary {
            index,
            before,
            collection: c,
        })
    }

    /// Write the ordinary returns: status updates (only where the row is
    /// still in the status read), ledger reversals and return fees, events.
    /// Returns the indices of the entries whose collection had moved meanwhile.
    async fn apply_ordinary(
        &self,
        tx: &mut Tx,
        ordinary: Vec<Ordinary>,
        entries: &mut [IngestedEntry],
        report: &mut IngestReport,
    ) -> Result<Vec<usize>, IngestError> {
        use CollectionStatus::*;
        let mut written = HashSet::new();
        for before in [Submitted, Processing, Completed] {
            let group: Vec<AchCollection> = ordinary
                .iter()
                .filter(|o| o.before == before)
                .map(|o| o.collection.clone())
                .collect();
            if !group.is_empty() {
                written.extend(tx.update_ach_collections_if(&group, before).await?);
            }
        }
        let (done, moved): (Vec<Ordinary>, Vec<Ordinary>) = ordinary
            .into_iter()
            .partition(|o| written.contains(o.collection.id.as_str()));
        let returned: Vec<AchCollection> = done.iter().map(|o| o.collection.clone()).collect();
        crate::ledger::post_returned(tx, &returned, self.now).await?;
        let events: Vec<_> = returned
            .iter()
            .map(|c| status_event_row(c, self.now))
            .collect();
        tx.insert_events(&events).await?;
        for o in &done {
            report.collections_changed += 1;
            entries[o.index].outcome.push("collection returned".into());
        }
        Ok(moved.into_iter().map(|o| o.index).collect())
    }
}

/// Record the chunk's entries; the ids inserted (the others were recorded
/// before). Returns travel in one statement; NOCs, with their sealed
/// corrected data, one by one. Within the chunk the first of two equal
/// entries wins.
async fn record(tx: &mut Tx, records: &[AchReturn]) -> Result<HashSet<String>, StoreError> {
    let mut seen = HashSet::with_capacity(records.len());
    let mut plain = Vec::with_capacity(records.len());
    let mut inserted = HashSet::with_capacity(records.len());
    for r in records {
        let key = (&r.kind, &r.original_trace, &r.entry_trace, &r.code);
        if !seen.insert(key) {
            continue;
        }
        if r.corrected_data_sealed.is_some() {
            if tx.insert_ach_return(r).await? {
                inserted.insert(r.id.to_string());
            }
        } else {
            plain.push(r.clone());
        }
    }
    inserted.extend(tx.insert_ach_returns(&plain).await?);
    Ok(inserted)
}
