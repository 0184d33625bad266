//! Filing one planned file of the cutoff: its collections are read back
//! and moved (those still `pending`) a few thousand at a time
//! ([`COMMIT_CHUNK`]) — status rows, ledger postings and events — keeping
//! of each only the [`FileEntry`] the file needs, so the rendered rows,
//! postings and event payloads of one chunk are dropped before the next is
//! read. Then the file is built and strictly validated from those entries
//! and its rows, the offsets' postings and the offset entries are
//! recorded. The caller runs this inside a savepoint: a file that fails to
//! build is undone and its entries checked one by one
//! ([`super::packing::pack`]).

use std::collections::HashSet;

use inflow_core::collection::{AchCollection, CollectionStatus};
use inflow_core::crypto::Vault;
use inflow_core::ids::CollectionId;
use inflow_store::repo::ach_files::AchFile;
use inflow_store::Tx;

use super::packing::{Built, Context, FilePlan, Keys, Member};
use super::spool::Spooled;
use super::FileSummary;
use crate::events::{collection_event_row, status_event_row};
use crate::files::{AchError, FileEntry, OffsetEntry};

/// How many collections move (status, postings, events) per step.
pub(super) const COMMIT_CHUNK: usize = 1_000;

/// What the chunks of one file moved.
#[derive(Default)]
struct Moved {
    /// The collections moved, in trace order, and their traces.
    ids: Vec<String>,
    traces: Vec<String>,
    entries: Vec<FileEntry>,
    currency: Option<inflow_core::money::Currency>,
}

/// A file made: its summary, its row and its bytes, spooled to a temporary
/// file (a companion file of offsets too, when the ODFI wants one).
pub(super) type Made = Vec<(FileSummary, AchFile, Spooled)>;

/// File `members` (in trace order) in `plan`'s file: move them, build the
/// file from the ones moved and record it. Nothing when another run took
/// every collection.
pub(super) async fn file(
    tx: &mut Tx,
    vault: &Vault,
    keys: &Keys,
    ctx: &Context,
    plan: &FilePlan,
    members: Vec<Member>,
) -> Result<Made, AchError> {
    let mut moved = Moved {
        ids: Vec::with_capacity(members.len()),
        traces: Vec::with_capacity(members.len()),
        entries: Vec::with_capacity(members.len()),
        currency: None,
    };
    for part in members.chunks(COMMIT_CHUNK) {
        move_chunk(tx, vault, keys, ctx, plan, part, &mut moved).await?;
    }
    drop(members);
    if moved.entries.is_empty() {
        return Ok(Vec::new());
    }
    let Built {
        file,
        bytes,
        offsets,
        companion,
    } = plan.build(vault, &moved.entries)?;
    drop(std::mem::take(&mut moved.entries));
    tx.insert_ach_file(&file).await?;
    if let Some((f, _)) = &companion {
        tx.insert_ach_file(f).await?;
    }
    if let Some(currency) = moved.currency {
        crate::ledger::post_offsets(tx, &offsets, currency, ctx.cutoff.date, ctx.now).await?;
    }
    record_offsets(tx, &file, companion.as_ref().map(|(f, _)| f), &offsets, ctx).await?;
    tracing::info!(file_id = %file.id, file_name = %file.file_name, entries = moved.ids.len(), "outbound ACH file created");
    let summary = FileSummary {
        file_id: file.id.clone(),
        file_name: file.file_name.clone(),
        cutoff_at: ctx.cutoff.at,
        cutoff_kind: ctx.cutoff.kind,
        batch_count: file.batch_count,
        entry_count: moved.ids.len() as i64,
        total_debit: file.total_debit,
        total_credit: file.total_credit,
        collection_ids: moved.ids,
        trace_numbers: moved.traces,
    };
    let spooled = Spooled::new(&file.id, &bytes)?;
    drop(bytes);
    let mut out = vec![(summary, file, spooled)];
    if let Some((f, b)) = companion {
        tracing::info!(file_id = %f.id, file_name = %f.file_name, offsets = offsets.len(), "outbound ACH file of offset credits created");
        let spooled = Spooled::new(&f.id, &b)?;
        out.push((companion_summary(&f, ctx), f, spooled));
    }
    Ok(out)
}

