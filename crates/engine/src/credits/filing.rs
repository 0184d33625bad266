//! Filing the pending credit entries at a cutoff, in the cutoff's
//! transaction, after its debit files.
//!
//! Credits go in **files of their own** (`ach_files.contents = 'credits'`)
//! rather than in the debit files: the debit files' packing, offsets and
//! crash rebuild stay as they were, and a reversing file is by NACHA's
//! definition a file of only the reversing entries. Each cutoff writes, per
//! ODFI, one credit file for the refunds and single reversals, and one
//! reversing file per reversed file (`POST /v1/ach/files/{id}/reversal`).
//! They take the next free File ID Modifiers of the day and their traces
//! from the ODFI's trace counter, like the debit files. For a balanced
//! ODFI every batch ends with an offset debit to the settlement account
//! (service class 200), or the offsets go in a companion file of debits
//! (`credit_offsets`) when the ODFI wants debits and credits apart.
//!
//! Effective date: the cutoff's day for a same-day window, else the next
//! banking day. A reversal moves its collection to `reversed` (ledger
//! undone, `collection.reversed`); one whose collection was returned (or
//! failed) meanwhile is `cancelled` instead. A refund of a collection
//! returned before the refund was filed is `cancelled` and its posting
//! given back (the payer already has the money back through the return).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use inflow_core::calendar::{Cutoff, CutoffKind};
use inflow_core::collection::{AchCollection, CollectionStatus};
use inflow_core::crypto::Vault;
use inflow_core::ids::LedgerTransactionId;
use inflow_core::money::Currency;
use inflow_store::repo::ach_credits::{contents, AchCreditEntry, KIND_REFUND};
use inflow_store::repo::ach_files::{AchFile, OUTBOUND, STATUS_CREATED};
use inflow_store::repo::ledger::{kind, Direction, LedgerAccount, NewEntry, NewLedgerTransaction};
use inflow_store::{StoreError, Tx};

use super::build::{batches, build_credit_file, CreditKey, CreditLine};
use super::{credit_event_row, move_to, status};
use crate::config::AchConfig;
use crate::cutoff::{
    trace_counter_name, FileSummary, OdfiScope, FILE_ID_MODIFIERS, MAX_TRACE_SEQUENCE,
};
use crate::files::{
    file_name_from_pattern, offset_context, AchError, FileHeaderInfo, OffsetEntry, OffsetInfo,
    DEFAULT_FILE_NAME_PATTERN,
};

/// At most this many credit entries are filed per cutoff and ODFI group;
/// the rest wait for the next cutoff.
const MAX_CREDITS_PER_FILE: usize = 10_000;

/// A file the credits filing made, with its bytes.
pub(crate) type MadeFile = (FileSummary, AchFile, Vec<u8>);

/// File every pending credit entry (module documentation).
pub(crate) async fn file_credits(
    tx: &mut Tx,
    vault: &Vault,
    cfg: &AchConfig,
    cutoff: &Cutoff,
    scope: &OdfiScope,
    now: DateTime<Utc>,
) -> Result<Vec<MadeFile>, AchError> {
    let pending = tx.ach_credit_entries_in(status::PENDING, 100_000).await?;
    if pending.is_empty() {
        return Ok(Vec::new());
    }
    let mut ids: Vec<_> = pending.iter().map(|e| e.collection_id.clone()).collect();
    ids.sort_unstable_by(|a, b| a.as_str().cmp(b.as_str()));
    ids.dedup();
    let collections: HashMap<String, AchCollection> = tx
        .load_ach_collections(&ids)
        .await?
        .into_iter()
        .map(|c| (c.id.to_string(), c))
        .collect();
    let mut lines: Vec<CreditLine> = Vec::new();
    for e in pending {
        let Some(c) = collections.get(e.collection_id.as_str()) else {
            continue;
        };
        match still_fileable(tx, e, c, now).await? {
            Some(line) => lines.push(line),
            None => continue,
        }
    }
    if lines.is_empty() {
        return Ok(Vec::new());
    }
    let uniq: Vec<AchCollection> = {
        let mut seen = std::collections::HashSet::new();
        lines
            .iter()
            .filter(|(_, c)| seen.insert(c.id.to_string()))
            .map(|(_, c)| c.clone())
            .collect()
    };
    let mut made = Vec::new();
    for (odfi_cfg, odfi_id, part) in crate::cutoff::split_by_odfi(tx, cfg, uniq, scope).await? {
        let mine: std::collections::HashSet<String> =
            part.iter().map(|c| c.id.to_string()).collect();
        let group_lines: Vec<CreditLine> = lines
            .iter()
            .filter(|(_, c)| mine.contains(c.id.as_str()))
            .cloned()
            .collect();
        // One file for refunds and single reversals, one per reversed file.
        let mut groups: BTreeMap<Option<String>, Vec<CreditLine>> = BTreeMap::new();
        for l in group_lines {
            groups
                .entry(l.0.reversal_of_file_id.clone())
                .or_default()
                .push(l);
        }
        for (_, group) in groups {
            let files = file_group(tx, vault, &odfi_cfg, cutoff, group, now).await?;
            for f in files {
                if let Some(id) = &odfi_id {
                    tx.set_ach_file_odfi(&f.1.id, id).await?;
                }
                made.push(f);
            }
        }
    }
    Ok(made)
}

