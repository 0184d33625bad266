//! The caller-facing inputs of the builder: dates, payment types, trace
//! numbers and the file header / batch / entry specs. These are plain
//! values; every check happens when the builder encodes them.

use crate::codes::{SecCode, ServiceClass, TransactionCode};
use crate::field::put_num;
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

    pub(super) fn is_valid(self) -> bool {
        (1..=12).contains(&self.month)
            && self.day >= 1
            && u32::from(self.day)
                <= crate::field::days_in_month(u32::from(self.year), u32::from(self.month))
    }

    pub(super) fn put(self, out: &mut [u8]) {
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
