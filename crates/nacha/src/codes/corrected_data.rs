//! Parser for the corrected-data field (addenda 98 positions 36-64) of a
//! notification of change.
//!
//! Layouts (relative positions within the 29-character field): C01 account
//! 1-17; C02 routing 1-9; C03 routing 1-9, account 13-29; C04 name 1-22; C05
//! transaction code 1-2; C06 account 1-17, transaction code 21-22; C07
//! routing 1-9, account 10-26, transaction code 27-28; C09 ID 1-22. C03, C06
//! and C07 are parsed at fixed positions first; if that fails, the field is
//! split on whitespace (some writers pad with a variable number of blanks).

use super::change_code::ChangeCode;
use super::transaction_code::TransactionCode;
use crate::routing::RoutingNumber;

/// The correction a NOC asks the originator to apply.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Correction {
    /// New routing number (C02, C03, C07).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routing: Option<RoutingNumber>,
    /// New DFI account number (C01, C03, C06, C07).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// New transaction code (C05, C06, C07).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction_code: Option<TransactionCode>,
    /// New individual / company name (C04).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New individual identification number (C09).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub individual_id: Option<String>,
    /// Raw corrected data for codes with nothing structured to apply
    /// (C08, C13, C14, refused codes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other: Option<String>,
}

/// Why corrected data could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CorrectedDataError {
    /// The field is blank where the code requires data.
    #[error("corrected data for {0} is blank")]
    Blank(ChangeCode),
    /// A routing number in the data is malformed or fails its check digit.
    #[error("corrected data for {code}: {source}")]
    Routing {
        /// Change code.
        code: ChangeCode,
        /// Underlying routing error.
        source: crate::routing::RoutingError,
    },
    /// The transaction code part is not a valid transaction code.
    #[error("corrected data for {code}: invalid transaction code {found:?}")]
    TransactionCode {
        /// Change code.
        code: ChangeCode,
        /// Text found.
        found: String,
    },
    /// Data does not have the parts the code requires.
    #[error("corrected data for {code} is malformed: {found:?}")]
    Malformed {
        /// Change code.
        code: ChangeCode,
        /// Text found.
        found: String,
    },
}

/// Entry point for corrected-data parsing.
pub struct CorrectedData;

fn slice(raw: &[u8], from: usize, to: usize) -> &[u8] {
    let end = to.min(raw.len());
    let start = (from - 1).min(end);
    &raw[start..end]
}

fn txt(b: &[u8]) -> String {
    crate::field::trimmed(b).into_owned()
}

impl CorrectedData {
    /// Parses `raw` (the 29-byte corrected-data field; shorter input is
    /// treated as space-padded) for change code `code`.
    pub fn parse(code: ChangeCode, raw: &[u8]) -> Result<Correction, CorrectedDataError> {
        use ChangeCode::*;
        let all = txt(raw);
        let needs_data = !matches!(code, C13 | C14) && !code.is_refused();
        if all.is_empty() && needs_data {
            return Err(CorrectedDataError::Blank(code));
        }
        let routing = |b: &[u8]| {
            RoutingNumber::from_bytes(b)
                .map_err(|source| CorrectedDataError::Routing { code, source })
        };
        let tx = |b: &[u8]| {
            TransactionCode::from_bytes(b)
                .filter(|t| t.is_known())
                .ok_or_else(|| CorrectedDataError::TransactionCode {
                    code,
                    found: String::from_utf8_lossy(b).into_owned(),
                })
        };
        let mut c = Correction::default();
        match code {
            C01 => c.account = Some(txt(slice(raw, 1, 17))),
            C02 => c.routing = Some(routing(crate::field::trimmed(slice(raw, 1, 9)).as_bytes())?),
            C04 => c.name = Some(txt(slice(raw, 1, 22))),
            C05 => {
                c.transaction_code = Some(tx(crate::field::trimmed(slice(raw, 1, 2)).as_bytes())?)
            }
            C09 => c.individual_id = Some(txt(slice(raw, 1, 22))),
            C03 => {
                let fixed = routing(slice(raw, 1, 9))
                    .ok()
                    .zip(Some(txt(slice(raw, 13, 29))));
                let (r, a) = match fixed {
                    Some((r, a)) if !a.is_empty() && is_blank_or_short(slice(raw, 10, 12)) => {
                        (r, a)
                    }
                    _ => {
                        let parts: Vec<&str> = all.split_whitespace().collect();
                        match parts.as_slice() {
                            [r, a] => (routing(r.as_bytes())?, (*a).to_string()),
                            _ => return Err(malformed(code, &all)),
                        }
                    }
                };
                c.routing = Some(r);
                c.account = Some(a);
            }
            C06 => {
                let fixed = tx(crate::field::trimmed(slice(raw, 21, 22)).as_bytes()).ok();
                let acct = txt(slice(raw, 1, 17));
                match fixed {
                    Some(t) if !acct.is_empty() && is_blank_or_short(slice(raw, 18, 20)) => {
                        c.account = Some(acct);
                        c.transaction_code = Some(t);
                    }
                    _ => {
                        let parts: Vec<&str> = all.split_whitespace().collect();
                        match parts.as_slice() {
                            [a, t] => {
                                c.account = Some((*a).to_string());
                                c.transaction_code = Some(tx(t.as_bytes())?);
                            }
                            _ => return Err(malformed(code, &all)),
                        }
                    }
                }
            }
            C07 => {
                let fixed = routing(slice(raw, 1, 9))
                    .ok()
                    .zip(tx(crate::field::trimmed(slice(raw, 27, 28)).as_bytes()).ok());
                let acct = txt(slice(raw, 10, 26));
                match fixed {
                    Some((r, t)) if !acct.is_empty() && !acct.starts_with(' ') => {
                        c.routing = Some(r);
                        c.account = Some(acct);
                        c.transaction_code = Some(t);
                    }
                    _ => {
                        let parts: Vec<&str> = all.split_whitespace().collect();
                        match parts.as_slice() {
                            [r, a, t] => {
                                c.routing = Some(routing(r.as_bytes())?);
                                c.account = Some((*a).to_string());
                                c.transaction_code = Some(tx(t.as_bytes())?);
                            }
                            [ra, t] if ra.len() > 9 && ra.is_char_boundary(9) => {
                                c.routing = Some(routing(&ra.as_bytes()[..9])?);
                                c.account = Some(ra[9..].to_string());
                                c.transaction_code = Some(tx(t.as_bytes())?);
                            }
                            _ => return Err(malformed(code, &all)),
                        }
                    }
                }
            }
            _ => c.other = Some(all),
        }
        Ok(c)
    }
}

