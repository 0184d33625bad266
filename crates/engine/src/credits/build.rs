//! The bytes of a credit file (refunds and reversals) and of its companion
//! file of offset debits, rebuilt from rows like every outbound file: the
//! `ach_files` row (header values recorded in its `summary`), the credit
//! entries in trace order and the collections they credit back.
//!
//! Batches are the runs of entries with one key — SEC code, company name
//! and identification, entry description, effective date — in trace order
//! (the cutoff assigned traces in key order). Each batch is service class
//! 220 (credits only); for a balanced ODFI it is 200 and ends with an
//! offset **debit** to the operator's settlement account for the batch's
//! credits, or, when the ODFI wants debits and credits in separate files,
//! that debit is in a 225 CCD batch of the companion file.

use chrono::NaiveDate;
use inflow_core::bank::AccountType;
use inflow_core::collection::{AchCollection, PaymentType};
use inflow_core::crypto::Vault;
use inflow_store::repo::ach_credits::AchCreditEntry;
use inflow_store::repo::ach_files::AchFile;

use crate::files::{
    individual_id, nacha_date, nacha_text, offset_parts, open_account_number, AchError, FileHeader,
    OffsetEntry, OffsetSide,
};

fn nacha_sec(s: &str) -> Option<nacha::SecCode> {
    Some(match s {
        "PPD" => nacha::SecCode::Ppd,
        "CCD" => nacha::SecCode::Ccd,
        "WEB" => nacha::SecCode::Web,
        "TEL" => nacha::SecCode::Tel,
        _ => return None,
    })
}

/// A credit entry with the collection it credits back.
pub type CreditLine = (AchCreditEntry, AchCollection);

/// The batch key of a credit entry (company id before any ODFI override).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct CreditKey {
    pub sec_code: String,
    pub company_name: String,
    pub company_id: String,
    pub description: String,
    pub effective_date: Option<NaiveDate>,
}

impl CreditKey {
    pub(crate) fn of((e, c): &CreditLine) -> Self {
        CreditKey {
            sec_code: e.sec_code.clone(),
            company_name: nacha_text(&c.company_name, 16),
            company_id: nacha_text(&c.company_id, 10),
            description: nacha_text(&e.company_entry_description, 10),
            effective_date: e.effective_date,
        }
    }
}

/// A credit file's bytes and what the cutoff records of it.
pub(crate) struct CreditFileBytes {
    pub bytes: Vec<u8>,
    pub batch_count: i64,
    pub total_credit: i64,
    pub total_debit: i64,
    pub entry_count: i64,
    /// The offset debits written (here or, `offsets_only`, as this file).
    pub offsets: Vec<OffsetEntry>,
}

/// The batches of `lines` (sorted by trace): index runs of one key.
pub(crate) fn batches(lines: &[CreditLine]) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut last: Option<CreditKey> = None;
    for (i, l) in lines.iter().enumerate() {
        let k = CreditKey::of(l);
        match (&last, out.last_mut()) {
            (Some(prev), Some(run)) if *prev == k => run.push(i),
            _ => out.push(vec![i]),
        }
        last = Some(k);
    }
    out
}

enum Builder {
    File(nacha::FileBuilder),
    Batch(nacha::BatchBuilder),
}

impl Builder {
    fn batch(self, spec: nacha::BatchSpec<'_>) -> nacha::BatchBuilder {
        match self {
            Builder::File(f) => f.batch(spec),
            Builder::Batch(b) => b.batch(spec),
        }
    }
}

