//! Field layout tables for every record type the crate understands. The
//! validator checks formats generically from these tables; record modules
//! use the same spans for their accessors.

use crate::field::Span;

/// What a field may contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Free alphanumeric text: any byte except control characters.
    Alpha,
    /// Digits only.
    Numeric,
    /// Digits, or all blank (optional numeric).
    NumericOrBlank,
    /// `YYMMDD` calendar date.
    Date,
    /// `YYMMDD`, or all blank.
    DateOrBlank,
    /// `HHMM`, or all blank.
    TimeOrBlank,
    /// Exactly these bytes.
    Const(&'static [u8]),
    /// Checked by a dedicated rule (codes, check digits, indicators).
    Special,
}

/// One field of a layout.
#[derive(Debug, Clone, Copy)]
pub struct FieldDef {
    /// Field name used in errors.
    pub name: &'static str,
    /// Position.
    pub span: Span,
    /// Format.
    pub kind: FieldKind,
}

const fn f(name: &'static str, from: usize, to: usize, kind: FieldKind) -> FieldDef {
    FieldDef {
        name,
        span: Span::pos(from, to),
        kind,
    }
}

use FieldKind::*;

/// Record type `1`.
#[allow(missing_docs)]
pub mod file_header {
    use super::*;
    pub const PRIORITY_CODE: FieldDef = f("priority code", 2, 3, Numeric);
    pub const IMMEDIATE_DESTINATION: FieldDef = f("immediate destination", 4, 13, Special);
    pub const IMMEDIATE_ORIGIN: FieldDef = f("immediate origin", 14, 23, Special);
    pub const FILE_CREATION_DATE: FieldDef = f("file creation date", 24, 29, Date);
    pub const FILE_CREATION_TIME: FieldDef = f("file creation time", 30, 33, TimeOrBlank);
    pub const FILE_ID_MODIFIER: FieldDef = f("file ID modifier", 34, 34, Special);
    pub const RECORD_SIZE: FieldDef = f("record size", 35, 37, Const(b"094"));
    pub const BLOCKING_FACTOR: FieldDef = f("blocking factor", 38, 39, Const(b"10"));
    pub const FORMAT_CODE: FieldDef = f("format code", 40, 40, Const(b"1"));
    pub const DESTINATION_NAME: FieldDef = f("immediate destination name", 41, 63, Alpha);
    pub const ORIGIN_NAME: FieldDef = f("immediate origin name", 64, 86, Alpha);
    pub const REFERENCE_CODE: FieldDef = f("reference code", 87, 94, Alpha);
    pub const ALL: &[FieldDef] = &[
        PRIORITY_CODE,
        IMMEDIATE_DESTINATION,
        IMMEDIATE_ORIGIN,
        FILE_CREATION_DATE,
        FILE_CREATION_TIME,
        FILE_ID_MODIFIER,
        RECORD_SIZE,
        BLOCKING_FACTOR,
        FORMAT_CODE,
        DESTINATION_NAME,
        ORIGIN_NAME,
        REFERENCE_CODE,
    ];
}

/// Record type `5` (all SEC codes except IAT).
#[allow(missing_docs)]
pub mod batch_header {
    use super::*;
    pub const SERVICE_CLASS_CODE: FieldDef = f("service class code", 2, 4, Special);
    pub const COMPANY_NAME: FieldDef = f("company name", 5, 20, Alpha);
    pub const COMPANY_DISCRETIONARY_DATA: FieldDef = f("company discretionary data", 21, 40, Alpha);
    pub const COMPANY_IDENTIFICATION: FieldDef = f("company identification", 41, 50, Alpha);
    pub const SEC_CODE: FieldDef = f("standard entry class code", 51, 53, Special);
    pub const COMPANY_ENTRY_DESCRIPTION: FieldDef = f("company entry description", 54, 63, Alpha);
    pub const COMPANY_DESCRIPTIVE_DATE: FieldDef = f("company descriptive date", 64, 69, Alpha);
    pub const EFFECTIVE_ENTRY_DATE: FieldDef = f("effective entry date", 70, 75, NumericOrBlank);
    pub const SETTLEMENT_DATE: FieldDef = f("settlement date", 76, 78, NumericOrBlank);
    pub const ORIGINATOR_STATUS_CODE: FieldDef = f("originator status code", 79, 79, Special);
    pub const ODFI_IDENTIFICATION: FieldDef = f("originating DFI identification", 80, 87, Numeric);
    pub const BATCH_NUMBER: FieldDef = f("batch number", 88, 94, Numeric);
    pub const ALL: &[FieldDef] = &[
        SERVICE_CLASS_CODE,
        COMPANY_NAME,
        COMPANY_DISCRETIONARY_DATA,
        COMPANY_IDENTIFICATION,
        SEC_CODE,
        COMPANY_ENTRY_DESCRIPTION,
        COMPANY_DESCRIPTIVE_DATE,
        EFFECTIVE_ENTRY_DATE,
        SETTLEMENT_DATE,
        ORIGINATOR_STATUS_CODE,
        ODFI_IDENTIFICATION,
        BATCH_NUMBER,
    ];
}

