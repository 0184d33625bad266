//! What an `[[odfi]]` profile asks of its files, checked into the engine's
//! [`FileRules`]: balanced files (an offset to the settlement account per
//! batch), debits and credits in separate files, the file name pattern, the
//! File ID Modifiers, the header's reference code and a company
//! identification override. Every error names the setting.

use anyhow::bail;
use inflow_core::bank::{AccountNumber, AccountType, RoutingNumber};
use inflow_engine::config::{FileRules, OffsetAccount};

use crate::odfi::OdfiSettings;

/// The placeholders a file name pattern may use.
const PLACEHOLDERS: [&str; 4] = ["{date}", "{yymmdd}", "{modifier}", "{kind}"];

/// Check `o`'s file settings into [`FileRules`].
pub fn file_rules(o: &OdfiSettings) -> anyhow::Result<FileRules> {
    let at = format!("odfi `{}`", o.id);
    let offset = match (&o.settlement_account, o.balanced) {
        (None, true) => bail!(
            "{at}.settlement_account is required when balanced = true: the offset entries credit it"
        ),
        (Some(_), false) => bail!(
            "{at}.settlement_account is only used by balanced files: set balanced = true or remove it"
        ),
        (None, false) => None,
        (Some(s), true) => {
            let field = |f: &str| format!("{at}.settlement_account.{f}");
            let routing = RoutingNumber::parse("routing_number", &s.routing_number)
                .map_err(|e| anyhow::anyhow!("{}: {}", field("routing_number"), e.message))?;
            let account_number = AccountNumber::parse("account_number", &s.account_number)
                .map_err(|e| anyhow::anyhow!("{}: {}", field("account_number"), e.message))?;
            let account_type = AccountType::parse("account_type", &s.account_type)
                .map_err(|e| anyhow::anyhow!("{}: {}", field("account_type"), e.message))?;
            let name = s
                .name
                .clone()
                .unwrap_or_else(|| o.immediate_origin_name.clone());
            if inflow_engine::files::nacha_text(&name, 22).is_empty() {
                bail!("{} must have a printable character", field("name"));
            }
            Some(OffsetAccount {
                routing,
                account_number,
                account_type,
                name,
            })
        }
    };
    if let Some(p) = &o.file_name_pattern {
        check_pattern(&at, p)?;
    }
    if let Some(m) = &o.file_id_modifiers {
        let mut seen = String::new();
        for c in m.chars() {
            if !(c.is_ascii_uppercase() || c.is_ascii_digit()) || seen.contains(c) {
                bail!("{at}.file_id_modifiers must be distinct characters A-Z or 0-9, got {m:?}");
            }
            seen.push(c);
        }
        let needed = if offset.is_some() && o.separate_debits_and_credits {
            2
        } else {
            1
        };
        if seen.len() < needed {
            bail!("{at}.file_id_modifiers must have at least {needed} characters (a file of debits and one of credits per cutoff)");
        }
    }
    let reference_code = o.reference_code.clone().unwrap_or_default();
    if reference_code.len() > 8 || !reference_code.bytes().all(|b| (b' '..=b'~').contains(&b)) {
        bail!("{at}.reference_code must be at most 8 printable ASCII characters, got {reference_code:?}");
    }
    if let Some(id) = &o.company_id {
        if inflow_engine::files::nacha_text(id, 10).is_empty() || id.chars().count() > 10 {
            bail!("{at}.company_id must be 1 to 10 printable characters, got {id:?}");
        }
    }
    Ok(FileRules {
        offset,
        separate_debits_and_credits: o.separate_debits_and_credits,
        file_name_pattern: o.file_name_pattern.clone(),
        file_id_modifiers: o.file_id_modifiers.clone(),
        reference_code,
        company_id: o.company_id.clone(),
    })
}