/// Build the bytes of credit file `file` from `lines` (any order), or —
/// `offsets_only` — of its companion file of offset debits (`file` is then
/// the companion's row, `lines` the credit file's entries).
pub(crate) fn build_credit_file(
    vault: &Vault,
    file: &AchFile,
    lines: &[CreditLine],
    offsets_only: bool,
) -> Result<CreditFileBytes, AchError> {
    let fail = |reason: String| AchError::Build {
        file_id: file.id.clone(),
        reason,
    };
    let header = FileHeader::of(file)?;
    let (info, odfi) = (&header.info, header.odfi);
    let routing = |s: &str| nacha::RoutingNumber::parse(s).map_err(|e| fail(e.to_string()));
    let mut sorted: Vec<&CreditLine> = lines.iter().collect();
    sorted.sort_by(|a, b| a.0.trace_number.cmp(&b.0.trace_number));
    let sorted: Vec<CreditLine> = sorted.into_iter().cloned().collect();

    struct Prepared {
        account: String,
        name: String,
        id: String,
        trace: nacha::TraceNumber,
    }
    let mut prepared = Vec::with_capacity(sorted.len());
    for (e, c) in &sorted {
        let account = open_account_number(vault, c)?;
        let trace = e
            .trace_number
            .as_deref()
            .and_then(|t| t.parse::<u64>().ok())
            .and_then(nacha::TraceNumber::from_u64)
            .ok_or_else(|| fail(format!("credit entry {} has no valid trace number", e.id)))?;
        let mut name = nacha_text(&c.holder_name, 22);
        if name.is_empty() {
            name = "RECEIVER".into();
        }
        prepared.push(Prepared {
            account,
            name,
            id: individual_id(c),
            trace,
        });
    }

    let mut builder = Some(Builder::File(nacha::FileBuilder::new(header.spec())));

    let offset = offset_parts(vault, file, info, OffsetSide::Debit).map_err(fail)?;
    let mut out = CreditFileBytes {
        bytes: Vec::new(),
        batch_count: 0,
        total_credit: 0,
        total_debit: 0,
        entry_count: 0,
        offsets: Vec::new(),
    };
    for (j, members) in batches(&sorted).iter().enumerate() {
        let key = CreditKey::of(&sorted[members[0]]);
        let sec = nacha_sec(&key.sec_code)
            .ok_or_else(|| fail(format!("unknown SEC code {}", key.sec_code)))?;
        let company_id = info.company_id.as_deref().unwrap_or(&key.company_id);
        let effective = key
            .effective_date
            .ok_or_else(|| fail("a credit entry has no effective date".into()))?;
        let total: i64 = members.iter().map(|&i| sorted[i].0.amount.minor()).sum();
        let total_u = u64::try_from(total).map_err(|_| fail("negative amount".into()))?;
        let this_offset = match &offset {
            Some(o) if offsets_only || o.in_file => {
                let trace = o
                    .trace(j)
                    .ok_or_else(|| fail("offset trace out of range".into()))?;
                out.offsets.push(OffsetEntry {
                    trace_number: format!("{:015}", trace.value()),
                    amount: total,
                });
                Some((o, trace))
            }
            _ => None,
        };
        if offsets_only {
            let Some((o, trace)) = this_offset else {
                continue;
            };
            let spec = nacha::BatchSpec::new(
                nacha::ServiceClass::DebitsOnly,
                nacha::SecCode::Ccd,
                &key.company_name,
                company_id,
                &key.description,
                nacha_date(effective),
                odfi,
            );
            let b = builder
                .take()
                .ok_or_else(|| fail("builder lost".into()))?
                .batch(spec);
            let e = nacha::EntrySpec::new(o.code, o.routing, &o.account, total_u, &o.name)
                .individual_id("OFFSET")
                .trace(trace);
            builder = Some(Builder::Batch(b.entry(e)));
            out.batch_count += 1;
            out.entry_count += 1;
            out.total_debit += total;
            continue;
        }
        let class = if this_offset.is_some() {
            nacha::ServiceClass::Mixed
        } else {
            nacha::ServiceClass::CreditsOnly
        };
        let spec = nacha::BatchSpec::new(
            class,
            sec,
            &key.company_name,
            company_id,
            &key.description,
            nacha_date(effective),
            odfi,
        );
        let mut b = builder
            .take()
            .ok_or_else(|| fail("builder lost".into()))?
            .batch(spec);
        out.batch_count += 1;
        for &i in members {
            let (e, c) = &sorted[i];
            let p = &prepared[i];
            let amount =
                u64::try_from(e.amount.minor()).map_err(|_| fail("negative amount".into()))?;
            let code = match c.account_type {
                AccountType::Checking => nacha::TransactionCode::CHECKING_CREDIT,
                AccountType::Savings => nacha::TransactionCode::SAVINGS_CREDIT,
            };
            let rdfi = routing(&c.routing_number.as_string())?;
            let mut spec = nacha::EntrySpec::new(code, rdfi, &p.account, amount, &p.name)
                .individual_id(&p.id)
                .trace(p.trace);
            if matches!(sec, nacha::SecCode::Web | nacha::SecCode::Tel) {
                spec = spec.payment_type(match c.payment_type {
                    Some(PaymentType::Recurring) => nacha::PaymentType::Recurring,
                    _ => nacha::PaymentType::Single,
                });
            }
            b = b.entry(spec);
            out.entry_count += 1;
            out.total_credit += e.amount.minor();
        }
        if let Some((o, trace)) = this_offset {
            let mut e = nacha::EntrySpec::new(o.code, o.routing, &o.account, total_u, &o.name)
                .individual_id("OFFSET")
                .trace(trace);
            if matches!(sec, nacha::SecCode::Web | nacha::SecCode::Tel) {
                e = e.payment_type(nacha::PaymentType::Single);
            }
            b = b.entry(e);
            out.entry_count += 1;
            out.total_debit += total;
        }
        builder = Some(Builder::Batch(b));
    }
    let built = match builder {
        Some(Builder::Batch(b)) => b.build(),
        Some(Builder::File(f)) => f.build(),
        None => return Err(fail("builder lost".into())),
    }
    .map_err(|e| fail(e.to_string()))?;
    out.bytes = built.to_checked_bytes().map_err(|errs| {
        fail(
            errs.iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; "),
        )
    })?;
    Ok(out)
}
