//! The sandbox bank: answers the NACHA files Inflow writes the way a real
//! bank would, with return and notification-of-change (NOC) files, for
//! **magic account numbers**. Every other account is accepted silently.
//!
//! | Account number | Answer | Delivered |
//! |---|---|---|
//! | `9999000101` | return R01 Insufficient funds | 1 banking day after settlement |
//! | `9999000102` | return R02 Account closed (blocks the payment method) | 1 banking day after settlement |
//! | `9999000103` | return R03 No account / unable to locate (blocks) | 1 banking day after settlement |
//! | `9999000104` | return R04 Invalid account number (blocks) | 1 banking day after settlement |
//! | `9999000107` | return R07 Authorization revoked (blocks) | 1 banking day after settlement |
//! | `9999000110` | return R10 Not authorized (blocks) | 1 banking day after settlement |
//! | `9999000116` | return R16 Account frozen (blocks) | 1 banking day after settlement |
//! | `9999000120` | return R20 Non-transaction account (blocks) | 1 banking day after settlement |
//! | `9999000129` | return R29 Corporate customer advises not authorized (blocks) | 1 banking day after settlement |
//! | `99990001NN` | return `RNN`, for any other assigned return code R01–R53 | 1 banking day after settlement |
//! | `9999000210` | **late** return R10, after the collection completed | good funds + 2 banking days after settlement |
//! | `99990002NN` | late return `RNN` (any code as above) | good funds + 2 banking days after settlement |
//! | `9999100001` | NOC C01: account number → `7777100001` | 1 banking day after settlement |
//! | `9999100002` | NOC C02: routing number → `021000021` (`011000015` if it already was) | 1 banking day after settlement |
//! | `9999100003` | NOC C03: routing and account number (as C02 and C01) | 1 banking day after settlement |
//! | `9999100004` | NOC C04: individual name → the name's words reversed (`JANE DOE` → `DOE JANE`) | 1 banking day after settlement |
//! | `9999100005` | NOC C05: account type → the other one (checking ↔ savings) | 1 banking day after settlement |
//! | `9999100006` | NOC C06: account number and type | 1 banking day after settlement |
//! | `9999100007` | NOC C07: routing, account number and type | 1 banking day after settlement |
//! | `9999999999` | never answered: the collection stays `processing` ([`holds_in_processing`]) | never |
//!
//! The corrected account number of a NOC replaces the leading `9999` with
//! `7777`, so debiting the corrected account succeeds. "Settlement" is the
//! entry's effective date (or the next banking day if it is not one).
//!
//! [`answer`] is a pure function of the outbound file: the same file always
//! gives the same answer files, byte for byte (the creation date is the
//! delivery date). [`deliver_due`] writes each answer whose delivery date
//! has come into `cfg.inbound_dir` once, recording the delivery in the
//! `settings` table; the inbound folder watcher then ingests it.
//!
//! Answer files carry real NACHA return/NOC records (transaction codes
//! 21/26/31/36, addenda 99 and 98, `COR` batches for NOCs) and pass
//! Inflow's validator in strict mode. As a real RDFI's would, each answer
//! batch is originated by the returning bank (its routing number is the
//! batch's ODFI identification and the prefix of every trace number), each
//! answer entry is addressed to the original ODFI (its receiving DFI
//! identification), the addenda carry the original trace number and the
//! returning bank, and trace numbers are unique in the whole file.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use inflow_store::{Store, StoreError};
use nacha::field::{put_alpha, put_num, rightmost, RecordBytes};
use nacha::record::{Addenda, BatchControl, BatchHeader, EntryDetail, FileControl, RawRecord};
use nacha::{Batch, ChangeCode, Entry, NachaFile, ReturnCode, TransactionCode};
use sha2::{Digest, Sha256};
use std::path::PathBuf;

use crate::config::AchConfig;

/// The account number the sandbox bank never answers for.
pub const STAYS_PROCESSING_ACCOUNT: &str = "9999999999";

/// What the sandbox bank does with an entry to a magic account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MagicAnswer {
    /// Return the entry with `code`; `late` returns come after good funds.
    Return { code: ReturnCode, late: bool },
    /// Send a notification of change.
    Noc { code: ChangeCode },
    /// Never answer; the entry stays processing.
    StaysProcessing,
}