/// A file name pattern: placeholders known, the date and the modifier in
/// it (names must differ between files), a plain file name.
fn check_pattern(at: &str, p: &str) -> anyhow::Result<()> {
    let field = format!("{at}.file_name_pattern");
    let mut rest = p.to_owned();
    for ph in PLACEHOLDERS {
        rest = rest.replace(ph, "");
    }
    if rest.contains('{') || rest.contains('}') {
        bail!(
            "{field}: only {} may appear in braces, got {p:?}",
            PLACEHOLDERS.join(", ")
        );
    }
    if !p.contains("{modifier}") || !(p.contains("{date}") || p.contains("{yymmdd}")) {
        bail!("{field} must contain {{modifier}} and {{date}} or {{yymmdd}} so every file has its own name, got {p:?}");
    }
    let plain = rest
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !plain || p.starts_with('.') || p.len() > 200 {
        bail!("{field} may use only letters, digits, `-`, `_` and `.` (not first) outside placeholders, got {p:?}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::odfi::SettlementAccountSettings;

    fn odfi() -> OdfiSettings {
        OdfiSettings {
            id: "bank".into(),
            immediate_origin_name: "INFLOW".into(),
            ..Default::default()
        }
    }

    fn settlement() -> SettlementAccountSettings {
        SettlementAccountSettings {
            routing_number: "121042882".into(),
            account_number: "123456789".into(),
            account_type: "checking".into(),
            name: None,
        }
    }

    fn err(o: &OdfiSettings) -> String {
        format!("{:#}", file_rules(o).unwrap_err())
    }

    #[test]
    fn balanced_needs_a_valid_settlement_account() {
        let mut o = odfi();
        o.balanced = true;
        assert!(err(&o).contains("odfi `bank`.settlement_account is required"));
        o.settlement_account = Some(settlement());
        let rules = file_rules(&o).unwrap();
        let off = rules.offset.unwrap();
        assert_eq!(off.name, "INFLOW");
        assert_eq!(off.account_type, AccountType::Checking);
        o.settlement_account.as_mut().unwrap().account_type = "loan".into();
        assert!(err(&o).contains("settlement_account.account_type"));
        o.settlement_account.as_mut().unwrap().account_type = "savings".into();
        o.settlement_account.as_mut().unwrap().routing_number = "121042883".into();
        assert!(err(&o).contains("settlement_account.routing_number"));
        o.balanced = false;
        o.settlement_account = Some(settlement());
        assert!(err(&o).contains("only used by balanced files"));
    }

    #[test]
    fn patterns_modifiers_and_header_fields_are_checked() {
        let mut o = odfi();
        for bad in [
            "ACH-{date}.ach",
            "ACH-{modifier}.ach",
            "../{date}{modifier}",
            "{date}{modifier}{time}",
            ".{date}{modifier}",
        ] {
            o.file_name_pattern = Some(bad.into());
            assert!(err(&o).contains("file_name_pattern"), "{bad}");
        }
        o.file_name_pattern = Some("FB_{yymmdd}_{modifier}_{kind}.txt".into());
        assert!(file_rules(&o).is_ok());
        for bad in ["AAB", "ab", "A-"] {
            o.file_id_modifiers = Some(bad.into());
            assert!(err(&o).contains("file_id_modifiers"), "{bad}");
        }
        o.file_id_modifiers = Some("0".into());
        assert!(file_rules(&o).is_ok());
        o.balanced = true;
        o.separate_debits_and_credits = true;
        o.settlement_account = Some(settlement());
        assert!(err(&o).contains("at least 2"));
        o.file_id_modifiers = Some("01".into());
        o.reference_code = Some("TOOLONGXX".into());
        assert!(err(&o).contains("reference_code"));
        o.reference_code = Some("REF1".into());
        o.company_id = Some("12345678901".into());
        assert!(err(&o).contains("company_id"));
        o.company_id = Some("1234567890".into());
        let r = file_rules(&o).unwrap();
        assert_eq!(r.reference_code, "REF1");
        assert!(r.separate_debits_and_credits);
    }
}
