//! Reports for the CLI: `inflow ach inspect FILE` ([`inspect`]) and
//! `inflow ach validate FILE` ([`validate_report`]). Both implement
//! `Display` (human text) and `serde::Serialize` (for `--json`). Account
//! numbers are masked (`****6789`) unless [`InspectOptions::unmask`].

use crate::record::{AddendaKind, NocInfo, ReturnInfo};
use crate::validate::{ValidateOptions, ValidationError};
use crate::ReadError;
use serde::Serialize;
use std::fmt;

/// Options for [`inspect`].
#[derive(Debug, Clone, Copy, Default)]
pub struct InspectOptions {
    /// Show full account numbers instead of `****` + last four.
    pub unmask: bool,
}

/// Masks all but the last four characters of an account number.
pub fn mask_account(account: &str) -> String {
    let chars: Vec<char> = account.chars().collect();
    if chars.len() <= 4 {
        return "*".repeat(chars.len());
    }
    let last: String = chars[chars.len() - 4..].iter().collect();
    format!("****{last}")
}

/// Summary of a file.
#[derive(Debug, Clone, Serialize)]
pub struct InspectReport {
    /// File header summary (absent if the file has none).
    pub header: Option<HeaderSummary>,
    /// Batches.
    pub batches: Vec<BatchSummary>,
    /// File totals computed from the entries.
    pub totals: Totals,
    /// Whether account numbers are masked.
    pub masked: bool,
}

/// File header fields.
#[derive(Debug, Clone, Serialize)]
pub struct HeaderSummary {
    /// Immediate destination.
    pub immediate_destination: String,
    /// Immediate destination name.
    pub destination_name: String,
    /// Immediate origin.
    pub immediate_origin: String,
    /// Immediate origin name.
    pub origin_name: String,
    /// Creation date `YYMMDD`.
    pub creation_date: String,
    /// Creation time `HHMM`.
    pub creation_time: String,
    /// File ID modifier.
    pub file_id_modifier: String,
}

/// One batch.
#[derive(Debug, Clone, Serialize)]
pub struct BatchSummary {
    /// Batch number.
    pub number: Option<u64>,
    /// SEC code.
    pub sec: String,
    /// Service class code.
    pub service_class: Option<u64>,
    /// Company name.
    pub company_name: String,
    /// Company identification.
    pub company_id: String,
    /// Company entry description.
    pub description: String,
    /// Effective entry date.
    pub effective_date: String,
    /// Number of entries.
    pub entry_count: usize,
    /// Debit total in cents.
    pub debit_total: u64,
    /// Credit total in cents.
    pub credit_total: u64,
    /// Entries.
    pub entries: Vec<EntrySummary>,
}

/// One entry.
#[derive(Debug, Clone, Serialize)]
pub struct EntrySummary {
    /// Transaction code.
    pub transaction_code: String,
    /// RDFI routing (identification + check digit).
    pub rdfi: String,
    /// Account number (masked unless unmasked).
    pub account: String,
    /// Amount in cents.
    pub amount: u64,
    /// Receiver name.
    pub name: String,
    /// Identification number.
    pub id: String,
    /// Trace number.
    pub trace: String,
    /// Return details, if the entry carries an addenda 99.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#return: Option<ReturnInfo>,
    /// NOC details, if the entry carries an addenda 98.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noc: Option<NocInfo>,
    /// Kinds of the entry's addenda.
    pub addenda: Vec<AddendaKind>,
}

/// File totals.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    /// Batches.
    pub batches: usize,
    /// Entries.
    pub entries: usize,
    /// Returns.
    pub returns: usize,
    /// NOCs.
    pub nocs: usize,
    /// Debit total in cents.
    pub debit_total: u64,
    /// Credit total in cents.
    pub credit_total: u64,
}

