//! A builder for originated files that is hard to misuse: entries can only
//! be added after a batch (type-state), every text field is checked against
//! its width and the allowed character set, routing numbers are
//! [`crate::RoutingNumber`]s, and all controls (counts, entry hash, totals, batch
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
//! // every file Inflow writes is checked in strict mode
//! assert!(file.validate(&ValidateOptions::strict()).is_empty());
//! let bytes = file.to_checked_bytes().unwrap();
//! ```

mod controls;
mod encode;
mod error;
mod spec;

pub use error::BuildError;
pub use spec::{BatchSpec, Date, EntrySpec, FileHeaderSpec, PaymentType, TraceNumber};

use crate::codes::{SecCode, ServiceClass};
use crate::field::RecordBytes;
use crate::model::{Entry, NachaFile};
use encode::{batch_header, entry, file_header};

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
        controls::finish(header, self.batches)
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