/// Read `part` back, number the collections still `pending` and move
/// them: status rows, ledger postings and events (`collection.updated`
/// first for an entry whose effective date was rolled). One that another
/// run took (or that changed meanwhile, say cancelled) is left out of the
/// file.
async fn move_chunk(
    tx: &mut Tx,
    vault: &Vault,
    keys: &Keys,
    ctx: &Context,
    plan: &FilePlan,
    part: &[Member],
    moved: &mut Moved,
) -> Result<(), AchError> {
    let ids: Vec<CollectionId> = part.iter().map(|m| m.id.clone()).collect();
    let (mut chunk, mut rolled) = (Vec::with_capacity(part.len()), HashSet::new());
    for (m, mut c) in part.iter().zip(tx.load_ach_collections(&ids).await?) {
        if c.status == CollectionStatus::Pending {
            if ctx.roll(&mut c) {
                rolled.insert(c.id.clone());
            }
            plan.number(&mut c, m.seq)?;
            chunk.push((m.key, c));
        } else {
            tracing::warn!(collection_id = %c.id, status = %c.status, "collection no longer pending; left out of this file");
        }
    }
    let (keyed, chunk): (Vec<u32>, Vec<AchCollection>) = chunk.into_iter().unzip();
    let written = tx
        .update_ach_collections_if(&chunk, CollectionStatus::Pending)
        .await?;
    let mut mine = Vec::with_capacity(chunk.len());
    for (key, c) in keyed.into_iter().zip(&chunk) {
        if !written.contains(c.id.as_str()) {
            // Another run moved it first (the job lock makes this a
            // belt-and-braces check).
            tracing::warn!(collection_id = %c.id, "collection taken by another cutoff; left out of this file");
            continue;
        }
        let entry = FileEntry::of(vault, plan.file_id(), c, keys.get(key).clone())?;
        moved.entries.push(entry);
        moved.currency.get_or_insert(c.amount.currency());
        moved.ids.push(c.id.to_string());
        moved.traces.extend(c.trace_number.clone());
        mine.push(c);
    }
    let postings: Vec<_> = mine
        .iter()
        .filter_map(|c| crate::ledger::submitted_posting(c, ctx.cutoff.date, ctx.now))
        .collect();
    crate::ledger::post(tx, &postings).await?;
    drop(postings);
    let mut events = Vec::with_capacity(mine.len());
    for c in mine {
        if rolled.contains(&c.id) {
            events.push(collection_event_row("collection.updated", c, ctx.now));
        }
        events.push(status_event_row(c, ctx.now));
    }
    tx.insert_events(&events).await?;
    Ok(())
}

/// Record the offsets by trace, so a return of an offset finds the file
/// that carried it (the companion file when there is one).
async fn record_offsets(
    tx: &mut Tx,
    file: &AchFile,
    companion: Option<&AchFile>,
    offsets: &[OffsetEntry],
    ctx: &Context,
) -> Result<(), AchError> {
    if offsets.is_empty() {
        return Ok(());
    }
    let carrier = companion.map_or(&file.id, |f| &f.id);
    let traces: Vec<(String, i64)> = offsets
        .iter()
        .map(|o| (o.trace_number.clone(), o.amount))
        .collect();
    tx.insert_ach_offset_entries(carrier, &traces, ctx.now)
        .await?;
    Ok(())
}

/// The summary of a companion file of offset credits.
fn companion_summary(f: &AchFile, ctx: &Context) -> FileSummary {
    FileSummary {
        file_id: f.id.clone(),
        file_name: f.file_name.clone(),
        cutoff_at: ctx.cutoff.at,
        cutoff_kind: ctx.cutoff.kind,
        batch_count: f.batch_count,
        entry_count: f.entry_count,
        total_debit: 0,
        total_credit: f.total_credit,
        collection_ids: Vec::new(),
        trace_numbers: Vec::new(),
    }
}
