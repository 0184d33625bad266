//! Building an outbound file's bytes from its rows: the file header from
//! the row's recorded [`FileHeaderInfo`], the batches as the cutoff planned
//! them, each entry from its collection, and — for balanced files and their
//! companion files of credits — the offset entry of each batch, crediting
//! the operator's settlement account with the batch's debits.

use std::sync::Arc;

use chrono::{Datelike, NaiveDate, Timelike};
use inflow_core::bank::AccountType;
use inflow_core::calendar::EASTERN;
use inflow_core::collection::{AchCollection, AchEntryType, PaymentType, SecCode};
use inflow_core::crypto::Vault;
use inflow_store::repo::ach_files::AchFile;

use super::{
    entry_addenda, file_batches, individual_id, nacha_text, offsets_mode, plan_entry, AchError,
    BatchKey, FileHeaderInfo, OffsetEntry,
};

pub(crate) fn nacha_date(d: NaiveDate) -> nacha::Date {
    nacha::Date::new(d.year() as u16, d.month() as u8, d.day() as u8)
}

fn nacha_sec(s: SecCode) -> nacha::SecCode {
    match s {
        SecCode::Ppd => nacha::SecCode::Ppd,
        SecCode::Ccd => nacha::SecCode::Ccd,
        SecCode::Web => nacha::SecCode::Web,
        SecCode::Tel => nacha::SecCode::Tel,
    }
}

fn transaction_code(c: &AchCollection) -> nacha::TransactionCode {
    use nacha::TransactionCode as T;
    match (c.entry_type, c.account_type) {
        (AchEntryType::Debit, AccountType::Checking) => T::CHECKING_DEBIT,
        (AchEntryType::Debit, AccountType::Savings) => T::SAVINGS_DEBIT,
        (AchEntryType::Prenote, AccountType::Checking) => T::CHECKING_DEBIT_PRENOTE,
        (AchEntryType::Prenote, AccountType::Savings) => T::SAVINGS_DEBIT_PRENOTE,
    }
}

/// The amount written in the entry: 0 for a prenote.
pub(crate) fn entry_amount(c: &AchCollection) -> i64 {
    match c.entry_type {
        AchEntryType::Debit => c.amount.minor(),
        AchEntryType::Prenote => 0,
    }
}

/// Build the NACHA bytes of outbound file `file` from its collections
/// (any order; they are written in trace-number order), decrypting
/// account numbers with `vault`. Checked in strict mode.
pub fn build_file_bytes(
    vault: &Vault,
    file: &AchFile,
    collections: &[AchCollection],
) -> Result<Vec<u8>, AchError> {
    build_file(vault, file, collections).map(|b| b.bytes)
}

/// A file's bytes and what the cutoff records of it.
pub(crate) struct FileBytes {
    pub bytes: Vec<u8>,
    pub batch_count: i64,
    /// The offset entries written (balanced files and companion files).
    pub offsets: Vec<OffsetEntry>,
}

/// What an entry of a file needs of its collection, ready for the builder:
/// the account number opened, the name, id and addenda cut to their
/// fields. The cutoff keeps these (not whole collections) for a file it
/// builds.
pub(crate) struct FileEntry {
    pub key: Arc<BatchKey>,
    pub trace: nacha::TraceNumber,
    code: nacha::TransactionCode,
    rdfi: nacha::RoutingNumber,
    sec: SecCode,
    payment_type: Option<PaymentType>,
    /// The amount written (0 for a prenote).
    pub amount: i64,
    account: String,
    name: String,
    id: String,
    addenda: Option<String>,
}

impl FileEntry {
    /// The entry of `c` (numbered) in file `file_id`, in batch `key`.
    pub(crate) fn of(
        vault: &Vault,
        file_id: &str,
        c: &AchCollection,
        key: Arc<BatchKey>,
    ) -> Result<Self, AchError> {
        let fail = |reason: String| AchError::Build {
            file_id: file_id.to_owned(),
            reason,
        };
        let account = open_account_number(vault, c)?;
        let trace = c
            .trace_number
            .as_deref()
            .and_then(|t| t.parse::<u64>().ok())
            .and_then(nacha::TraceNumber::from_u64)
            .ok_or_else(|| fail(format!("collection {} has no valid trace number", c.id)))?;
        let mut name = nacha_text(&c.holder_name, 22);
        if name.is_empty() {
            name = "RECEIVER".into();
        }
        Ok(FileEntry {
            key,
            trace,
            code: transaction_code(c),
            rdfi: nacha::RoutingNumber::parse(&c.routing_number.as_string())
                .map_err(|e| fail(e.to_string()))?,
            sec: c.sec_code,
            payment_type: c.payment_type,
            amount: entry_amount(c),
            account,
            name,
            id: individual_id(c),
            addenda: entry_addenda(c),
        })
    }
}