/// The sandbox bank's answer for an account number, if it is a magic one.
pub fn magic_answer(account: &str) -> Option<MagicAnswer> {
    let a = account.trim();
    if a == STAYS_PROCESSING_ACCOUNT {
        return Some(MagicAnswer::StaysProcessing);
    }
    if a.len() != 10 || !a.bytes().all(|b| b.is_ascii_digit()) || !a.starts_with("9999") {
        return None;
    }
    let nn: u8 = a[8..10].parse().ok()?;
    match &a[4..8] {
        "0001" | "0002" => {
            let code = ReturnCode::from_number(nn)?;
            if code.is_dishonored() || code.is_contested() || nn > 53 {
                return None;
            }
            Some(MagicAnswer::Return {
                code,
                late: &a[4..8] == "0002",
            })
        }
        "1000" if (1..=7).contains(&nn) => Some(MagicAnswer::Noc {
            code: ChangeCode::from_number(nn)?,
        }),
        _ => None,
    }
}

/// Settlement should keep an entry to this account in `processing`: the
/// sandbox bank never settles it.
pub fn holds_in_processing(account: &str) -> bool {
    magic_answer(account) == Some(MagicAnswer::StaysProcessing)
}

/// One file the bank will send, and when.
#[derive(Debug, Clone, PartialEq)]
pub struct SandboxAnswer {
    /// Unique across all answers to all outbound files (used to deliver once).
    pub key: String,
    pub deliver_on: NaiveDate,
    pub file: NachaFile,
}

