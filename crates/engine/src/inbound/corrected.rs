//! Sealing a notification of change's corrected data.
//!
//! C01, C03, C06 and C07 carry a new DFI account number in their corrected
//! data (and a refused or unreadable NOC may carry one too). Inflow keeps
//! the field as received only sealed (AES-256-GCM under the master key, the
//! row id as associated data), and everywhere else — the collection row,
//! its API view, events and webhooks, the inbound entry log — a masked
//! copy: the account number as `****0001`, with its keyed fingerprint in
//! the structured [`NocCorrection`]. Routing numbers, transaction codes,
//! names and identification numbers stay readable.

use inflow_core::bank::{AccountNumber, AccountType};
use inflow_core::crypto::Vault;
use inflow_core::noc::{MaskedAccount, NocCorrection};

/// Codes whose corrected data never holds an account number: shown as received.
const WITHOUT_ACCOUNT: &[&str] = &["C02", "C04", "C05", "C09", "C13", "C14"];

/// A NOC's corrected data as Inflow keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedCorrectedData {
    /// The data as received with any account number masked.
    pub masked: String,
    /// The data as received, sealed, and its non-secret parts.
    pub correction: NocCorrection,
}

/// Parse corrected data as stored (the field trimmed) for `code`; `None`
/// for unknown codes and data that does not parse.
pub fn parse_stored(code: &str, raw: &str) -> Option<nacha::Correction> {
    let code = nacha::ChangeCode::parse(code.trim())?;
    nacha::CorrectedData::parse(code, format!("{raw:<29}").as_bytes()).ok()
}

/// The account number in a correction, as Inflow stores account numbers
/// (upper case when it is a valid one).
fn account_text(c: &nacha::Correction) -> Option<String> {
    let a = c.account.as_deref()?.trim();
    Some(match AccountNumber::parse("correctedData", a) {
        Ok(n) => n.expose().to_owned(),
        Err(_) => a.to_ascii_uppercase(),
    })
}

fn last4(s: &str) -> String {
    let chars: Vec<char> = s.chars().filter(|c| !c.is_whitespace()).collect();
    chars[chars.len().saturating_sub(4)..].iter().collect()
}

/// `raw` with any account number masked. Parsed data is written back
/// part by part (routing, `****` + last 4, transaction code, one space
/// apart); data that may hold an account number but cannot be read is
/// reduced to `****` and its last 4 characters.
pub fn mask_corrected_data(code: &str, raw: &str, parsed: Option<&nacha::Correction>) -> String {
    let raw = raw.trim();
    if WITHOUT_ACCOUNT.contains(&code.trim()) {
        return raw.to_owned();
    }
    match parsed.and_then(|c| account_text(c).map(|a| (c, a))) {
        Some((c, account)) => {
            let parts = [
                c.routing.as_ref().map(|r| r.as_str().to_owned()),
                Some(format!("****{}", last4(&account))),
                c.transaction_code.map(|t| t.to_string()),
            ];
            parts.into_iter().flatten().collect::<Vec<_>>().join(" ")
        }
        None if raw.is_empty() => String::new(),
        None => format!("****{}", last4(raw)),
    }
}