/// `e` with its collection if it may still be filed; otherwise it is
/// cancelled here (with its event, and its refund posting given back).
async fn still_fileable(
    tx: &mut Tx,
    mut e: AchCreditEntry,
    c: &AchCollection,
    now: DateTime<Utc>,
) -> Result<Option<CreditLine>, AchError> {
    use CollectionStatus::*;
    let ok = if e.kind == KIND_REFUND {
        !matches!(c.status, Returned | Failed | Cancelled)
    } else {
        matches!(c.status, Submitted | Processing | Completed)
    };
    if ok {
        return Ok(Some((e, c.clone())));
    }
    if e.kind != KIND_REFUND && matches!(c.status, Batched) {
        // The original's file is not at the bank yet: wait for it.
        return Ok(None);
    }
    let why = format!(
        "the collection was {} before the {} was filed",
        c.status, e.kind
    );
    move_to(&mut e, status::CANCELLED, Some(why), now);
    if tx.update_ach_credit_entry_if(&e, status::PENDING).await? {
        if e.kind == KIND_REFUND {
            post_refund_back(tx, &e, "ach_refund_cancelled", now).await?;
        }
        tx.insert_events(&[credit_event_row(&e, c, now)]).await?;
    }
    Ok(None)
}

/// Give a refund's posting back: Dr ACH clearing, Cr destination available.
pub(crate) async fn post_refund_back(
    tx: &mut Tx,
    e: &AchCreditEntry,
    kind_name: &'static str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let cur = e.amount.currency();
    let amount = e.amount.minor();
    crate::ledger::post(
        tx,
        &[NewLedgerTransaction {
            id: LedgerTransactionId::generate(now),
            kind: kind_name,
            reference: e.id.clone(),
            collection_id: None,
            account_id: Some(e.destination_account_id.clone()),
            currency: cur,
            posted_on: inflow_core::calendar::local_date(now),
            gross_amount: amount,
            created_at: now,
            entries: vec![
                NewEntry {
                    account: LedgerAccount::operator(kind::ACH_CLEARING, cur),
                    direction: Direction::Debit,
                    amount,
                },
                NewEntry {
                    account: LedgerAccount::available(&e.destination_account_id, cur),
                    direction: Direction::Credit,
                    amount,
                },
            ],
        }],
    )
    .await
}

/// `ach_credit_offset` per offset debit of a credit file: the ODFI debits
/// the operator's settlement account to fund the credits (Dr ACH clearing,
/// Cr ACH settlement).
async fn post_credit_offsets(
    tx: &mut Tx,
    offsets: &[OffsetEntry],
    currency: Currency,
    posted_on: chrono::NaiveDate,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let postings: Vec<NewLedgerTransaction> = offsets
        .iter()
        .filter(|o| o.amount > 0)
        .map(|o| NewLedgerTransaction {
            id: LedgerTransactionId::generate(now),
            kind: "ach_credit_offset",
            reference: o.trace_number.clone(),
            collection_id: None,
            account_id: None,
            currency,
            posted_on,
            gross_amount: o.amount,
            created_at: now,
            entries: vec![
                NewEntry {
                    account: LedgerAccount::operator(kind::ACH_CLEARING, currency),
                    direction: Direction::Debit,
                    amount: o.amount,
                },
                NewEntry {
                    account: LedgerAccount::operator(kind::ACH_SETTLEMENT, currency),
                    direction: Direction::Credit,
                    amount: o.amount,
                },
            ],
        })
        .collect();
    crate::ledger::post(tx, &postings).await
}

