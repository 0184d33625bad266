//! A builder for originated files that is hard to misuse: entries can only
//! be added after a batch (type-state), every text field is checked against
//! its width and the allowed character set, routing numbers are
//! [`RoutingNumber`]s, and all controls (counts, entry hash, totals, batch
//! count, block count, padding), batch numbers and — unless given — trace
//! numbers are computed by the builder, never taken from callers.
//!
//! ```
//! use nacha::*;
//! let odfi = RoutingNumber::parse("121042882").unwrap();
//! let file = FileBuilder::new(FileHeaderSpec::new(
//!         RoutingNumber::parse("231380104").unwrap(), "1210428822",
//!         "FEDERAL RESERVE BANK", "ACME COLLECTIONS", Date::new(2025, 1, 3), 'A'))
//!     .batch(BatchSpec::new(ServiceClass::DebitsOnly, SecCode::Web, "ACME CORP",
//!         "1234567890", "PURCHASE", Date::new(2025, 1, 3), odfi))
//!     .entry(EntrySpec::new(TransactionCode::CHECKING_DEBIT,
//!         RoutingNumber::parse("231380104").unwrap(), "1234567890", 12345, "JANE DOE")
//!         .payment_type(PaymentType::Single))
//!     .build()
//!     .unwrap();
//! assert!(file.validate(&ValidateOptions::default()).is_empty());
//! ```

use crate::codes::{SecCode, ServiceClass, TransactionCode};
use crate::field::{put_alpha, put_num, rightmost, RecordBytes};
use crate::model::{Batch, Entry, NachaFile};
use crate::record::{
    self, Addenda, BatchControl, BatchHeader, EntryDetail, FileControl, FileHeader, RawRecord,
};
use crate::routing::RoutingNumber;

/// A calendar date for header fields (written as `YYMMDD`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date {
    /// Four-digit year (written as its last two digits).
    pub year: u16,
    /// Month 1-12.
    pub month: u8,
    /// Day 1-31.
    pub day: u8,
}

impl Date {
    /// A date; validity is checked by the builder.
    pub const fn new(year: u16, month: u8, day: u8) -> Self {
        Date { year, month, day }
    }

    fn is_valid(self) -> bool {
        (1..=12).contains(&self.month)
            && self.day >= 1
            && u32::from(self.day)
                <= crate::field::days_in_month(u32::from(self.year), u32::from(self.month))
    }

    fn put(self, out: &mut [u8]) {
        put_num(&mut out[0..2], u64::from(self.year % 100));
        put_num(&mut out[2..4], u64::from(self.month));
        put_num(&mut out[4..6], u64::from(self.day));
    }
}

/// WEB/TEL payment type code (entry positions 77-78).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentType {
    /// `R`: recurring.
    Recurring,
    /// `S`: single.
    Single,
}

/// A 15-digit trace number: ODFI 8-digit identification + 7-digit sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TraceNumber(u64);

impl TraceNumber {
    /// Trace for `odfi` with sequence `seq` (must be < 10,000,000).
    pub fn new(odfi: &RoutingNumber, seq: u32) -> Option<Self> {
        (seq < 10_000_000).then(|| TraceNumber(odfi.dfi_number() * 10_000_000 + u64::from(seq)))
    }
    /// From a full 15-digit value.
    pub fn from_u64(v: u64) -> Option<Self> {
        (v < 1_000_000_000_000_000).then_some(TraceNumber(v))
    }
    /// The full value.
    pub fn value(self) -> u64 {
        self.0
    }
    /// The 7-digit sequence part.
    pub fn sequence(self) -> u64 {
        self.0 % 10_000_000
    }
}