/// Record type `5` for IAT batches.
#[allow(missing_docs)]
pub mod iat_batch_header {
    use super::*;
    pub const IAT_INDICATOR: FieldDef = f("IAT indicator", 5, 20, Alpha);
    pub const FOREIGN_EXCHANGE_INDICATOR: FieldDef = f("foreign exchange indicator", 21, 22, Alpha);
    pub const FOREIGN_EXCHANGE_REFERENCE_INDICATOR: FieldDef =
        f("foreign exchange reference indicator", 23, 23, Alpha);
    pub const FOREIGN_EXCHANGE_REFERENCE: FieldDef = f("foreign exchange reference", 24, 38, Alpha);
    pub const ISO_DESTINATION_COUNTRY_CODE: FieldDef =
        f("ISO destination country code", 39, 40, Alpha);
    pub const ORIGINATOR_IDENTIFICATION: FieldDef = f("originator identification", 41, 50, Alpha);
    pub const ISO_ORIGINATING_CURRENCY_CODE: FieldDef =
        f("ISO originating currency code", 64, 66, Alpha);
    pub const ISO_DESTINATION_CURRENCY_CODE: FieldDef =
        f("ISO destination currency code", 67, 69, Alpha);
    pub const ALL: &[FieldDef] = &[
        batch_header::SERVICE_CLASS_CODE,
        IAT_INDICATOR,
        FOREIGN_EXCHANGE_INDICATOR,
        FOREIGN_EXCHANGE_REFERENCE_INDICATOR,
        FOREIGN_EXCHANGE_REFERENCE,
        ISO_DESTINATION_COUNTRY_CODE,
        ORIGINATOR_IDENTIFICATION,
        batch_header::SEC_CODE,
        batch_header::COMPANY_ENTRY_DESCRIPTION,
        ISO_ORIGINATING_CURRENCY_CODE,
        ISO_DESTINATION_CURRENCY_CODE,
        batch_header::EFFECTIVE_ENTRY_DATE,
        batch_header::SETTLEMENT_DATE,
        batch_header::ORIGINATOR_STATUS_CODE,
        batch_header::ODFI_IDENTIFICATION,
        batch_header::BATCH_NUMBER,
    ];
}

/// Record type `6` (PPD/CCD/WEB/TEL and other non-IAT, non-ADV layouts).
#[allow(missing_docs)]
pub mod entry_detail {
    use super::*;
    pub const TRANSACTION_CODE: FieldDef = f("transaction code", 2, 3, Special);
    pub const RDFI_IDENTIFICATION: FieldDef = f("RDFI identification", 4, 11, Numeric);
    pub const CHECK_DIGIT: FieldDef = f("RDFI check digit", 12, 12, Special);
    pub const DFI_ACCOUNT_NUMBER: FieldDef = f("DFI account number", 13, 29, Alpha);
    pub const AMOUNT: FieldDef = f("amount", 30, 39, Numeric);
    pub const IDENTIFICATION_NUMBER: FieldDef = f("identification number", 40, 54, Alpha);
    pub const INDIVIDUAL_NAME: FieldDef = f("individual name", 55, 76, Alpha);
    pub const DISCRETIONARY_DATA: FieldDef = f("discretionary data", 77, 78, Alpha);
    pub const ADDENDA_RECORD_INDICATOR: FieldDef = f("addenda record indicator", 79, 79, Special);
    pub const TRACE_NUMBER: FieldDef = f("trace number", 80, 94, Numeric);
    /// SHR entries: card expiration date `MMYY` in positions 40-43.
    pub const CARD_EXPIRATION_DATE: FieldDef = f("card expiration date", 40, 43, Special);
    pub const ALL: &[FieldDef] = &[
        TRANSACTION_CODE,
        RDFI_IDENTIFICATION,
        CHECK_DIGIT,
        DFI_ACCOUNT_NUMBER,
        AMOUNT,
        IDENTIFICATION_NUMBER,
        INDIVIDUAL_NAME,
        DISCRETIONARY_DATA,
        ADDENDA_RECORD_INDICATOR,
        TRACE_NUMBER,
    ];
}