/// Reads a file and summarises it. Fails only when the file's structure
/// cannot be read (see [`crate::read`]).
pub fn inspect(bytes: &[u8], opts: InspectOptions) -> Result<InspectReport, ReadError> {
    let file = crate::read(bytes)?;
    let header = file.header.as_ref().map(|h| HeaderSummary {
        immediate_destination: h.immediate_destination(),
        destination_name: h.destination_name(),
        immediate_origin: h.immediate_origin(),
        origin_name: h.origin_name(),
        creation_date: h.file_creation_date(),
        creation_time: h.file_creation_time(),
        file_id_modifier: h.file_id_modifier().to_string(),
    });
    let mut totals = Totals::default();
    let mut batches = Vec::with_capacity(file.batches.len());
    for b in &file.batches {
        let adv = b.sec_code() == crate::SecCode::Adv;
        let mut bs = BatchSummary {
            number: b.header.batch_number(),
            sec: b.sec_code().to_string(),
            service_class: b.header.service_class_code(),
            company_name: b.header.company_name(),
            company_id: b.header.company_identification(),
            description: b.header.company_entry_description(),
            effective_date: b.header.effective_entry_date(),
            entry_count: b.entries.len(),
            debit_total: 0,
            credit_total: 0,
            entries: Vec::with_capacity(b.entries.len()),
        };
        for e in &b.entries {
            let d = &e.detail;
            let (amount, account) = if adv {
                let a = crate::record::AdvEntryDetail(d);
                (a.amount().unwrap_or(0), a.dfi_account_number())
            } else {
                (d.amount().unwrap_or(0), d.dfi_account_number())
            };
            let tc = d.transaction_code();
            match tc {
                Some(t) if t.is_debit() => bs.debit_total += amount,
                _ => bs.credit_total += amount,
            }
            let ret = e.addenda.iter().find_map(|a| a.return_info());
            let noc = e.addenda.iter().find_map(|a| a.noc_info());
            totals.returns += usize::from(ret.is_some());
            totals.nocs += usize::from(noc.is_some());
            bs.entries.push(EntrySummary {
                transaction_code: tc.map(|t| t.to_string()).unwrap_or_default(),
                rdfi: d.rdfi_routing(),
                account: if opts.unmask {
                    account
                } else {
                    mask_account(&account)
                },
                amount,
                name: d.individual_name(),
                id: d.identification_number(),
                trace: d
                    .raw()
                    .text(crate::record::layout::entry_detail::TRACE_NUMBER.span),
                r#return: ret,
                noc,
                addenda: e.addenda.iter().map(|a| a.kind()).collect(),
            });
        }
        totals.debit_total += bs.debit_total;
        totals.credit_total += bs.credit_total;
        totals.entries += bs.entry_count;
        batches.push(bs);
    }
    totals.batches = batches.len();
    Ok(InspectReport {
        header,
        batches,
        totals,
        masked: !opts.unmask,
    })
}

fn money(cents: u64) -> String {
    format!("${}.{:02}", cents / 100, cents % 100)
}

impl fmt::Display for InspectReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.header {
            Some(h) => writeln!(
                f,
                "File: {} ({}) -> {} ({}), created {} {}, modifier {}",
                h.immediate_origin,
                h.origin_name,
                h.immediate_destination,
                h.destination_name,
                h.creation_date,
                h.creation_time,
                h.file_id_modifier
            )?,
            None => writeln!(f, "File: (no file header)")?,
        }
        for b in &self.batches {
            writeln!(
                f,
                "Batch {} {} SCC {} company {} ({}) \"{}\" effective {}: {} entries, debits {}, credits {}",
                b.number.map(|n| n.to_string()).unwrap_or_else(|| "?".into()),
                b.sec,
                b.service_class.map(|n| n.to_string()).unwrap_or_else(|| "?".into()),
                b.company_name,
                b.company_id,
                b.description,
                b.effective_date,
                b.entry_count,
                money(b.debit_total),
                money(b.credit_total)
            )?;
            for e in &b.entries {
                write!(
                    f,
                    "  {} {} acct {} {} {} trace {}",
                    e.transaction_code,
                    e.rdfi,
                    e.account,
                    money(e.amount),
                    e.name,
                    e.trace
                )?;
                if let Some(r) = &e.r#return {
                    let desc = r
                        .code
                        .map(|c| c.description())
                        .unwrap_or("unknown return code");
                    write!(
                        f,
                        " RETURN {} {} (original trace {})",
                        r.code_text, desc, r.original_trace
                    )?;
                }
                if let Some(n) = &e.noc {
                    let desc = n
                        .code
                        .map(|c| c.description())
                        .unwrap_or("unknown change code");
                    write!(
                        f,
                        " NOC {} {} corrected data \"{}\" (original trace {})",
                        n.code_text, desc, n.corrected_data, n.original_trace
                    )?;
                }
                writeln!(f)?;
            }
        }
        let t = &self.totals;
        writeln!(
            f,
            "Totals: {} batches, {} entries ({} returns, {} NOCs), debits {}, credits {}",
            t.batches,
            t.entries,
            t.returns,
            t.nocs,
            money(t.debit_total),
            money(t.credit_total)
        )
    }
}