/// File header inputs.
#[derive(Debug, Clone)]
pub struct FileHeaderSpec<'a> {
    /// Receiving point (ODFI or operator) routing number.
    pub immediate_destination: RoutingNumber,
    /// Immediate origin (up to 10 characters, e.g. `1` + EIN or a routing number).
    pub immediate_origin: &'a str,
    /// Immediate destination name (≤ 23).
    pub destination_name: &'a str,
    /// Immediate origin name (≤ 23).
    pub origin_name: &'a str,
    /// File creation date.
    pub creation_date: Date,
    /// File creation time (hour, minute).
    pub creation_time: Option<(u8, u8)>,
    /// File ID modifier, `A`-`Z` or `0`-`9`.
    pub file_id_modifier: char,
    /// Reference code (≤ 8).
    pub reference_code: &'a str,
}

impl<'a> FileHeaderSpec<'a> {
    /// Header spec with no creation time and no reference code.
    pub fn new(
        immediate_destination: RoutingNumber,
        immediate_origin: &'a str,
        destination_name: &'a str,
        origin_name: &'a str,
        creation_date: Date,
        file_id_modifier: char,
    ) -> Self {
        FileHeaderSpec {
            immediate_destination,
            immediate_origin,
            destination_name,
            origin_name,
            creation_date,
            creation_time: None,
            file_id_modifier,
            reference_code: "",
        }
    }
}

/// Batch header inputs. Batch numbers are assigned by the builder.
#[derive(Debug, Clone)]
pub struct BatchSpec<'a> {
    /// 200, 220 or 225.
    pub service_class: ServiceClass,
    /// PPD, CCD, WEB or TEL.
    pub sec: SecCode,
    /// Company name (≤ 16).
    pub company_name: &'a str,
    /// Company discretionary data (≤ 20).
    pub company_discretionary_data: &'a str,
    /// Company identification (1-10 characters).
    pub company_identification: &'a str,
    /// Company entry description (1-10 characters).
    pub entry_description: &'a str,
    /// Company descriptive date (≤ 6, free text).
    pub descriptive_date: &'a str,
    /// Effective entry date.
    pub effective_entry_date: Date,
    /// ODFI routing number (its first 8 digits go into the batch and traces).
    pub odfi: RoutingNumber,
}

impl<'a> BatchSpec<'a> {
    /// Batch spec with empty discretionary data and descriptive date.
    pub fn new(
        service_class: ServiceClass,
        sec: SecCode,
        company_name: &'a str,
        company_identification: &'a str,
        entry_description: &'a str,
        effective_entry_date: Date,
        odfi: RoutingNumber,
    ) -> Self {
        BatchSpec {
            service_class,
            sec,
            company_name,
            company_discretionary_data: "",
            company_identification,
            entry_description,
            descriptive_date: "",
            effective_entry_date,
            odfi,
        }
    }
}

/// Entry inputs.
#[derive(Debug, Clone)]
pub struct EntrySpec<'a> {
    /// 22/23/27/28/32/33/37/38.
    pub transaction_code: TransactionCode,
    /// Receiver's routing number.
    pub rdfi: RoutingNumber,
    /// Receiver's account number (1-17).
    pub account_number: &'a str,
    /// Amount in cents (≤ 9,999,999,999; 0 for prenotes).
    pub amount_cents: u64,
    /// Individual identification number (≤ 15).
    pub individual_id: &'a str,
    /// Individual / receiving company name (1-22).
    pub individual_name: &'a str,
    /// WEB/TEL payment type; required for WEB and TEL, not allowed otherwise.
    pub payment_type: Option<PaymentType>,
    /// Discretionary data (≤ 2) for PPD/CCD.
    pub discretionary_data: &'a str,
    /// Optional addenda 05 payment related information (≤ 80).
    pub addenda: Option<&'a str>,
    /// Explicit trace number (e.g. persisted before writing); assigned if `None`.
    pub trace: Option<TraceNumber>,
}