/// Record type `6` in IAT batches.
#[allow(missing_docs)]
pub mod iat_entry_detail {
    use super::*;
    pub const NUMBER_OF_ADDENDA: FieldDef = f("number of addenda records", 13, 16, Numeric);
    pub const RESERVED: FieldDef = f("reserved", 17, 29, Alpha);
    pub const FOREIGN_ACCOUNT_NUMBER: FieldDef =
        f("foreign receiver's account number", 40, 74, Alpha);
    pub const GATEWAY_OFAC: FieldDef = f("gateway OFAC screening indicator", 77, 77, Alpha);
    pub const SECONDARY_OFAC: FieldDef = f("secondary OFAC screening indicator", 78, 78, Alpha);
    pub const ALL: &[FieldDef] = &[
        entry_detail::TRANSACTION_CODE,
        entry_detail::RDFI_IDENTIFICATION,
        entry_detail::CHECK_DIGIT,
        NUMBER_OF_ADDENDA,
        RESERVED,
        entry_detail::AMOUNT,
        FOREIGN_ACCOUNT_NUMBER,
        GATEWAY_OFAC,
        SECONDARY_OFAC,
        entry_detail::ADDENDA_RECORD_INDICATOR,
        entry_detail::TRACE_NUMBER,
    ];
}

/// Record type `6` in ADV batches.
#[allow(missing_docs)]
pub mod adv_entry_detail {
    use super::*;
    pub const DFI_ACCOUNT_NUMBER: FieldDef = f("DFI account number", 13, 27, Alpha);
    pub const AMOUNT: FieldDef = f("amount", 28, 39, Numeric);
    pub const ADVICE_ROUTING_NUMBER: FieldDef = f("advice routing number", 40, 48, Numeric);
    pub const FILE_IDENTIFICATION: FieldDef = f("file identification", 49, 53, Alpha);
    pub const ACH_OPERATOR_DATA: FieldDef = f("ACH operator data", 54, 54, Alpha);
    pub const INDIVIDUAL_NAME: FieldDef = f("individual name", 55, 76, Alpha);
    pub const DISCRETIONARY_DATA: FieldDef = f("discretionary data", 77, 78, Alpha);
    pub const ACH_OPERATOR_ROUTING: FieldDef = f("ACH operator routing number", 80, 87, Numeric);
    pub const JULIAN_DAY: FieldDef = f("julian day", 88, 90, Numeric);
    pub const SEQUENCE_NUMBER: FieldDef = f("sequence number", 91, 94, Numeric);
    pub const ALL: &[FieldDef] = &[
        entry_detail::TRANSACTION_CODE,
        entry_detail::RDFI_IDENTIFICATION,
        entry_detail::CHECK_DIGIT,
        DFI_ACCOUNT_NUMBER,
        AMOUNT,
        ADVICE_ROUTING_NUMBER,
        FILE_IDENTIFICATION,
        ACH_OPERATOR_DATA,
        INDIVIDUAL_NAME,
        DISCRETIONARY_DATA,
        entry_detail::ADDENDA_RECORD_INDICATOR,
        ACH_OPERATOR_ROUTING,
        JULIAN_DAY,
        SEQUENCE_NUMBER,
    ];
}

