//! Addenda records (type `7`): payment-related information (05), POS/SHR/MTE
//! terminal data (02), notifications of change (98, incl. refused NOCs
//! C61-C69), returns (99, incl. dishonored R61-R70 and contested R71-R77
//! layouts) and IAT addenda (10-18). Unknown addenda types are kept raw.

use super::layout::{FieldDef, FieldKind::*};
use super::{record_wrapper, RawRecord};
use crate::codes::{ChangeCode, CorrectedData, Correction, ReturnCode};
use crate::field::Span;

/// The addenda record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Addenda(pub(crate) RawRecord);
record_wrapper!(Addenda);

/// Which layout an addenda record uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AddendaKind {
    /// 02: POS/SHR/MTE terminal information.
    Terminal,
    /// 05: payment related information.
    PaymentRelated,
    /// 98: notification of change.
    Noc,
    /// 98 with a refused code C61-C69.
    RefusedNoc,
    /// 99: return.
    Return,
    /// 99 with a dishonored code R61, R62, R67-R70.
    DishonoredReturn,
    /// 99 with a contested code R71-R77.
    ContestedReturn,
    /// 10-18: IAT addenda.
    Iat(u8),
    /// Any other type code, kept raw.
    Unknown,
}

const fn f(name: &'static str, from: usize, to: usize, kind: super::layout::FieldKind) -> FieldDef {
    FieldDef {
        name,
        span: Span::pos(from, to),
        kind,
    }
}

/// Addenda type code (positions 2-3), shared by all layouts.
pub const TYPE_CODE: FieldDef = f("addenda type code", 2, 3, Special);
/// Entry detail sequence number (positions 88-94) for 05 and IAT addenda.
pub const ENTRY_SEQUENCE: FieldDef = f("entry detail sequence number", 88, 94, Numeric);
/// Addenda sequence number (positions 84-87) for 05, 17 and 18.
pub const ADDENDA_SEQUENCE: FieldDef = f("addenda sequence number", 84, 87, Numeric);
/// Return/NOC code (positions 4-6).
pub const CODE: FieldDef = f("reason code", 4, 6, Special);
/// Original entry trace (07-21) in 98/99.
pub const ORIGINAL_TRACE: FieldDef = f("original entry trace number", 7, 21, Numeric);
/// Original RDFI (28-35) in 98/99.
pub const ORIGINAL_RDFI: FieldDef = f("original receiving DFI identification", 28, 35, Alpha);
/// Trace number (80-94) in 02/98/99.
pub const TRACE: FieldDef = f("trace number", 80, 94, Numeric);

/// Field layouts (besides the type code) per addenda kind.
pub fn layout(kind: AddendaKind) -> &'static [FieldDef] {
    match kind {
        AddendaKind::PaymentRelated => {
            const {
                &[
                    f("payment related information", 4, 83, Alpha),
                    ADDENDA_SEQUENCE,
                    ENTRY_SEQUENCE,
                ]
            }
        }
        AddendaKind::Terminal => {
            const {
                &[
                    f("reference information one", 4, 10, Alpha),
                    f("reference information two", 11, 13, Alpha),
                    f("terminal identification code", 14, 19, Alpha),
                    f("transaction serial number", 20, 25, Alpha),
                    f("transaction date", 26, 29, Alpha),
                    f("authorization code or card expiration date", 30, 35, Alpha),
                    f("terminal location", 36, 62, Alpha),
                    f("terminal city", 63, 77, Alpha),
                    f("terminal state", 78, 79, Alpha),
                    TRACE,
                ]
            }
        }
        AddendaKind::Noc => {
            const {
                &[
                    CODE,
                    ORIGINAL_TRACE,
                    f("reserved", 22, 27, Alpha),
                    ORIGINAL_RDFI,
                    f("corrected data", 36, 64, Alpha),
                    f("reserved", 65, 79, Alpha),
                    TRACE,
                ]
            }
        }
        AddendaKind::RefusedNoc => {
            const {
                &[
                    CODE,
                    ORIGINAL_TRACE,
                    ORIGINAL_RDFI,
                    f("corrected data", 36, 64, Alpha),
                    f("change code", 65, 67, Alpha),
                    f("trace sequence number", 68, 74, NumericOrBlank),
                    TRACE,
                ]
            }
        }
        AddendaKind::Return => {
            const {
                &[
                    CODE,
                    ORIGINAL_TRACE,
                    f("date of death", 22, 27, DateOrBlank),
                    ORIGINAL_RDFI,
                    f("addenda information", 36, 79, Alpha),
                    TRACE,
                ]
            }
        }
        AddendaKind::DishonoredReturn => {
            const {
                &[
                    CODE,
                    ORIGINAL_TRACE,
                    ORIGINAL_RDFI,
                    f("return trace number", 39, 53, Alpha),
                    f("return settlement date", 54, 56, Alpha),
                    f("return reason code", 57, 58, Alpha),
                    f("addenda information", 59, 79, Alpha),
                    TRACE,
                ]
            }
        }
        AddendaKind::ContestedReturn => {
            const {
                &[
                    CODE,
                    ORIGINAL_TRACE,
                    f("date original entry returned", 22, 27, Alpha),
                    ORIGINAL_RDFI,
                    f("original settlement date", 36, 38, Alpha),
                    f("return trace number", 39, 53, Alpha),
                    f("return settlement date", 54, 56, Alpha),
                    f("return reason code", 57, 58, Alpha),
                    f("dishonored return trace number", 59, 73, Alpha),
                    f("dishonored return settlement date", 74, 76, Alpha),
                    f("dishonored return reason code", 77, 78, Alpha),
                    TRACE,
                ]
            }
        }
        AddendaKind::Iat(t) => iat_layout(t),
        AddendaKind::Unknown => const { &[f("addenda information", 4, 94, Alpha)] },
    }
}