/// [`build_file_bytes`], with the number of batches and the offsets.
pub(crate) fn build_file(
    vault: &Vault,
    file: &AchFile,
    collections: &[AchCollection],
) -> Result<FileBytes, AchError> {
    let mut sorted: Vec<&AchCollection> = collections.iter().collect();
    sorted.sort_by(|a, b| a.trace_number.cmp(&b.trace_number));
    let entries = sorted
        .into_iter()
        .map(|c| FileEntry::of(vault, &file.id, c, Arc::new(BatchKey::of(c))))
        .collect::<Result<Vec<_>, _>>()?;
    build_entries(vault, file, &entries)
}

/// Build file `file` from its entries, in trace-number order.
pub(crate) fn build_entries(
    vault: &Vault,
    file: &AchFile,
    prepared: &[FileEntry],
) -> Result<FileBytes, AchError> {
    let fail = |reason: String| AchError::Build {
        file_id: file.id.clone(),
        reason,
    };
    let header = FileHeader::of(file)?;
    let (info, odfi) = (&header.info, header.odfi);

    let mut file_builder = Some(nacha::FileBuilder::new(header.spec()));

    // The batches: consecutive collections of one key, split where a
    // control field would overflow — the cutoff's own split, since traces
    // were allocated in its order (see `nacha::plan`).
    let entries = prepared.iter().map(|p| {
        let amount = u64::try_from(p.amount).unwrap_or(u64::MAX);
        (&*p.key, plan_entry(amount, p.addenda.is_some()))
    });
    let mode = offsets_mode(info);
    let batches = file_batches(entries, mode).map_err(fail)?;
    let offset = offset_parts(vault, file, info, OffsetSide::Credit).map_err(fail)?;
    let credits_only = info.offsets_of.is_some();
    let mut offsets = Vec::new();
    let mut batch_count = 0i64;
    let mut batch: Option<nacha::BatchBuilder> = None;
    let mut open_batch = |spec: nacha::BatchSpec<'_>,
                          batch: &mut Option<nacha::BatchBuilder>|
     -> Result<nacha::BatchBuilder, AchError> {
        batch_count += 1;
        match (batch.take(), file_builder.take()) {
            (Some(prev), _) => Ok(prev.batch(spec)),
            (None, Some(fb)) => Ok(fb.batch(spec)),
            (None, None) => Err(fail("builder lost".into())),
        }
    };
    for (j, members) in batches.iter().enumerate() {
        let first = members[0];
        let key = &*prepared[first].key;
        let sec = nacha_sec(prepared[first].sec);
        let company_id = info.company_id.as_deref().unwrap_or(&key.company_id);
        let total: i64 = members.iter().map(|&i| prepared[i].amount).sum();
        // The offset of this batch, if it has one (a batch of prenotes
        // moves no money and gets none).
        let this_offset = match &offset {
            Some(o) if total > 0 && (credits_only || mode == nacha::plan::Offsets::InBatch) => {
                let trace = o
                    .trace(j)
                    .ok_or_else(|| fail("offset trace out of range".into()))?;
                offsets.push(OffsetEntry {
                    trace_number: format!("{:015}", trace.value()),
                    amount: total,
                });
                Some((o, trace))
            }
            _ => None,
        };
        if credits_only && this_offset.is_none() {
            continue;
        }
        // NACHA allows only debits in TEL batches: a TEL batch's offset
        // goes in a CCD credit batch of its own right after it.
        let own_offset_batch = credits_only || sec == nacha::SecCode::Tel;
        let class = match (credits_only, &this_offset) {
            (true, _) => nacha::ServiceClass::CreditsOnly,
            (false, Some(_)) if !own_offset_batch => nacha::ServiceClass::Mixed,
            _ => nacha::ServiceClass::DebitsOnly,
        };
        let offset_sec = if sec == nacha::SecCode::Tel {
            nacha::SecCode::Ccd
        } else {
            sec
        };
        let mut b = None;
        if !credits_only {
            let spec = nacha::BatchSpec::new(
                class,
                sec,
                &key.company_name,
                company_id,
                &key.description,
                nacha_date(key.effective_date),
                odfi,
            );
            let mut bb = open_batch(spec, &mut batch)?;
            for &i in members {
                let p = &prepared[i];
                let amount = u64::try_from(p.amount).map_err(|_| fail("negative amount".into()))?;
                let mut e = nacha::EntrySpec::new(p.code, p.rdfi, &p.account, amount, &p.name)
                    .individual_id(&p.id)
                    .trace(p.trace);
                if p.sec.has_payment_type() {
                    e = e.payment_type(match p.payment_type {
                        Some(PaymentType::Recurring) => nacha::PaymentType::Recurring,
                        _ => nacha::PaymentType::Single,
                    });
                }
                if let Some(a) = p.addenda.as_deref() {
                    e = e.addenda(a);
                }
                bb = bb.entry(e);
            }
            b = Some(bb);
        }
        if let Some((o, trace)) = this_offset {
            let mut bb = match b.take() {
                Some(bb) if !own_offset_batch => bb,
                prev => {
                    batch = prev.or(batch);
                    let spec = nacha::BatchSpec::new(
                        nacha::ServiceClass::CreditsOnly,
                        offset_sec,
                        &key.company_name,
                        company_id,
                        &key.description,
                        nacha_date(key.effective_date),
                        odfi,
                    );
                    open_batch(spec, &mut batch)?
                }
            };
            let amount = u64::try_from(total).map_err(|_| fail("negative amount".into()))?;
            let mut e = nacha::EntrySpec::new(o.code, o.routing, &o.account, amount, &o.name)
                .individual_id("OFFSET")
                .trace(trace);
            if matches!(offset_sec, nacha::SecCode::Web | nacha::SecCode::Tel) {
                e = e.payment_type(nacha::PaymentType::Single);
            }
            bb = bb.entry(e);
            b = Some(bb);
        }
        if let Some(bb) = b {
            batch = Some(bb);
        }
    }
    let built = match (batch, file_builder) {
        (Some(b), _) => b.build(),
        (None, Some(fb)) => fb.build(),
        (None, None) => return Err(fail("builder lost".into())),
    }
    .map_err(|e| fail(e.to_string()))?;
    let bytes = built.to_checked_bytes().map_err(|errs| {
        fail(
            errs.iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; "),
        )
    })?;
    Ok(FileBytes {
        bytes,
        batch_count,
        offsets,
    })
}

