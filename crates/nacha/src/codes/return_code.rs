//! Return reason codes (`R01`–`R85`) carried in addenda type 99, with their
//! description, return window and return-rate category.
//!
//! Windows and categories follow the project's domain reference §3.1–3.3
//! (unauthorized metric: R05, R07, R10, R11, R29, R51; administrative
//! metric: R02, R03, R04).

use std::fmt;

/// How long the RDFI (or ODFI for dishonors) has to send the return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnWindow {
    /// Two banking days after the settlement date of the original entry.
    TwoBankingDays,
    /// Sixty calendar days after settlement (unauthorized consumer debits).
    SixtyCalendarDays,
    /// Five banking days after the return's settlement date (dishonors).
    FiveBankingDays,
    /// No fixed deadline; by agreement between ODFI and RDFI.
    ByAgreement,
    /// Not applicable to a collections originator (ENR, IAT gateway codes).
    NotApplicable,
}

/// Which return-rate metric a code counts toward (besides the overall rate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnCategory {
    /// Counts toward the 0.5 % unauthorized return rate.
    Unauthorized,
    /// Counts toward the 3 % administrative return rate.
    Administrative,
    /// Counts only toward the overall return rate.
    Other,
}

macro_rules! return_codes {
    ($( $v:ident = $n:literal, $w:ident, $c:ident, $d:literal; )*) => {
        /// A NACHA return reason code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[allow(missing_docs)]
        pub enum ReturnCode { $( $v, )* }

        impl ReturnCode {
            /// Every defined code, ascending.
            pub const ALL: &'static [ReturnCode] = &[ $( ReturnCode::$v, )* ];

            /// Numeric part (`R01` → 1).
            pub const fn number(self) -> u8 { match self { $( ReturnCode::$v => $n, )* } }

            /// Short description.
            pub const fn description(self) -> &'static str { match self { $( ReturnCode::$v => $d, )* } }

            /// Return window.
            pub const fn window(self) -> ReturnWindow { match self { $( ReturnCode::$v => ReturnWindow::$w, )* } }

            /// Return-rate category.
            pub const fn category(self) -> ReturnCategory { match self { $( ReturnCode::$v => ReturnCategory::$c, )* } }

            /// Looks a code up by its number.
            pub const fn from_number(n: u8) -> Option<ReturnCode> {
                match n { $( $n => Some(ReturnCode::$v), )* _ => None }
            }
        }
    };
}

return_codes! {
    R01 = 1, TwoBankingDays, Other, "Insufficient funds";
    R02 = 2, TwoBankingDays, Administrative, "Account closed";
    R03 = 3, TwoBankingDays, Administrative, "No account / unable to locate account";
    R04 = 4, TwoBankingDays, Administrative, "Invalid account number structure";
    R05 = 5, SixtyCalendarDays, Unauthorized, "Unauthorized debit to consumer account using corporate SEC code";
    R06 = 6, ByAgreement, Other, "Returned per ODFI request";
    R07 = 7, SixtyCalendarDays, Unauthorized, "Authorization revoked by customer";
    R08 = 8, TwoBankingDays, Other, "Payment stopped";
    R09 = 9, TwoBankingDays, Other, "Uncollected funds";
    R10 = 10, SixtyCalendarDays, Unauthorized, "Originator unknown or not authorized by receiver";
    R11 = 11, SixtyCalendarDays, Unauthorized, "Entry not in accordance with the terms of the authorization";
    R12 = 12, TwoBankingDays, Other, "Account sold to another DFI";
    R13 = 13, TwoBankingDays, Other, "Invalid ACH routing number";
    R14 = 14, TwoBankingDays, Other, "Representative payee deceased or unable to continue";
    R15 = 15, TwoBankingDays, Other, "Beneficiary or account holder deceased";
    R16 = 16, TwoBankingDays, Other, "Account frozen / entry returned per OFAC instruction";
    R17 = 17, TwoBankingDays, Other, "File record edit criteria / questionable entry";
    R18 = 18, TwoBankingDays, Other, "Improper effective entry date";
    R19 = 19, TwoBankingDays, Other, "Amount field error";
    R20 = 20, TwoBankingDays, Other, "Non-transaction account";
    R21 = 21, TwoBankingDays, Other, "Invalid company identification";
    R22 = 22, TwoBankingDays, Other, "Invalid individual ID number";
    R23 = 23, TwoBankingDays, Other, "Credit entry refused by receiver";
    R24 = 24, TwoBankingDays, Other, "Duplicate entry";
    R25 = 25, TwoBankingDays, Other, "Addenda error";
    R26 = 26, TwoBankingDays, Other, "Mandatory field error";
    R27 = 27, TwoBankingDays, Other, "Trace number error";
    R28 = 28, TwoBankingDays, Other, "Routing number check digit error";
    R29 = 29, TwoBankingDays, Unauthorized, "Corporate customer advises not authorized";
    R30 = 30, TwoBankingDays, Other, "RDFI not participant in check truncation program";
    R31 = 31, ByAgreement, Other, "Permissible return entry (CCD and CTX only)";
    R32 = 32, TwoBankingDays, Other, "RDFI non-settlement";
    R33 = 33, SixtyCalendarDays, Other, "Return of XCK entry";
    R34 = 34, TwoBankingDays, Other, "Limited participation DFI";
    R35 = 35, TwoBankingDays, Other, "Return of improper debit entry";
    R36 = 36, TwoBankingDays, Other, "Return of improper credit entry";
    R37 = 37, SixtyCalendarDays, Other, "Source document presented for payment";
    R38 = 38, SixtyCalendarDays, Other, "Stop payment on source document";
    R39 = 39, TwoBankingDays, Other, "Improper source document / source document presented";
    R40 = 40, NotApplicable, Other, "Return of ENR entry by federal government agency";
    R41 = 41, NotApplicable, Other, "Invalid transaction code (ENR)";
    R42 = 42, NotApplicable, Other, "Routing number or check digit error (ENR)";
    R43 = 43, NotApplicable, Other, "Invalid DFI account number (ENR)";
    R44 = 44, NotApplicable, Other, "Invalid individual ID number / identification number (ENR)";
    R45 = 45, NotApplicable, Other, "Invalid individual name / company name (ENR)";
    R46 = 46, NotApplicable, Other, "Invalid representative payee indicator (ENR)";
    R47 = 47, NotApplicable, Other, "Duplicate enrollment (ENR)";
    R50 = 50, NotApplicable, Other, "State law affecting RCK acceptance";
    R51 = 51, SixtyCalendarDays, Unauthorized, "Item related to RCK entry is ineligible or RCK entry is improper";
    R52 = 52, SixtyCalendarDays, Other, "Stop payment on item related to RCK entry";
    R53 = 53, SixtyCalendarDays, Other, "Item and RCK entry presented for payment";
    R61 = 61, FiveBankingDays, Other, "Misrouted return";
    R62 = 62, FiveBankingDays, Other, "Return of erroneous or reversing debit";
    R67 = 67, FiveBankingDays, Other, "Duplicate return";
    R68 = 68, FiveBankingDays, Other, "Untimely return";
    R69 = 69, FiveBankingDays, Other, "Field error(s)";
    R70 = 70, FiveBankingDays, Other, "Permissible return entry not accepted / return not requested by ODFI";
    R71 = 71, TwoBankingDays, Other, "Misrouted dishonored return";
    R72 = 72, TwoBankingDays, Other, "Untimely dishonored return";
    R73 = 73, TwoBankingDays, Other, "Timely original return";
    R74 = 74, TwoBankingDays, Other, "Corrected return";
    R75 = 75, TwoBankingDays, Other, "Return not a duplicate";
    R76 = 76, TwoBankingDays, Other, "No errors found";
    R77 = 77, TwoBankingDays, Other, "Non-acceptance of R62 dishonored return";
    R80 = 80, NotApplicable, Other, "IAT entry coding error";
    R81 = 81, NotApplicable, Other, "Non-participant in IAT program";
    R82 = 82, NotApplicable, Other, "Invalid foreign receiving DFI identification";
    R83 = 83, NotApplicable, Other, "Foreign receiving DFI unable to settle";
    R84 = 84, NotApplicable, Other, "Entry not processed by gateway";
    R85 = 85, TwoBankingDays, Other, "Incorrectly coded outbound international payment";
}