fn iat_layout(t: u8) -> &'static [FieldDef] {
    match t {
        10 => {
            const {
                &[
                    f("transaction type code", 4, 6, Alpha),
                    f("foreign payment amount", 7, 24, NumericOrBlank),
                    f("foreign trace number", 25, 46, Alpha),
                    f("name", 47, 81, Alpha),
                    ENTRY_SEQUENCE,
                ]
            }
        }
        11 => {
            const {
                &[
                    f("originator name", 4, 38, Alpha),
                    f("originator street address", 39, 73, Alpha),
                    ENTRY_SEQUENCE,
                ]
            }
        }
        12 => {
            const {
                &[
                    f("originator city & state/province", 4, 38, Alpha),
                    f("originator country & postal code", 39, 73, Alpha),
                    ENTRY_SEQUENCE,
                ]
            }
        }
        13 => {
            const {
                &[
                    f("ODFI name", 4, 38, Alpha),
                    f("ODFI identification number qualifier", 39, 40, Alpha),
                    f("ODFI identification", 41, 74, Alpha),
                    f("ODFI branch country code", 75, 77, Alpha),
                    ENTRY_SEQUENCE,
                ]
            }
        }
        14 => {
            const {
                &[
                    f("RDFI name", 4, 38, Alpha),
                    f("RDFI identification number qualifier", 39, 40, Alpha),
                    f("RDFI identification", 41, 74, Alpha),
                    f("RDFI branch country code", 75, 77, Alpha),
                    ENTRY_SEQUENCE,
                ]
            }
        }
        15 => {
            const {
                &[
                    f("receiver identification number", 4, 18, Alpha),
                    f("receiver street address", 19, 53, Alpha),
                    ENTRY_SEQUENCE,
                ]
            }
        }
        16 => {
            const {
                &[
                    f("receiver city & state/province", 4, 38, Alpha),
                    f("receiver country & postal code", 39, 73, Alpha),
                    ENTRY_SEQUENCE,
                ]
            }
        }
        17 => {
            const {
                &[
                    f("payment related information", 4, 83, Alpha),
                    ADDENDA_SEQUENCE,
                    ENTRY_SEQUENCE,
                ]
            }
        }
        _ => {
            const {
                &[
                    f("foreign correspondent bank name", 4, 38, Alpha),
                    f(
                        "foreign correspondent bank identification number qualifier",
                        39,
                        40,
                        Alpha,
                    ),
                    f(
                        "foreign correspondent bank identification number",
                        41,
                        74,
                        Alpha,
                    ),
                    f(
                        "foreign correspondent bank branch country code",
                        75,
                        77,
                        Alpha,
                    ),
                    ADDENDA_SEQUENCE,
                    ENTRY_SEQUENCE,
                ]
            }
        }
    }
}