/// An offset's entry fields, the account number opened.
/// A file row's header as it goes in the file: the recorded
/// [`FileHeaderInfo`] and the values parsed and cut to their fields.
pub(crate) struct FileHeader {
    pub info: FileHeaderInfo,
    pub destination: nacha::RoutingNumber,
    pub odfi: nacha::RoutingNumber,
    modifier: char,
    creation_date: NaiveDate,
    creation_time: (u8, u8),
    destination_name: String,
    origin_name: String,
    reference_code: String,
}

impl FileHeader {
    /// The header of outbound file `file` (debit, credit or companion).
    pub(crate) fn of(file: &AchFile) -> Result<Self, AchError> {
        let fail = |reason: String| AchError::Build {
            file_id: file.id.clone(),
            reason,
        };
        let info: FileHeaderInfo = serde_json::from_str(file.summary.as_deref().unwrap_or(""))
            .map_err(|e| fail(format!("the file row's summary is not readable: {e}")))?;
        let routing = |s: &str| nacha::RoutingNumber::parse(s).map_err(|e| fail(e.to_string()));
        let modifier = file
            .file_id_modifier
            .as_deref()
            .and_then(|m| m.chars().next())
            .ok_or_else(|| fail("no File ID Modifier".into()))?;
        let created_local = file
            .cutoff_at
            .unwrap_or(file.created_at)
            .with_timezone(&EASTERN);
        Ok(Self {
            destination: routing(&info.immediate_destination)?,
            odfi: routing(&info.odfi_routing)?,
            modifier,
            creation_date: file.creation_date,
            creation_time: (created_local.hour() as u8, created_local.minute() as u8),
            destination_name: nacha_text(&info.immediate_destination_name, 23),
            origin_name: nacha_text(&info.immediate_origin_name, 23),
            reference_code: nacha_text(&info.reference_code, 8),
            info,
        })
    }