impl<'a> EntrySpec<'a> {
    /// Entry with no ID, payment type, addenda or explicit trace.
    pub fn new(
        tc: TransactionCode,
        rdfi: RoutingNumber,
        account: &'a str,
        amount_cents: u64,
        name: &'a str,
    ) -> Self {
        EntrySpec {
            transaction_code: tc,
            rdfi,
            account_number: account,
            amount_cents,
            individual_id: "",
            individual_name: name,
            payment_type: None,
            discretionary_data: "",
            addenda: None,
            trace: None,
        }
    }
    /// Sets the payment type (WEB/TEL).
    pub fn payment_type(mut self, p: PaymentType) -> Self {
        self.payment_type = Some(p);
        self
    }
    /// Sets the individual identification number.
    pub fn individual_id(mut self, id: &'a str) -> Self {
        self.individual_id = id;
        self
    }
    /// Adds one addenda 05.
    pub fn addenda(mut self, text: &'a str) -> Self {
        self.addenda = Some(text);
        self
    }
    /// Uses an explicit trace number.
    pub fn trace(mut self, t: TraceNumber) -> Self {
        self.trace = Some(t);
        self
    }
}

/// Why a file could not be built. Locations are 1-based batch/entry indexes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// A text field is too long, empty where required, or has characters
    /// outside printable ASCII.
    #[error("{location}: {field}: {reason}")]
    Field {
        /// Where.
        location: String,
        /// Field name.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A rule of the SEC code, service class or transaction code is broken.
    #[error("{location}: {reason}")]
    Rule {
        /// Where.
        location: String,
        /// What is wrong.
        reason: String,
    },
    /// A batch has no entries.
    #[error("batch {0} has no entries")]
    EmptyBatch(usize),
    /// Counts overflow their fields.
    #[error("file too large: {0}")]
    TooLarge(&'static str),
}

fn put_text(
    out: &mut [u8],
    value: &str,
    field: &'static str,
    required: bool,
    loc: &dyn Fn() -> String,
) -> Result<(), BuildError> {
    let v = value.as_bytes();
    let bad = |reason: String| BuildError::Field {
        location: loc(),
        field,
        reason,
    };
    if v.len() > out.len() {
        return Err(bad(format!(
            "{} characters exceed the field width {}",
            v.len(),
            out.len()
        )));
    }
    if let Some(c) = v.iter().find(|&&c| !(0x20..=0x7e).contains(&c)) {
        return Err(bad(format!("byte 0x{c:02x} is not printable ASCII")));
    }
    if required && value.trim().is_empty() {
        return Err(bad("must not be blank".into()));
    }
    put_alpha(out, v);
    Ok(())
}

struct PendingBatch {
    header: RecordBytes,
    sec: SecCode,
    service_class: ServiceClass,
    reversal: bool,
    odfi8: u64,
    last_trace: Option<u64>,
    entries: Vec<Entry>,
}

/// Builder for a file; add batches with [`FileBuilder::batch`].
pub struct FileBuilder {
    header: Result<RecordBytes, BuildError>,
    batches: Vec<PendingBatch>,
    error: Option<BuildError>,
    next_seq: u64,
}

/// Builder positioned inside a batch; add entries with [`BatchBuilder::entry`].
pub struct BatchBuilder(FileBuilder);

impl FileBuilder {
    /// Starts a file.
    pub fn new(h: FileHeaderSpec<'_>) -> Self {
        FileBuilder {
            header: file_header(&h),
            batches: Vec::new(),
            error: None,
            next_seq: 1,
        }
    }

    /// First sequence number for assigned trace numbers (default 1).
    pub fn trace_sequence_start(mut self, seq: u32) -> Self {
        self.next_seq = u64::from(seq);
        self
    }

    /// Starts a new batch.
    pub fn batch(mut self, b: BatchSpec<'_>) -> BatchBuilder {
        let n = self.batches.len() + 1;
        match batch_header(&b, n) {
            Ok(header) => self.batches.push(PendingBatch {
                header,
                sec: b.sec,
                service_class: b.service_class,
                reversal: b.entry_description.eq_ignore_ascii_case("REVERSAL"),
                odfi8: b.odfi.dfi_number(),
                last_trace: None,
                entries: Vec::new(),
            }),
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
        BatchBuilder(self)
    }

    /// Builds the file, computing every control record.
    pub fn build(self) -> Result<NachaFile, BuildError> {
        let header = self.header?;
        if let Some(e) = self.error {
            return Err(e);
        }
        finish(header, self.batches)
    }
}

impl BatchBuilder {
    /// Adds an entry to the current batch.
    pub fn entry(mut self, e: EntrySpec<'_>) -> Self {
        if self.0.error.is_some() {
            return self;
        }
        let fb = &mut self.0;
        let bi = fb.batches.len();
        let Some(pb) = fb.batches.last_mut() else {
            return self;
        };
        match entry(pb, &e, bi, &mut fb.next_seq) {
            Ok(en) => pb.entries.push(en),
            Err(err) => fb.error = Some(err),
        }
        self
    }

    /// Starts another batch.
    pub fn batch(self, b: BatchSpec<'_>) -> BatchBuilder {
        self.0.batch(b)
    }

    /// Builds the file.
    pub fn build(self) -> Result<NachaFile, BuildError> {
        self.0.build()
    }
}

fn file_header(h: &FileHeaderSpec<'_>) -> Result<RecordBytes, BuildError> {
    let loc = || "file header".to_string();
    let mut r = record::blank(b'1');
    r[1..3].copy_from_slice(b"01");
    r[3] = b' ';
    r[4..13].copy_from_slice(h.immediate_destination.as_bytes());
    let origin = h.immediate_origin;
    if origin.len() == 9 {
        r[13] = b' ';
        put_text(&mut r[14..23], origin, "immediate origin", true, &loc)?;
    } else {
        put_text(&mut r[13..23], origin, "immediate origin", true, &loc)?;
    }
    if origin.bytes().all(|c| c == b'0' || c == b' ') {
        return Err(BuildError::Field {
            location: loc(),
            field: "immediate origin",
            reason: "must not be all zeros".into(),
        });
    }
    if !h.creation_date.is_valid() {
        return Err(BuildError::Field {
            location: loc(),
            field: "file creation date",
            reason: "invalid date".into(),
        });
    }
    h.creation_date.put(&mut r[23..29]);
    match h.creation_time {
        Some((hh, mm)) if hh < 24 && mm < 60 => {
            put_num(&mut r[29..31], u64::from(hh));
            put_num(&mut r[31..33], u64::from(mm));
        }
        Some(_) => {
            return Err(BuildError::Field {
                location: loc(),
                field: "file creation time",
                reason: "invalid time".into(),
            })
        }
        None => {}
    }
    let m = h.file_id_modifier.to_ascii_uppercase();
    if !(m.is_ascii_uppercase() || m.is_ascii_digit()) {
        return Err(BuildError::Field {
            location: loc(),
            field: "file ID modifier",
            reason: format!("{m:?} is not A-Z or 0-9"),
        });
    }
    r[33] = m as u8;
    r[34..40].copy_from_slice(b"094101");
    put_text(
        &mut r[40..63],
        h.destination_name,
        "immediate destination name",
        false,
        &loc,
    )?;
    put_text(
        &mut r[63..86],
        h.origin_name,
        "immediate origin name",
        false,
        &loc,
    )?;
    put_text(
        &mut r[86..94],
        h.reference_code,
        "reference code",
        false,
        &loc,
    )?;
    Ok(r)
}

fn batch_header(b: &BatchSpec<'_>, n: usize) -> Result<RecordBytes, BuildError> {
    let loc = || format!("batch {n}");
    if !b.sec.is_originatable() {
        return Err(BuildError::Rule {
            location: loc(),
            reason: format!("SEC code {} cannot be originated by this builder", b.sec),
        });
    }
    if b.service_class == ServiceClass::AdvOnly {
        return Err(BuildError::Rule {
            location: loc(),
            reason: "service class 280 is for ADV files only".into(),
        });
    }
    if n > 9_999_999 {
        return Err(BuildError::TooLarge("more than 9,999,999 batches"));
    }
    let mut r = record::blank(b'5');
    put_num(&mut r[1..4], u64::from(b.service_class.code()));
    put_text(&mut r[4..20], b.company_name, "company name", true, &loc)?;
    put_text(
        &mut r[20..40],
        b.company_discretionary_data,
        "company discretionary data",
        false,
        &loc,
    )?;
    put_text(
        &mut r[40..50],
        b.company_identification,
        "company identification",
        true,
        &loc,
    )?;
    r[50..53].copy_from_slice(&b.sec.as_bytes());
    put_text(
        &mut r[53..63],
        b.entry_description,
        "company entry description",
        true,
        &loc,
    )?;
    put_text(
        &mut r[63..69],
        b.descriptive_date,
        "company descriptive date",
        false,
        &loc,
    )?;
    if !b.effective_entry_date.is_valid() {
        return Err(BuildError::Field {
            location: loc(),
            field: "effective entry date",
            reason: "invalid date".into(),
        });
    }
    b.effective_entry_date.put(&mut r[69..75]);
    r[78] = b'1';
    r[79..87].copy_from_slice(b.odfi.dfi());
    put_num(&mut r[87..94], n as u64);
    Ok(r)
}

fn entry(
    pb: &mut PendingBatch,
    e: &EntrySpec<'_>,
    bi: usize,
    next_seq: &mut u64,
) -> Result<Entry, BuildError> {
    let ei = pb.entries.len() + 1;
    let loc = || format!("batch {bi} entry {ei}");
    let rule = |reason: String| BuildError::Rule {
        location: loc(),
        reason,
    };
    let tc = e.transaction_code;
    if !(matches!(tc.0 / 10, 2 | 3) && (tc.is_live() || tc.is_prenote())) {
        return Err(rule(format!(
            "transaction code {tc} is not a checking/savings live or prenote code"
        )));
    }
    if !pb.service_class.allows(tc) {
        return Err(rule(format!(
            "transaction code {tc} is not allowed with service class {}",
            pb.service_class.code()
        )));
    }
    if tc.is_prenote() && e.amount_cents != 0 {
        return Err(rule("prenote entries must have amount 0".into()));
    }
    if tc.is_live() && e.amount_cents == 0 {
        return Err(rule("live entries must have a non-zero amount".into()));
    }
    if e.amount_cents > 9_999_999_999 {
        return Err(rule("amount exceeds 9,999,999,999 cents".into()));
    }
    let web_tel = matches!(pb.sec, SecCode::Web | SecCode::Tel);
    if pb.sec == SecCode::Tel {
        if e.addenda.is_some() {
            return Err(rule("TEL entries may not have addenda".into()));
        }
        if tc.is_credit() && !pb.reversal {
            return Err(rule(
                "TEL batches allow credits only with entry description REVERSAL".into(),
            ));
        }
    }
    if web_tel != e.payment_type.is_some() {
        return Err(rule(
            "payment type is required for WEB/TEL entries and not allowed otherwise".into(),
        ));
    }
    let trace = match e.trace {
        Some(t) => {
            if t.value() / 10_000_000 != pb.odfi8 {
                return Err(rule(format!(
                    "trace number {:015} does not start with the batch ODFI identification {:08}",
                    t.value(),
                    pb.odfi8
                )));
            }
            *next_seq = (*next_seq).max(t.sequence() + 1);
            t.value()
        }
        None => {
            if *next_seq >= 10_000_000 {
                return Err(BuildError::TooLarge("trace sequence exceeds 9,999,999"));
            }
            let t = pb.odfi8 * 10_000_000 + *next_seq;
            *next_seq += 1;
            t
        }
    };
    if let Some(prev) = pb.last_trace {
        if trace <= prev {
            return Err(rule(format!(
                "trace number {trace:015} is not greater than the previous {prev:015}"
            )));
        }
    }
    pb.last_trace = Some(trace);
    let mut r = record::blank(b'6');
    put_num(&mut r[1..3], u64::from(tc.0));
    r[3..12].copy_from_slice(e.rdfi.as_bytes());
    put_text(
        &mut r[12..29],
        e.account_number,
        "DFI account number",
        true,
        &loc,
    )?;
    put_num(&mut r[29..39], e.amount_cents);
    put_text(
        &mut r[39..54],
        e.individual_id,
        "individual identification number",
        false,
        &loc,
    )?;
    put_text(
        &mut r[54..76],
        e.individual_name,
        "individual name",
        true,
        &loc,
    )?;
    match e.payment_type {
        Some(PaymentType::Recurring) => r[76] = b'R',
        Some(PaymentType::Single) => r[76] = b'S',
        None => put_text(
            &mut r[76..78],
            e.discretionary_data,
            "discretionary data",
            false,
            &loc,
        )?,
    }
    r[78] = if e.addenda.is_some() { b'1' } else { b'0' };
    put_num(&mut r[79..94], trace);
    let mut addenda = Vec::new();
    if let Some(text) = e.addenda {
        let mut a = record::blank(b'7');
        a[1..3].copy_from_slice(b"05");
        put_text(
            &mut a[3..83],
            text,
            "payment related information",
            false,
            &loc,
        )?;
        put_num(&mut a[83..87], 1);
        put_num(&mut a[87..94], trace % 10_000_000);
        addenda.push(Addenda(RawRecord::new(a)));
    }
    Ok(Entry {
        detail: EntryDetail(RawRecord::new(r)),
        addenda,
    })
}

fn finish(header: RecordBytes, pending: Vec<PendingBatch>) -> Result<NachaFile, BuildError> {
    let (mut count, mut hash, mut debit, mut credit, mut records) = (0u64, 0u64, 0u64, 0u64, 2u64);
    let mut batches = Vec::with_capacity(pending.len());
    for (i, pb) in pending.into_iter().enumerate() {
        if pb.entries.is_empty() {
            return Err(BuildError::EmptyBatch(i + 1));
        }
        let (mut c, mut h, mut d, mut cr) = (0u64, 0u64, 0u64, 0u64);
        for e in &pb.entries {
            let b = e.detail.bytes();
            c += 1 + e.addenda.len() as u64;
            h += crate::field::digits(&b[3..11]).unwrap_or(0);
            let amt = crate::field::digits(&b[29..39]).unwrap_or(0);
            let tc = TransactionCode::from_bytes(&b[1..3]).unwrap_or(TransactionCode(0));
            if tc.is_debit() {
                d += amt;
            } else {
                cr += amt;
            }
        }
        if c > 999_999 || d > 999_999_999_999 || cr > 999_999_999_999 {
            return Err(BuildError::TooLarge(
                "batch counts or totals overflow the batch control",
            ));
        }
        let hb = &pb.header;
        let mut r = record::blank(b'8');
        r[1..4].copy_from_slice(&hb[1..4]);
        put_num(&mut r[4..10], c);
        put_num(&mut r[10..20], rightmost(h, 10));
        put_num(&mut r[20..32], d);
        put_num(&mut r[32..44], cr);
        r[44..54].copy_from_slice(&hb[40..50]);
        r[79..94].copy_from_slice(&hb[79..94]);
        count += c;
        hash += h;
        debit += d;
        credit += cr;
        records += 2 + c;
        batches.push(Batch {
            header: BatchHeader(RawRecord::new(pb.header)),
            entries: pb.entries,
            control: Some(BatchControl(RawRecord::new(r))),
        });
    }
    if batches.len() > 999_999
        || count > 99_999_999
        || debit > 999_999_999_999
        || credit > 999_999_999_999
    {
        return Err(BuildError::TooLarge(
            "file counts or totals overflow the file control",
        ));
    }
    let mut r = record::blank(b'9');
    put_num(&mut r[1..7], batches.len() as u64);
    put_num(&mut r[7..13], records.div_ceil(10));
    put_num(&mut r[13..21], count);
    put_num(&mut r[21..31], rightmost(hash, 10));
    put_num(&mut r[31..43], debit);
    put_num(&mut r[43..55], credit);
    Ok(NachaFile {
        header: Some(FileHeader(RawRecord::new(header))),
        batches,
        control: Some(FileControl(RawRecord::new(r))),
        padding_read: 0,
    })
}
