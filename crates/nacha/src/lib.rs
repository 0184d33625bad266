//! # inflow-nacha
//!
//! A fast, strict, standalone reader, writer and validator for NACHA ACH
//! files: forward entries (PPD, CCD, WEB, TEL debits, credits and
//! prenotes), returns (addenda 99 incl. dishonored and contested layouts)
//! and notifications of change (COR batches, addenda 98, refused NOCs).
//!
//! * Build and write: [`FileBuilder`] → [`NachaFile::write_to`] / [`NachaFile::to_bytes`].
//! * Read: [`read`] (whole file), [`reader::records`] / [`reader::batches`] (streaming).
//! * Validate: [`validate()`] (single pass over bytes) or [`NachaFile::validate`];
//!   findings are errors or warnings ([`Severity`]); [`ValidateOptions::strict`]
//!   makes every warning an error (used for every file Inflow writes,
//!   [`NachaFile::to_checked_bytes`]).
//! * Split entries into batches and files that fit the control fields:
//!   [`plan::plan`] ([`limits`] lists the field limits).
//! * Codes: [`ReturnCode`], [`ChangeCode`], [`CorrectedData`].
//! * CLI reports: [`report::inspect`], [`report::validate_report`].
#![deny(missing_docs)]

pub mod builder;
pub mod codes;
pub mod field;
pub mod limits;
pub mod model;
pub mod plan;
pub mod reader;
pub mod record;
pub mod report;
pub mod routing;
pub mod validate;
pub mod writer;

pub use builder::{
    BatchBuilder, BatchSpec, BuildError, Date, EntrySpec, FileBuilder, FileHeaderSpec, PaymentType,
    TraceNumber,
};
pub use codes::{
    ChangeCode, CorrectedData, CorrectedField, Correction, ReservedDescription, ReturnCategory,
    ReturnCode, ReturnWindow, SecCode, ServiceClass, TransactionCode,
};
pub use model::{Batch, Entry, NachaFile};
pub use reader::{read, read_from, read_validated, ReadError};
pub use record::{NocInfo, RecordKind, ReturnInfo};
pub use routing::{RoutingError, RoutingNumber};
pub use validate::{validate, Rule, Severity, ValidateOptions, ValidationError};
