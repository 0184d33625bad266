//! Notification-of-change codes (`C01`–`C14`, refused `C61`–`C69`) carried in
//! addenda type 98, the field(s) each one corrects, and a tolerant parser for
//! the 29-character corrected-data field.

use std::fmt;

/// A field of the original entry that a change code corrects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CorrectedField {
    /// DFI account number.
    AccountNumber,
    /// Routing number (RDFI identification + check digit).
    RoutingNumber,
    /// Individual name / receiving company name.
    Name,
    /// Transaction code (checking ↔ savings).
    TransactionCode,
    /// Individual identification number.
    IndividualId,
    /// Foreign receiving DFI identification (IAT).
    ForeignRdfi,
    /// Addenda format (nothing to apply).
    AddendaFormat,
    /// SEC code (outbound international payment).
    SecCode,
}

macro_rules! change_codes {
    ($( $v:ident = $n:literal, $d:literal, [$($f:ident),*]; )*) => {
        /// A NACHA change code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[allow(missing_docs)]
        pub enum ChangeCode { $( $v, )* }

        impl ChangeCode {
            /// Every defined code, ascending.
            pub const ALL: &'static [ChangeCode] = &[ $( ChangeCode::$v, )* ];
            /// Numeric part (`C01` → 1).
            pub const fn number(self) -> u8 { match self { $( ChangeCode::$v => $n, )* } }
            /// Short description.
            pub const fn description(self) -> &'static str { match self { $( ChangeCode::$v => $d, )* } }
            /// Fields of the original entry corrected by this code (empty
            /// for refused-NOC codes).
            pub const fn corrects(self) -> &'static [CorrectedField] {
                match self { $( ChangeCode::$v => &[$(CorrectedField::$f),*], )* }
            }
            /// Looks a code up by its number.
            pub const fn from_number(n: u8) -> Option<ChangeCode> {
                match n { $( $n => Some(ChangeCode::$v), )* _ => None }
            }
        }
    };
}

change_codes! {
    C01 = 1, "Incorrect DFI account number", [AccountNumber];
    C02 = 2, "Incorrect routing number", [RoutingNumber];
    C03 = 3, "Incorrect routing number and DFI account number", [RoutingNumber, AccountNumber];
    C04 = 4, "Incorrect individual name / receiving company name", [Name];
    C05 = 5, "Incorrect transaction code", [TransactionCode];
    C06 = 6, "Incorrect DFI account number and transaction code", [AccountNumber, TransactionCode];
    C07 = 7, "Incorrect routing number, DFI account number and transaction code", [RoutingNumber, AccountNumber, TransactionCode];
    C08 = 8, "Incorrect receiving DFI identification (IAT only)", [ForeignRdfi];
    C09 = 9, "Incorrect individual identification number", [IndividualId];
    C13 = 13, "Addenda format error", [AddendaFormat];
    C14 = 14, "Incorrect SEC code for outbound international payment", [SecCode];
    C61 = 61, "Misrouted notification of change", [];
    C62 = 62, "Incorrect trace number", [];
    C63 = 63, "Incorrect company identification number", [];
    C64 = 64, "Incorrect individual identification number / identification number", [];
    C65 = 65, "Incorrectly formatted corrected data", [];
    C66 = 66, "Incorrect discretionary data", [];
    C67 = 67, "Routing number not from original entry detail record", [];
    C68 = 68, "DFI account number not from original entry detail record", [];
    C69 = 69, "Incorrect transaction code", [];
}

impl ChangeCode {
    /// Parses `Cnn`; `None` for undefined codes.
    pub fn parse(s: &str) -> Option<ChangeCode> {
        Self::from_bytes(s.as_bytes())
    }

    /// Parses `Cnn` from bytes.
    pub fn from_bytes(b: &[u8]) -> Option<ChangeCode> {
        match b {
            [b'C', d1, d2] if d1.is_ascii_digit() && d2.is_ascii_digit() => {
                Self::from_number((d1 - b'0') * 10 + (d2 - b'0'))
            }
            _ => None,
        }
    }

    /// `C61`–`C69`: the ODFI refuses a NOC.
    pub const fn is_refused(self) -> bool {
        matches!(self.number(), 61..=69)
    }
}

impl fmt::Display for ChangeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "C{:02}", self.number())
    }
}

impl serde::Serialize for ChangeCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