/// The next free File ID Modifiers of the cutoff's day (at most `n`).
async fn free_modifiers(
    tx: &mut Tx,
    cfg: &AchConfig,
    cutoff: &Cutoff,
    n: usize,
) -> Result<Vec<char>, AchError> {
    let used = tx.used_file_id_modifiers(OUTBOUND, cutoff.date).await?;
    Ok(cfg
        .file_rules
        .file_id_modifiers
        .as_deref()
        .unwrap_or(FILE_ID_MODIFIERS)
        .chars()
        .filter(|m| !used.iter().any(|u| u.eq_ignore_ascii_case(&m.to_string())))
        .take(n)
        .collect())
}

fn new_file(
    id: String,
    name: String,
    modifier: char,
    cutoff: &Cutoff,
    summary: String,
    now: DateTime<Utc>,
) -> AchFile {
    AchFile {
        id,
        direction: OUTBOUND.to_owned(),
        status: STATUS_CREATED.to_owned(),
        file_name: name,
        creation_date: cutoff.date,
        file_id_modifier: Some(modifier.to_string()),
        cutoff_at: Some(cutoff.at),
        batch_count: 0,
        entry_count: 0,
        total_debit: 0,
        total_credit: 0,
        sha256: None,
        summary: Some(summary),
        created_at: now,
        written_at: None,
    }
}