/// Seal `raw` (the corrected data of a NOC with change code `code`, parsed
/// as `parsed`) under `context`. The account's fingerprint is over the
/// routing number the corrected account belongs to — the new one when the
/// NOC changes it, else `original_routing` — so it equals the fingerprint
/// of the payment method the NOC corrects.
pub fn seal_corrected_data(
    vault: &Vault,
    code: &str,
    raw: &str,
    parsed: Option<&nacha::Correction>,
    original_routing: &str,
    context: &str,
) -> SealedCorrectedData {
    let mut correction = NocCorrection {
        sealed: vault.seal(raw.as_bytes(), context),
        ..NocCorrection::default()
    };
    if let Some(c) = parsed {
        let routing = c.routing.as_ref().map(|r| r.as_str().to_owned());
        correction.account = account_text(c).map(|a| MaskedAccount {
            last4: last4(&a),
            fingerprint: vault.fingerprint(&[routing.as_deref().unwrap_or(original_routing), &a]),
        });
        correction.routing_number = routing;
        correction.transaction_code = c.transaction_code.map(|t| t.to_string());
        correction.account_type = c.transaction_code.and_then(|t| match t.account_type() {
            Some(nacha::codes::AccountType::Checking) => Some(AccountType::Checking),
            Some(nacha::codes::AccountType::Savings) => Some(AccountType::Savings),
            _ => None,
        });
        correction.name = c.name.clone();
        correction.individual_id = c.individual_id.clone();
    }
    SealedCorrectedData {
        masked: mask_corrected_data(code, raw, parsed),
        correction,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use inflow_core::crypto::MasterKey;

    fn sealed(code: &str, raw: &str) -> (Vault, SealedCorrectedData) {
        let vault = Vault::new(&MasterKey::generate());
        let parsed = parse_stored(code, raw);
        let s = seal_corrected_data(&vault, code, raw, parsed.as_ref(), "121042882", "col_1/noc");
        (vault, s)
    }

    #[test]
    fn a_c01_account_number_is_masked_fingerprinted_and_sealed() {
        let (vault, s) = sealed("C01", "7777100001");
        assert_eq!(s.masked, "****0001");
        let account = s.correction.account.clone().unwrap();
        assert_eq!(account.last4, "0001");
        assert_eq!(
            account.fingerprint,
            vault.fingerprint(&["121042882", "7777100001"])
        );
        assert_eq!(
            vault.open(&s.correction.sealed, "col_1/noc").unwrap(),
            b"7777100001"
        );
        assert!(!s.correction.sealed.windows(10).any(|w| w == b"7777100001"));
        let json = serde_json::to_string(&s.correction).unwrap();
        assert!(!json.contains("7777100001"), "{json}");
    }

    #[test]
    fn c03_c06_and_c07_keep_routing_and_transaction_code_visible() {
        let (vault, s) = sealed("C03", "231380104   12345678");
        assert_eq!(s.masked, "231380104 ****5678");
        assert_eq!(s.correction.routing_number.as_deref(), Some("231380104"));
        assert_eq!(
            s.correction.account.unwrap().fingerprint,
            vault.fingerprint(&["231380104", "12345678"]),
            "the new routing number goes into the fingerprint"
        );
        let (_, s) = sealed("C06", "12345678901234567   37");
        assert_eq!(s.masked, "****4567 37");
        assert_eq!(s.correction.account_type, Some(AccountType::Savings));
        assert_eq!(s.correction.transaction_code.as_deref(), Some("37"));
        let (_, s) = sealed("C07", "23138010412345678901234567 27");
        assert_eq!(s.masked, "231380104 ****4567 27");
        assert_eq!(s.correction.account_type, Some(AccountType::Checking));
    }

    #[test]
    fn codes_without_an_account_number_stay_readable() {
        for (code, raw) in [
            ("C02", "231380104"),
            ("C04", "DOE JANE"),
            ("C05", "32"),
            ("C09", "ID 42"),
        ] {
            let (_, s) = sealed(code, raw);
            assert_eq!(s.masked, raw, "{code}");
            assert!(s.correction.account.is_none());
        }
        let (_, s) = sealed("C04", "DOE JANE");
        assert_eq!(s.correction.name.as_deref(), Some("DOE JANE"));
    }

    #[test]
    fn unreadable_or_unknown_data_is_masked_whole() {
        for (code, raw) in [
            ("C01", ""),
            ("C03", "NOT A ROUTING 99887766"),
            ("C68", "99887766"),
            ("C99", "5544332211"),
        ] {
            let (_, s) = sealed(code, raw);
            let expected = if raw.is_empty() {
                String::new()
            } else {
                format!("****{}", &raw[raw.len() - 4..])
            };
            assert_eq!(s.masked, expected, "{code} {raw}");
        }
    }
}