/// Record type `8`.
#[allow(missing_docs)]
pub mod batch_control {
    use super::*;
    pub const SERVICE_CLASS_CODE: FieldDef = f("service class code", 2, 4, Special);
    pub const ENTRY_ADDENDA_COUNT: FieldDef = f("entry/addenda count", 5, 10, Numeric);
    pub const ENTRY_HASH: FieldDef = f("entry hash", 11, 20, Numeric);
    pub const TOTAL_DEBIT: FieldDef = f("total debit entry dollar amount", 21, 32, Numeric);
    pub const TOTAL_CREDIT: FieldDef = f("total credit entry dollar amount", 33, 44, Numeric);
    pub const COMPANY_IDENTIFICATION: FieldDef = f("company identification", 45, 54, Alpha);
    pub const MESSAGE_AUTHENTICATION_CODE: FieldDef =
        f("message authentication code", 55, 73, Alpha);
    pub const RESERVED: FieldDef = f("reserved", 74, 79, Alpha);
    pub const ODFI_IDENTIFICATION: FieldDef = f("originating DFI identification", 80, 87, Numeric);
    pub const BATCH_NUMBER: FieldDef = f("batch number", 88, 94, Numeric);
    pub const ALL: &[FieldDef] = &[
        SERVICE_CLASS_CODE,
        ENTRY_ADDENDA_COUNT,
        ENTRY_HASH,
        TOTAL_DEBIT,
        TOTAL_CREDIT,
        COMPANY_IDENTIFICATION,
        MESSAGE_AUTHENTICATION_CODE,
        RESERVED,
        ODFI_IDENTIFICATION,
        BATCH_NUMBER,
    ];
}

/// Record type `8` in ADV batches.
#[allow(missing_docs)]
pub mod adv_batch_control {
    use super::*;
    pub const TOTAL_DEBIT: FieldDef = f("total debit entry dollar amount", 21, 40, Numeric);
    pub const TOTAL_CREDIT: FieldDef = f("total credit entry dollar amount", 41, 60, Numeric);
    pub const ACH_OPERATOR_DATA: FieldDef = f("ACH operator data", 61, 79, Alpha);
    pub const ALL: &[FieldDef] = &[
        batch_control::SERVICE_CLASS_CODE,
        batch_control::ENTRY_ADDENDA_COUNT,
        batch_control::ENTRY_HASH,
        TOTAL_DEBIT,
        TOTAL_CREDIT,
        ACH_OPERATOR_DATA,
        batch_control::ODFI_IDENTIFICATION,
        batch_control::BATCH_NUMBER,
    ];
}

/// Record type `9`.
#[allow(missing_docs)]
pub mod file_control {
    use super::*;
    pub const BATCH_COUNT: FieldDef = f("batch count", 2, 7, Numeric);
    pub const BLOCK_COUNT: FieldDef = f("block count", 8, 13, Numeric);
    pub const ENTRY_ADDENDA_COUNT: FieldDef = f("entry/addenda count", 14, 21, Numeric);
    pub const ENTRY_HASH: FieldDef = f("entry hash", 22, 31, Numeric);
    pub const TOTAL_DEBIT: FieldDef = f("total debit entry dollar amount in file", 32, 43, Numeric);
    pub const TOTAL_CREDIT: FieldDef =
        f("total credit entry dollar amount in file", 44, 55, Numeric);
    pub const RESERVED: FieldDef = f("reserved", 56, 94, Alpha);
    pub const ALL: &[FieldDef] = &[
        BATCH_COUNT,
        BLOCK_COUNT,
        ENTRY_ADDENDA_COUNT,
        ENTRY_HASH,
        TOTAL_DEBIT,
        TOTAL_CREDIT,
        RESERVED,
    ];
}

/// Record type `9` in files made of ADV batches.
#[allow(missing_docs)]
pub mod adv_file_control {
    use super::*;
    pub const TOTAL_DEBIT: FieldDef = f("total debit entry dollar amount in file", 32, 51, Numeric);
    pub const TOTAL_CREDIT: FieldDef =
        f("total credit entry dollar amount in file", 52, 71, Numeric);
    pub const RESERVED: FieldDef = f("reserved", 72, 94, Alpha);
    pub const ALL: &[FieldDef] = &[
        file_control::BATCH_COUNT,
        file_control::BLOCK_COUNT,
        file_control::ENTRY_ADDENDA_COUNT,
        file_control::ENTRY_HASH,
        TOTAL_DEBIT,
        TOTAL_CREDIT,
        RESERVED,
    ];
}