/// File one group of credit lines (one file, and its companion of offsets).
async fn file_group(
    tx: &mut Tx,
    vault: &Vault,
    cfg: &AchConfig,
    cutoff: &Cutoff,
    mut lines: Vec<CreditLine>,
    now: DateTime<Utc>,
) -> Result<Vec<MadeFile>, AchError> {
    let effective = match cutoff.kind {
        CutoffKind::SameDay { .. } => cutoff.date,
        CutoffKind::Standard => cfg.calendar.next_banking_day(cutoff.date),
    };
    for (e, _) in lines.iter_mut() {
        e.effective_date = Some(effective);
    }
    lines.sort_by(|a, b| {
        CreditKey::of(a)
            .cmp(&CreditKey::of(b))
            .then_with(|| a.0.id.cmp(&b.0.id))
    });
    lines.truncate(MAX_CREDITS_PER_FILE);
    let rules = &cfg.file_rules;
    let separate = rules.offset.is_some() && rules.separate_debits_and_credits;
    let modifiers = free_modifiers(tx, cfg, cutoff, if separate { 2 } else { 1 }).await?;
    if modifiers.len() < if separate { 2 } else { 1 } {
        tracing::error!(date = %cutoff.date, credits = lines.len(), "no File ID Modifier left today for the credit file; its entries wait for the next cutoff");
        return Ok(Vec::new());
    }
    let n_batches = if rules.offset.is_some() {
        batches(&lines).len()
    } else {
        0
    };
    let first_trace = tx
        .reserve_counter(
            &trace_counter_name(cfg),
            (lines.len() + n_batches) as i64,
            MAX_TRACE_SEQUENCE,
        )
        .await?;
    let odfi8 = cfg.odfi_routing.as_string()[..8].to_owned();
    let reason = |name: &str| {
        format!(
            "in file {name} ({} of {})",
            match cutoff.kind {
                CutoffKind::SameDay { window } => format!("same-day window {}", window + 1),
                CutoffKind::Standard => "standard cutoff".to_owned(),
            },
            cutoff.date
        )
    };
    let pattern = rules
        .file_name_pattern
        .clone()
        .unwrap_or_else(|| DEFAULT_FILE_NAME_PATTERN.to_owned());
    let file_id = AchFile::new_id(now);
    let file_name = file_name_from_pattern(&pattern, cutoff.date, modifiers[0], "credits");
    for (i, (e, _)) in lines.iter_mut().enumerate() {
        e.trace_number = Some(format!("{odfi8}{:07}", first_trace + i as i64));
        e.file_id = Some(file_id.clone());
        move_to(e, status::BATCHED, Some(reason(&file_name)), now);
    }
    let mut info = FileHeaderInfo::from_config(cfg, cutoff);
    info.offset = rules.offset.as_ref().map(|o| OffsetInfo {
        routing: o.routing.as_string(),
        account_sealed: hex::encode(vault.seal(
            o.account_number.expose().as_bytes(),
            &offset_context(&file_id),
        )),
        account_type: o.account_type,
        name: o.name.clone(),
        first_trace: first_trace + lines.len() as i64,
        in_file: !separate,
    });
    let summary = serde_json::to_string(&info).map_err(|e| AchError::Build {
        file_id: file_id.clone(),
        reason: e.to_string(),
    })?;
    let mut file = new_file(
        file_id.clone(),
        file_name,
        modifiers[0],
        cutoff,
        summary,
        now,
    );
    let built = build_credit_file(vault, &file, &lines, false)?;
    file.batch_count = built.batch_count;
    file.entry_count = built.entry_count;
    file.total_credit = built.total_credit;
    file.total_debit = built.total_debit;
    let mut offsets = built.offsets;
    let mut out_files = vec![(file, built.bytes, contents::CREDITS)];
    if separate {
        let mut cinfo = info.clone();
        cinfo.offsets_of = Some(file_id.clone());
        let cid = AchFile::new_id(now);
        let cname = file_name_from_pattern(&pattern, cutoff.date, modifiers[1], "debits");
        let csummary = serde_json::to_string(&cinfo).map_err(|e| AchError::Build {
            file_id: cid.clone(),
            reason: e.to_string(),
        })?;
        let mut companion = new_file(cid, cname, modifiers[1], cutoff, csummary, now);
        let cb = build_credit_file(vault, &companion, &lines, true)?;
        companion.batch_count = cb.batch_count;
        companion.entry_count = cb.entry_count;
        companion.total_debit = cb.total_debit;
        offsets = cb.offsets;
        out_files.push((companion, cb.bytes, contents::CREDIT_OFFSETS));
    }

    // Commit: the files, the entries (still pending: another run may have
    // taken some — the job lock makes that a belt-and-braces check), the
    // reversed collections, the postings and the events.
    for (f, _, what) in &out_files {
        tx.insert_ach_file(f).await?;
        tx.set_ach_file_contents(&f.id, what).await?;
    }
    let mut events = Vec::new();
    for (e, c) in &lines {
        if !tx.update_ach_credit_entry_if(e, status::PENDING).await? {
            return Err(AchError::Build {
                file_id: file_id.clone(),
                reason: format!("credit entry {} was taken by another run", e.id),
            });
        }
        if e.kind != KIND_REFUND {
            events.extend(reverse_collection(tx, e, c.clone(), now).await?);
        }
        events.push(credit_event_row(e, c, now));
    }
    if let Some((_, c)) = lines.first() {
        post_credit_offsets(tx, &offsets, c.amount.currency(), cutoff.date, now).await?;
    }
    tx.insert_events(&events).await?;
    let traces: Vec<String> = lines
        .iter()
        .filter_map(|(e, _)| e.trace_number.clone())
        .collect();
    Ok(out_files
        .into_iter()
        .enumerate()
        .map(|(i, (f, bytes, _))| {
            tracing::info!(file_id = %f.id, file_name = %f.file_name, entries = f.entry_count, "outbound ACH credit file created");
            (
                FileSummary {
                    file_id: f.id.clone(),
                    file_name: f.file_name.clone(),
                    cutoff_at: cutoff.at,
                    cutoff_kind: cutoff.kind,
                    batch_count: f.batch_count,
                    entry_count: f.entry_count,
                    total_debit: f.total_debit,
                    total_credit: f.total_credit,
                    collection_ids: Vec::new(),
                    trace_numbers: if i == 0 { traces.clone() } else { Vec::new() },
                },
                f,
                bytes,
            )
        })
        .collect())
}

/// Move the collection of reversal `e` to `reversed` (ledger undone) and
/// return its event; a status change by another worker since `c` was read
/// (settlement) is read again.
async fn reverse_collection(
    tx: &mut Tx,
    e: &AchCreditEntry,
    mut c: AchCollection,
    now: DateTime<Utc>,
) -> Result<Option<inflow_store::repo::events::Event>, AchError> {
    for _ in 0..3 {
        let before = c.status;
        let reason = format!(
            "reversed by entry {} ({})",
            e.trace_number.as_deref().unwrap_or_default(),
            e.reason.as_deref().unwrap_or("erroneous entry")
        );
        if c.transition(CollectionStatus::Reversed, Some(reason), now)
            .is_err()
        {
            tracing::warn!(collection_id = %c.id, status = %before, "collection no longer reversible; reversing entry filed anyway");
            return Ok(None);
        }
        if tx.update_ach_collection_if(&c, before).await? {
            crate::ledger::on_status_change(tx, before, &c, now).await?;
            return Ok(Some(crate::events::status_event_row(&c, now)));
        }
        c = tx.get_ach_collection(None, &e.collection_id).await?;
    }
    Ok(None)
}