/// Return details from an addenda 99.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReturnInfo {
    /// Code as written (`R01`).
    pub code_text: String,
    /// Parsed code, if assigned.
    pub code: Option<ReturnCode>,
    /// Trace number of the original forward entry.
    pub original_trace: String,
    /// Original RDFI identification.
    pub original_rdfi: String,
    /// Date of death (R14/R15), if present.
    pub date_of_death: Option<String>,
    /// Free addenda information.
    pub addenda_information: String,
    /// Trace number of the return entry.
    pub trace_number: String,
}

/// Notification-of-change details from an addenda 98.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NocInfo {
    /// Code as written (`C01`).
    pub code_text: String,
    /// Parsed code, if defined.
    pub code: Option<ChangeCode>,
    /// Trace number of the original forward entry.
    pub original_trace: String,
    /// Original RDFI identification.
    pub original_rdfi: String,
    /// The raw corrected data (trimmed).
    pub corrected_data: String,
    /// Parsed correction, when the code is known and the data parses.
    pub correction: Option<Correction>,
    /// For refused NOCs: the change code of the NOC being refused.
    pub refused_change_code: Option<String>,
    /// Trace number of the NOC entry.
    pub trace_number: String,
}

impl Addenda {
    /// Two-digit type code (None if not digits).
    pub fn type_code(&self) -> Option<u8> {
        self.0.num(TYPE_CODE.span).map(|v| v as u8)
    }

    /// The layout this addenda uses.
    pub fn kind(&self) -> AddendaKind {
        let code = self.0.field(CODE.span);
        match self.type_code() {
            Some(2) => AddendaKind::Terminal,
            Some(5) => AddendaKind::PaymentRelated,
            Some(98) => match ChangeCode::from_bytes(code) {
                Some(c) if c.is_refused() => AddendaKind::RefusedNoc,
                _ => AddendaKind::Noc,
            },
            Some(99) => match ReturnCode::from_bytes(code) {
                Some(c) if c.is_dishonored() => AddendaKind::DishonoredReturn,
                Some(c) if c.is_contested() => AddendaKind::ContestedReturn,
                _ => AddendaKind::Return,
            },
            Some(t @ 10..=18) => AddendaKind::Iat(t),
            _ => AddendaKind::Unknown,
        }
    }

    /// Payment related information (05, 17).
    pub fn payment_related_information(&self) -> String {
        self.0.text(Span::pos(4, 83))
    }

    /// Entry detail sequence number (positions 88-94).
    pub fn entry_sequence_number(&self) -> Option<u64> {
        self.0.num(ENTRY_SEQUENCE.span)
    }

    /// Return details, if this is an addenda 99.
    pub fn return_info(&self) -> Option<ReturnInfo> {
        if self.type_code() != Some(99) {
            return None;
        }
        let code_text = self.0.text(CODE.span);
        let kind = self.kind();
        let dod = self.0.text(Span::pos(22, 27));
        Some(ReturnInfo {
            code: ReturnCode::parse(&code_text),
            code_text,
            original_trace: self.0.text(ORIGINAL_TRACE.span),
            original_rdfi: self.0.text(ORIGINAL_RDFI.span),
            date_of_death: (kind == AddendaKind::Return && !dod.trim().is_empty()).then_some(dod),
            addenda_information: match kind {
                AddendaKind::Return => self.0.text(Span::pos(36, 79)),
                AddendaKind::DishonoredReturn => self.0.text(Span::pos(59, 79)),
                _ => String::new(),
            },
            trace_number: self.0.text(TRACE.span),
        })
    }

    /// NOC details, if this is an addenda 98.
    pub fn noc_info(&self) -> Option<NocInfo> {
        if self.type_code() != Some(98) {
            return None;
        }
        let code_text = self.0.text(CODE.span);
        let code = ChangeCode::parse(&code_text);
        let raw_data = self.0.field(Span::pos(36, 64));
        Some(NocInfo {
            correction: code.and_then(|c| CorrectedData::parse(c, raw_data).ok()),
            code,
            code_text,
            original_trace: self.0.text(ORIGINAL_TRACE.span),
            original_rdfi: self.0.text(ORIGINAL_RDFI.span),
            corrected_data: crate::field::trimmed(raw_data).into_owned(),
            refused_change_code: code
                .filter(|c| c.is_refused())
                .map(|_| self.0.text(Span::pos(65, 67))),
            trace_number: self.0.text(TRACE.span),
        })
    }
}