impl SandboxAnswer {
    /// The name the file gets in the inbound folder.
    pub fn file_name(&self) -> String {
        format!("sandbox-bank-{}.ach", self.key)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("the outbound file cannot be read: {0}")]
    Unreadable(String),
    #[error("the answer file could not be built: {0}")]
    Build(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The return/NOC transaction code answering forward code `tc` (27 → 26, 38 → 36, 22 → 21 …).
fn answer_code(tc: TransactionCode) -> TransactionCode {
    TransactionCode((tc.0 / 10) * 10 + if tc.is_debit() { 6 } else { 1 })
}

fn corrected_account(account: &str) -> String {
    match account.strip_prefix("9999") {
        Some(rest) => format!("7777{rest}"),
        None => format!("7{}", &account[1.min(account.len())..]),
    }
}

fn corrected_routing(rdfi: &str) -> &'static str {
    if rdfi == "021000021" {
        "011000015"
    } else {
        "021000021"
    }
}

fn corrected_name(name: &str) -> String {
    let words: Vec<&str> = name.split_whitespace().collect();
    let mut out = match words.as_slice() {
        [] => "CORRECTED NAME".to_owned(),
        [one] => format!("{one} JR"),
        [first, middle @ .., last] => {
            let mut v = vec![*last];
            v.extend(middle.iter().copied());
            v.push(first);
            v.join(" ")
        }
    };
    out.truncate(22);
    out
}

/// The other account type's transaction code (27 ↔ 37, 28 ↔ 38).
fn other_type(tc: TransactionCode) -> TransactionCode {
    match tc.0 / 10 {
        2 => TransactionCode(tc.0 + 10),
        3 => TransactionCode(tc.0 - 10),
        _ => tc,
    }
}

/// The 29-character corrected data of a NOC for the original entry.
fn corrected_data(code: ChangeCode, entry: &EntryDetail) -> String {
    let account = entry.dfi_account_number();
    let account = account.trim();
    let rdfi = entry.rdfi_routing();
    let tc = entry
        .transaction_code()
        .unwrap_or(TransactionCode::CHECKING_DEBIT);
    let new_account = corrected_account(account);
    let new_routing = corrected_routing(&rdfi);
    let new_tc = other_type(tc);
    match code {
        ChangeCode::C01 => format!("{new_account:<17}"),
        ChangeCode::C02 => new_routing.to_owned(),
        ChangeCode::C03 => format!("{new_routing}   {new_account:<17}"),
        ChangeCode::C04 => corrected_name(&entry.individual_name()),
        ChangeCode::C05 => new_tc.to_string(),
        ChangeCode::C06 => format!("{new_account:<17}   {new_tc}"),
        ChangeCode::C07 => format!("{new_routing}{new_account:<17}{new_tc}"),
        _ => String::new(),
    }
}

struct Pending {
    /// Index of the original batch; the RDFI's 8 digits.
    batch: usize,
    rdfi8: u64,
    entries: Vec<Entry>,
}

#[derive(Default)]
struct Group {
    batches: Vec<Pending>,
}

/// Every answer the sandbox bank will give to `outbound` (a file Inflow
/// wrote), with its delivery date. Pure: the same bytes always give the
/// same answers.
pub fn answer(outbound: &[u8], cfg: &AchConfig) -> Result<Vec<SandboxAnswer>, SandboxError> {
    let file = nacha::read(outbound).map_err(|e| SandboxError::Unreadable(e.to_string()))?;
    let header = file
        .header
        .as_ref()
        .ok_or_else(|| SandboxError::Unreadable("no file header".into()))?;
    let digest = hex::encode(Sha256::digest(outbound));
    let short = &digest[..16];
    let cal = &cfg.calendar;

    // (deliver_on, kind) → batches of answer entries.
    let mut groups: std::collections::BTreeMap<(NaiveDate, &'static str), Group> =
        Default::default();
    for (bi, batch) in file.batches.iter().enumerate() {
        let Some(eed) = crate::inbound::yymmdd(&batch.header.effective_entry_date()) else {
            continue;
        };
        let settles = cal.banking_day_on_or_after(eed);
        for entry in &batch.entries {
            let d = &entry.detail;
            let Some(magic) = magic_answer(&d.dfi_account_number()) else {
                continue;
            };
            let Some(tc) = d.transaction_code() else {
                continue;
            };
            let (deliver_on, kind, addenda) = match magic {
                MagicAnswer::StaysProcessing => continue,
                MagicAnswer::Return { code, late } => {
                    let days = if late {
                        cfg.good_funds_banking_days + 2
                    } else {
                        1
                    };
                    let mut a = blank(b'7');
                    a[1..3].copy_from_slice(b"99");
                    a[3..6].copy_from_slice(code.as_str().as_bytes());
                    put_num(&mut a[6..21], d.trace_number().unwrap_or(0));
                    a[27..35].copy_from_slice(&d.bytes()[3..11]);
                    (cal.add_banking_days(settles, days), "returns", a)
                }
                MagicAnswer::Noc { code } => {
                    let mut a = blank(b'7');
                    a[1..3].copy_from_slice(b"98");
                    put_alpha(&mut a[3..6], format!("C{:02}", code.number()).as_bytes());
                    put_num(&mut a[6..21], d.trace_number().unwrap_or(0));
                    a[27..35].copy_from_slice(&d.bytes()[3..11]);
                    put_alpha(&mut a[35..64], corrected_data(code, d).as_bytes());
                    (cal.add_banking_days(settles, 1), "nocs", a)
                }
            };
            let mut r = *d.bytes();
            put_num(&mut r[1..3], u64::from(answer_code(tc).0));
            if kind == "nocs" {
                put_num(&mut r[29..39], 0);
            }
            r[78] = b'1';
            let rdfi8 = nacha::field::digits(&r[3..11]).unwrap_or(0);
            // The answer goes back to the original ODFI: its routing number
            // is the answer entry's receiving DFI identification.
            let odfi8 = &batch.header.bytes()[79..87];
            r[3..11].copy_from_slice(odfi8);
            r[11] = nacha::routing::check_digit(odfi8).map_or(b'0', |d| b'0' + d);
            let group = groups.entry((deliver_on, kind)).or_default();
            let pending = match group
                .batches
                .iter_mut()
                .position(|p| p.batch == bi && p.rdfi8 == rdfi8)
            {
                Some(i) => &mut group.batches[i],
                None => {
                    group.batches.push(Pending {
                        batch: bi,
                        rdfi8,
                        entries: Vec::new(),
                    });
                    group.batches.last_mut().expect("just pushed")
                }
            };
            pending.entries.push(Entry {
                detail: EntryDetail::from_raw(RawRecord::new(r)),
                addenda: vec![Addenda::from_raw(RawRecord::new(addenda))],
            });
        }
    }

    let origin = {
        let d = header.immediate_destination();
        if d.len() == 9 && d.bytes().all(|b| b.is_ascii_digit()) {
            d
        } else {
            cfg.immediate_destination.as_string()
        }
    };
    let mut answers = Vec::new();
    for ((deliver_on, kind), group) in groups {
        let key = format!("{}-{short}-{kind}", deliver_on.format("%Y%m%d"));
        let destination_name = header.origin_name();
        let origin_name = header.destination_name();
        let file_header = {
            let mut spec = nacha::FileHeaderSpec::new(
                nacha::RoutingNumber::parse(&cfg.odfi_routing.as_string())
                    .map_err(|e| SandboxError::Build(e.to_string()))?,
                &origin,
                &destination_name,
                &origin_name,
                nacha::Date::new(
                    deliver_on.year() as u16,
                    deliver_on.month() as u8,
                    deliver_on.day() as u8,
                ),
                if kind == "returns" { 'R' } else { 'N' },
            );
            spec.creation_time = Some((6, 0));
            // An empty file from the builder: its checked file header.
            nacha::FileBuilder::new(spec)
                .build()
                .map_err(|e| SandboxError::Build(e.to_string()))?
                .header
                .ok_or_else(|| SandboxError::Build("no file header".into()))?
        };
        let mut batches = Vec::new();
        // Trace numbers are unique in the file: one sequence for every batch.
        let mut seq = 0u64;
        for (n, p) in group.batches.into_iter().enumerate() {
            let original = &file.batches[p.batch].header;
            let mut h = *original.bytes();
            if kind == "nocs" {
                h[50..53].copy_from_slice(b"COR");
            }
            h[75..78].copy_from_slice(b"   ");
            put_num(&mut h[79..87], p.rdfi8);
            put_num(&mut h[87..94], n as u64 + 1);
            let mut entries = p.entries;
            for e in entries.iter_mut() {
                seq += 1;
                let trace = p.rdfi8 * 10_000_000 + seq;
                let mut r = *e.detail.bytes();
                put_num(&mut r[79..94], trace);
                e.detail = EntryDetail::from_raw(RawRecord::new(r));
                let mut a = *e.addenda[0].bytes();
                put_num(&mut a[79..94], trace);
                e.addenda[0] = Addenda::from_raw(RawRecord::new(a));
            }
            let control = batch_control(&h, &entries);
            batches.push(Batch {
                header: BatchHeader::from_raw(RawRecord::new(h)),
                entries,
                control: Some(BatchControl::from_raw(RawRecord::new(control))),
            });
        }
        let control = file_control(&batches);
        let answer_file = NachaFile {
            header: Some(file_header),
            batches,
            control: Some(FileControl::from_raw(RawRecord::new(control))),
            padding_read: 0,
        };
        // Hold the bank to the standard Inflow holds itself to.
        answer_file.to_checked_bytes().map_err(|findings| {
            SandboxError::Build(
                findings
                    .iter()
                    .map(|f| f.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
        answers.push(SandboxAnswer {
            key,
            deliver_on,
            file: answer_file,
        });
    }
    Ok(answers)
}

fn blank(kind: u8) -> RecordBytes {
    let mut b = [b' '; 94];
    b[0] = kind;
    b
}

fn tallies(entries: &[Entry]) -> (u64, u64, u64, u64) {
    let (mut count, mut hash, mut debit, mut credit) = (0u64, 0u64, 0u64, 0u64);
    for e in entries {
        let b = e.detail.bytes();
        count += 1 + e.addenda.len() as u64;
        hash += nacha::field::digits(&b[3..11]).unwrap_or(0);
        let amount = nacha::field::digits(&b[29..39]).unwrap_or(0);
        if TransactionCode::from_bytes(&b[1..3]).is_some_and(|t| t.is_debit()) {
            debit += amount;
        } else {
            credit += amount;
        }
    }
    (count, hash, debit, credit)
}

fn batch_control(h: &RecordBytes, entries: &[Entry]) -> RecordBytes {
    let (count, hash, debit, credit) = tallies(entries);
    let mut r = blank(b'8');
    r[1..4].copy_from_slice(&h[1..4]);
    put_num(&mut r[4..10], count);
    put_num(&mut r[10..20], rightmost(hash, 10));
    put_num(&mut r[20..32], debit);
    put_num(&mut r[32..44], credit);
    r[44..54].copy_from_slice(&h[40..50]);
    r[79..94].copy_from_slice(&h[79..94]);
    r
}

fn file_control(batches: &[Batch]) -> RecordBytes {
    let (mut count, mut hash, mut debit, mut credit, mut records) = (0u64, 0u64, 0u64, 0u64, 2u64);
    for b in batches {
        let (c, h, d, cr) = tallies(&b.entries);
        count += c;
        hash += h;
        debit += d;
        credit += cr;
        records += 2 + c;
    }
    let mut r = blank(b'9');
    put_num(&mut r[1..7], batches.len() as u64);
    put_num(&mut r[7..13], records.div_ceil(10));
    put_num(&mut r[13..21], count);
    put_num(&mut r[21..31], rightmost(hash, 10));
    put_num(&mut r[31..43], debit);
    put_num(&mut r[43..55], credit);
    r
}

/// Write `bytes` to `path` atomically: a temporary file, fsync, rename.
async fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let tmp = path.with_extension("ach.tmp");
    // Readable by Inflow's user only: answer files hold account numbers.
    let mut f = crate::private_fs::file_options_async().open(&tmp).await?;
    f.write_all(bytes).await?;
    f.sync_all().await?;
    drop(f);
    tokio::fs::rename(&tmp, path).await
}

/// Deliver the answers to one outbound file whose date has come (`deliver_on`
/// ≤ today in US/Eastern): write each into `cfg.inbound_dir` and record the
/// delivery so it happens once. Returns the paths written.
///
/// The file is written before the delivery is recorded: a crash in between
/// writes it again on the next pass, which the ingestion recognises as a
/// duplicate (answers are byte-for-byte deterministic).
pub async fn deliver_answers(
    store: &Store,
    cfg: &AchConfig,
    outbound: &[u8],
    now: DateTime<Utc>,
) -> Result<Vec<PathBuf>, SandboxError> {
    let today = inflow_core::calendar::local_date(now);
    let mut written = Vec::new();
    for a in answer(outbound, cfg)? {
        if a.deliver_on > today {
            continue;
        }
        let mut tx = store.read().await?;
        let done = tx.sandbox_answer_delivered(&a.key).await?;
        tx.rollback().await?;
        if done {
            continue;
        }
        crate::private_fs::create_dir_all_async(&cfg.inbound_dir).await?;
        let name = a.file_name();
        let path = cfg.inbound_dir.join(&name);
        write_atomically(&path, &a.file.to_bytes()).await?;
        let key = a.key.clone();
        let recorded = store
            .write(move |tx| {
                Box::pin(async move { tx.mark_sandbox_answer_delivered(&key, &name).await })
            })
            .await?;
        if recorded {
            tracing::info!(file = %path.display(), "sandbox bank delivered an answer file");
            written.push(path);
        }
    }
    Ok(written)
}

/// Deliver every due answer to every file in `cfg.outbound_dir` (the
/// sandbox bank "receives" what Inflow writes there). Files that are not
/// NACHA files, or are still being written (`.tmp`), are skipped.
pub async fn deliver_due(
    store: &Store,
    cfg: &AchConfig,
    now: DateTime<Utc>,
) -> Result<Vec<PathBuf>, SandboxError> {
    let mut names = Vec::new();
    let mut dir = match tokio::fs::read_dir(&cfg.outbound_dir).await {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    while let Some(e) = dir.next_entry().await? {
        if !e.file_type().await?.is_file() {
            continue;
        }
        if let Ok(name) = e.file_name().into_string() {
            if !name.starts_with('.') && !name.ends_with(".tmp") {
                names.push(name);
            }
        }
    }
    names.sort();
    let mut written = Vec::new();
    for name in names {
        let bytes = tokio::fs::read(cfg.outbound_dir.join(&name)).await?;
        match deliver_answers(store, cfg, &bytes, now).await {
            Ok(mut w) => written.append(&mut w),
            Err(SandboxError::Unreadable(why)) => {
                tracing::debug!(file = %name, %why, "sandbox bank skipped a file it cannot read");
            }
            Err(e) => return Err(e),
        }
    }
    Ok(written)
}