/// Result of validating a file.
#[derive(Debug, Clone, Serialize)]
pub struct ValidationReport {
    /// Every error ([`crate::Severity::Error`]), in file order.
    pub errors: Vec<ValidationError>,
    /// Every warning ([`crate::Severity::Warning`]), in file order: disagreements
    /// tolerant parsers accept (none in strict mode).
    pub warnings: Vec<ValidationError>,
    /// Options used.
    pub options: ValidateOptions,
}

impl ValidationReport {
    /// True when there are no errors (warnings allowed).
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }
}

impl fmt::Display for ValidationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in self.errors.iter().chain(&self.warnings) {
            writeln!(f, "{e}")?;
        }
        match (self.errors.len(), self.warnings.len()) {
            (0, 0) => writeln!(f, "valid"),
            (0, w) => writeln!(f, "valid with {w} warning(s)"),
            (e, 0) => writeln!(f, "{e} error(s)"),
            (e, w) => writeln!(f, "{e} error(s), {w} warning(s)"),
        }
    }
}

/// Validates a file and lists every finding: errors first, then warnings.
pub fn validate_report(bytes: &[u8], opts: &ValidateOptions) -> ValidationReport {
    let (errors, warnings) = crate::validate(bytes, opts)
        .into_iter()
        .partition(ValidationError::is_error);
    ValidationReport {
        errors,
        warnings,
        options: *opts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::Severity;

    #[test]
    fn masks_all_but_last_four() {
        assert_eq!(mask_account("123456789"), "****6789");
        assert_eq!(mask_account("123"), "***");
    }

    const RETURN_FILE: &str = include_str!("../../tests/data/return-noc.ach");

    #[test]
    fn inspect_shows_returns_nocs_and_masks_accounts() {
        let r = inspect(RETURN_FILE.as_bytes(), InspectOptions::default()).unwrap();
        let text = r.to_string();
        assert!(text.contains("RETURN R01 Insufficient funds"), "{text}");
        assert!(text.contains("NOC C01"), "{text}");
        assert!(text.contains("****"), "{text}");
        assert_eq!(r.totals.returns, 1);
        assert_eq!(r.totals.nocs, 1);
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains("\"original_trace\""));
        let unmasked = inspect(RETURN_FILE.as_bytes(), InspectOptions { unmask: true }).unwrap();
        assert!(!unmasked.to_string().contains("****"));
    }

    #[test]
    fn validate_report_lists_every_error_one_per_line() {
        assert!(validate_report(RETURN_FILE.as_bytes(), &ValidateOptions::default()).is_valid());
        let bad = RETURN_FILE.replace("R01", "R96").replace("C01", "C92");
        let r = validate_report(bad.as_bytes(), &ValidateOptions::default());
        assert!(!r.is_valid());
        let text = r.to_string();
        assert!(text.contains("return reason code \"R96\""), "{text}");
        assert!(text.contains("change code \"C92\""), "{text}");
        assert!(serde_json::to_string(&r).unwrap().contains("return_code"));
    }

    #[test]
    fn validate_report_shows_warnings_apart_from_errors() {
        // file control claims 3 batches; the file has 2: a warning by default
        let lines: Vec<&str> = RETURN_FILE.lines().collect();
        let i = lines.iter().position(|l| l.starts_with('9')).unwrap();
        let mut bad = lines.clone();
        let control = format!("9{:06}{}", 3, &lines[i][7..]);
        bad[i] = &control;
        let text = bad.join("\n");
        let r = validate_report(text.as_bytes(), &ValidateOptions::default());
        assert!(r.is_valid(), "{r}");
        assert_eq!(r.warnings.len(), 1, "{r}");
        let shown = r.to_string();
        assert!(
            shown.contains(&format!(
                "line {}: file control: warning: batch count 3 does not match computed 2",
                i + 1
            )),
            "{shown}"
        );
        assert!(shown.ends_with("valid with 1 warning(s)\n"), "{shown}");
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["warnings"][0]["severity"], "warning");
        assert_eq!(json["errors"].as_array().unwrap().len(), 0);
        let strict = validate_report(text.as_bytes(), &ValidateOptions::strict());
        assert!(!strict.is_valid());
        assert!(strict.warnings.is_empty());
        assert_eq!(strict.errors[0].severity, Severity::Error);
        assert!(strict.to_string().ends_with("1 error(s)\n"));
    }
}