fn is_blank_or_short(b: &[u8]) -> bool {
    crate::field::is_blank(b)
}

fn malformed(code: ChangeCode, found: &str) -> CorrectedDataError {
    CorrectedDataError::Malformed {
        code,
        found: found.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pad(s: &str) -> Vec<u8> {
        format!("{s:<29}").into_bytes()
    }

    #[test]
    fn parses_c01_account() {
        let c = CorrectedData::parse(ChangeCode::C01, &pad("1918171614")).unwrap();
        assert_eq!(c.account.as_deref(), Some("1918171614"));
    }

    #[test]
    fn parses_c03_at_fixed_positions() {
        let c = CorrectedData::parse(ChangeCode::C03, &pad("231380104   12345678")).unwrap();
        assert_eq!(c.routing.unwrap().as_str(), "231380104");
        assert_eq!(c.account.as_deref(), Some("12345678"));
    }

    #[test]
    fn parses_c03_with_variable_padding_by_whitespace_split() {
        let c = CorrectedData::parse(ChangeCode::C03, &pad("231380104 123")).unwrap();
        assert_eq!(c.account.as_deref(), Some("123"));
    }

    #[test]
    fn parses_c06_fixed_and_split() {
        let c = CorrectedData::parse(ChangeCode::C06, &pad("12345678901234567   37")).unwrap();
        assert_eq!(c.account.as_deref(), Some("12345678901234567"));
        assert_eq!(c.transaction_code, Some(TransactionCode(37)));
        let c = CorrectedData::parse(ChangeCode::C06, &pad("4455 32")).unwrap();
        assert_eq!(c.account.as_deref(), Some("4455"));
        assert_eq!(c.transaction_code, Some(TransactionCode(32)));
    }

    #[test]
    fn parses_c07_fixed_and_split() {
        let c =
            CorrectedData::parse(ChangeCode::C07, &pad("23138010412345678901234567 27")).unwrap();
        assert_eq!(c.routing.unwrap().as_str(), "231380104");
        assert_eq!(c.account.as_deref(), Some("12345678901234567"));
        assert_eq!(c.transaction_code, Some(TransactionCode(27)));
        let c = CorrectedData::parse(ChangeCode::C07, &pad("231380104 999 37")).unwrap();
        assert_eq!(c.account.as_deref(), Some("999"));
        assert_eq!(c.transaction_code, Some(TransactionCode(37)));
    }

    #[test]
    fn rejects_c02_with_bad_check_digit() {
        assert!(matches!(
            CorrectedData::parse(ChangeCode::C02, &pad("231380105")),
            Err(CorrectedDataError::Routing { .. })
        ));
    }

    #[test]
    fn rejects_blank_data_for_c01() {
        assert_eq!(
            CorrectedData::parse(ChangeCode::C01, &pad("")),
            Err(CorrectedDataError::Blank(ChangeCode::C01))
        );
    }
}