impl ReturnCode {
    /// Parses `Rnn`. Returns `None` for unassigned or malformed codes.
    pub fn parse(s: &str) -> Option<ReturnCode> {
        Self::from_bytes(s.as_bytes())
    }

    /// Parses `Rnn` from bytes.
    pub fn from_bytes(b: &[u8]) -> Option<ReturnCode> {
        match b {
            [b'R', d1, d2] if d1.is_ascii_digit() && d2.is_ascii_digit() => {
                Self::from_number((d1 - b'0') * 10 + (d2 - b'0'))
            }
            _ => None,
        }
    }

    /// `R61`, `R62`, `R67`–`R70`: dishonored return (ODFI → RDFI).
    pub const fn is_dishonored(self) -> bool {
        matches!(self.number(), 61 | 62 | 67..=70)
    }

    /// `R71`–`R77`: contested dishonored return (RDFI → ODFI).
    pub const fn is_contested(self) -> bool {
        matches!(self.number(), 71..=77)
    }

    /// The code as `Rnn`.
    pub fn as_str(self) -> String {
        format!("R{:02}", self.number())
    }
}

impl fmt::Display for ReturnCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "R{:02}", self.number())
    }
}

impl serde::Serialize for ReturnCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_assigned_codes_and_rejects_unassigned_ones() {
        assert_eq!(ReturnCode::parse("R01"), Some(ReturnCode::R01));
        assert_eq!(ReturnCode::parse("R85"), Some(ReturnCode::R85));
        assert_eq!(ReturnCode::parse("R48"), None);
        assert_eq!(ReturnCode::parse("R96"), None);
        assert_eq!(ReturnCode::parse("r01"), None);
    }

    #[test]
    fn unauthorized_codes_have_sixty_day_window_except_r29() {
        for c in [
            ReturnCode::R05,
            ReturnCode::R07,
            ReturnCode::R10,
            ReturnCode::R11,
            ReturnCode::R51,
        ] {
            assert_eq!(c.category(), ReturnCategory::Unauthorized);
            assert_eq!(c.window(), ReturnWindow::SixtyCalendarDays);
        }
        assert_eq!(ReturnCode::R29.category(), ReturnCategory::Unauthorized);
        assert_eq!(ReturnCode::R29.window(), ReturnWindow::TwoBankingDays);
    }

    #[test]
    fn classifies_dishonored_and_contested_codes() {
        assert!(ReturnCode::R68.is_dishonored());
        assert_eq!(ReturnCode::R68.window(), ReturnWindow::FiveBankingDays);
        assert!(ReturnCode::R72.is_contested());
        assert!(!ReturnCode::R01.is_dishonored());
        assert_eq!(ReturnCode::R07.to_string(), "R07");
    }
}