    /// The file header record's values.
    pub(crate) fn spec(&self) -> nacha::FileHeaderSpec<'_> {
        let mut spec = nacha::FileHeaderSpec::new(
            self.destination,
            &self.info.immediate_origin,
            &self.destination_name,
            &self.origin_name,
            nacha_date(self.creation_date),
            self.modifier,
        );
        spec.creation_time = Some(self.creation_time);
        spec.reference_code = &self.reference_code;
        spec
    }
}

/// The receiver's account number of `c`, unsealed for its entry.
pub(crate) fn open_account_number(vault: &Vault, c: &AchCollection) -> Result<String, AchError> {
    let plain = vault
        .open(&c.account_number_sealed, c.id.as_str())
        .map_err(|e| AchError::Decrypt {
            collection_id: c.id.to_string(),
            reason: e.to_string(),
        })?;
    String::from_utf8(plain).map_err(|_| AchError::Decrypt {
        collection_id: c.id.to_string(),
        reason: "not UTF-8".into(),
    })
}

/// Which way an offset entry moves money: a credit to the settlement
/// account offsets debit batches, a debit offsets credit batches.
#[derive(Clone, Copy)]
pub(crate) enum OffsetSide {
    Credit,
    Debit,
}

/// A file's offset entry values (balanced ODFIs).
pub(crate) struct OffsetParts {
    pub code: nacha::TransactionCode,
    pub routing: nacha::RoutingNumber,
    pub account: String,
    pub name: String,
    odfi8: u64,
    first_trace: i64,
    /// Whether the offsets go in this file (else in a companion file).
    pub in_file: bool,
}

impl OffsetParts {
    /// The trace of batch `j`'s offset.
    pub(crate) fn trace(&self, j: usize) -> Option<nacha::TraceNumber> {
        // The cutoff reserved the offsets' traces with the entries' in one
        // block, which never straddles the counter's wrap.
        let seq = self.first_trace.checked_add(j as i64)?;
        nacha::TraceNumber::from_u64(self.odfi8 * 10_000_000 + u64::try_from(seq).ok()?)
    }
}

/// The sealing context of the offset account of debit file `file_id`.
pub(crate) fn offset_context(file_id: &str) -> String {
    format!("ach_offset:{file_id}")
}

/// The offset entry values of `file`, if its ODFI wants balanced files.
pub(crate) fn offset_parts(
    vault: &Vault,
    file: &AchFile,
    info: &FileHeaderInfo,
    side: OffsetSide,
) -> Result<Option<OffsetParts>, String> {
    let Some(o) = &info.offset else {
        return Ok(None);
    };
    let sealed = hex::decode(&o.account_sealed).map_err(|e| format!("offset account: {e}"))?;
    let owner = info.offsets_of.as_deref().unwrap_or(&file.id);
    let account = vault
        .open(&sealed, &offset_context(owner))
        .ok()
        .and_then(|p| String::from_utf8(p).ok())
        .ok_or("the offset account number cannot be opened")?;
    let odfi8 = info
        .odfi_routing
        .get(..8)
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or("bad ODFI routing number")?;
    let mut name = nacha_text(&o.name, 22);
    if name.is_empty() {
        name = "SETTLEMENT".into();
    }
    Ok(Some(OffsetParts {
        code: match (side, o.account_type) {
            (OffsetSide::Credit, AccountType::Checking) => nacha::TransactionCode::CHECKING_CREDIT,
            (OffsetSide::Credit, AccountType::Savings) => nacha::TransactionCode::SAVINGS_CREDIT,
            (OffsetSide::Debit, AccountType::Checking) => nacha::TransactionCode::CHECKING_DEBIT,
            (OffsetSide::Debit, AccountType::Savings) => nacha::TransactionCode::SAVINGS_DEBIT,
        },
        routing: nacha::RoutingNumber::parse(&o.routing).map_err(|e| e.to_string())?,
        account,
        name,
        odfi8,
        first_trace: o.first_trace,
        in_file: o.in_file,
    }))
}
