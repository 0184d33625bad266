//! The rows of a daily reconciliation file, and its two renderings: JSON
//! lines (the stored, canonical form) and CSV (RFC 4180, rendered from the
//! JSON lines by the `csv` crate, so both always carry the same rows).
//!
//! One `entry` row per ledger transaction of the day, then one
//! `control_total` row. Columns are documented in `docs/reports.md`.

use chrono::{DateTime, NaiveDate, Utc};
use inflow_core::calendar::local_date;
use inflow_store::repo::daily_files::DailyRowSource;
use serde::{Deserialize, Serialize};

/// `recordType` of a row for one ledger transaction.
pub const ENTRY: &str = "entry";
/// `recordType` of the last row: the file's sums and the ledger's figures.
pub const CONTROL_TOTAL: &str = "control_total";

/// One row of a daily file (a line of the JSON lines form, a record of the
/// CSV form, same names and order). Amounts are signed minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DailyFileRow {
    /// `entry` or `control_total`.
    pub record_type: String,
    /// The banking day (YYYY-MM-DD, US/Eastern).
    pub business_date: String,
    /// `ltx_…` (entries).
    pub ledger_transaction_id: Option<String>,
    /// When it was posted (RFC 3339, entries).
    pub posted_at: Option<String>,
    /// The ledger transaction kind: `ach_submitted`, `ach_completed`,
    /// `ach_returned`, `ach_return_fee`, `ach_reversed`, `ach_offset`,
    /// `card_captured`, `card_settled`, `card_refunded`, `card_voided`,
    /// `card_disputed`, `card_dispute_fee`, `card_dispute_won`, `adjustment`
    /// (and any kind added later).
    pub kind: Option<String>,
    /// `ach`, `card` or `operator` (from the kind).
    pub rail: Option<String>,
    pub customer_id: Option<String>,
    pub account_id: Option<String>,
    pub collection_id: Option<String>,
    /// The collection's `externalId`.
    pub external_id: Option<String>,
    /// `rfd_…` (card refunds and ACH refunds by credit).
    pub refund_id: Option<String>,
    /// `rvs_…`: the ACH reversal (`ach_reversed` of a reversed collection,
    /// `ach_reversal_returned`).
    pub reversal_id: Option<String>,
    /// The processor's dispute id (disputes).
    pub dispute_id: Option<String>,
    /// The 15-digit NACHA trace number (ACH; on refund and reversal rows
    /// the credit entry's).
    pub trace_number: Option<String>,
    pub sec_code: Option<String>,
    /// The outbound NACHA file the entry was filed in (`fil_…`) and its name.
    pub nacha_file_id: Option<String>,
    pub nacha_file_name: Option<String>,
    /// R01… (returned ACH collections and credit entries).
    pub return_code: Option<String>,
    /// The card processor's reference and batch.
    pub processor_reference: Option<String>,
    pub batch_id: Option<String>,
    /// ACH: the entry's effective date; card: the capture's day.
    pub effective_date: Option<String>,
    /// ACH: the settlement date (the effective date); card: the batch close's day.
    pub settlement_date: Option<String>,
    pub currency: String,
    /// Gross amount of the collection, refund or fee (for the control
    /// total, the sum of the entries').
    pub amount: i64,
    /// Fee revenue moved (positive: charged to the customer; negative: given back).
    pub fee: i64,
    /// Change of the destination account's total balance (pending + available).
    pub net: i64,
    pub pending_change: i64,
    pub available_change: i64,
    /// Control total: entries in the file.
    pub row_count: Option<i64>,
    /// Control total: the destination accounts' movement that day per the ledger.
    pub ledger_movement: Option<i64>,
    /// Control total: the fee revenue that day per the ledger, for these accounts.
    pub ledger_fees: Option<i64>,
    /// Control total: `net` = `ledgerMovement` and `fee` = `ledgerFees`.
    pub ties_out: Option<bool>,
}

fn micros(t: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_micros(t)
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// The rail of a ledger transaction kind (`ach_…`, `card_…`, anything else).
pub fn rail_of(kind: &str) -> &'static str {
    if kind.starts_with("ach_") {
        "ach"
    } else if kind.starts_with("card_") {
        "card"
    } else {
        "operator"
    }
}

/// The entry row of one ledger transaction.
///
/// New kinds need nothing here unless their reference means something
/// special (as a refund id or a dispute id does): match the kind below.
pub fn entry_row(day: NaiveDate, s: DailyRowSource) -> DailyFileRow {
    let credit_entry = |k: &str| {
        s.credit_entry_id
            .clone()
            .filter(|_| s.credit_entry_kind.as_deref() == Some(k))
    };
    let (refund_id, reversal_id, dispute_id) = match s.kind.as_str() {
        "card_refunded" => (Some(s.reference.clone()), None, None),
        "card_disputed" | "card_dispute_fee" | "card_dispute_won" => {
            (None, None, Some(s.reference.clone()))
        }
        // ACH credits: the reference is the credit entry's id, and the
        // store joined the entry (trace number, file, return code).
        "ach_refund" | "ach_refund_returned" | "ach_refund_cancelled" => {
            (Some(s.reference.clone()), None, None)
        }
        "ach_reversal_returned" => (None, Some(s.reference.clone()), None),
        // The original's undo when its reversing entry was filed (not a
        // cancel or failure after posting: no reversal joined then).
        "ach_reversed" => (None, credit_entry("reversal"), None),
        _ => (None, None, None),
    };
    let card = s.kind.starts_with("card_");
    // An offset entry (of a debit or a credit file) has no collection: its
    // reference is its trace number.
    let trace_number = if matches!(s.kind.as_str(), "ach_offset" | "ach_credit_offset") {
        Some(s.reference.clone())
    } else {
        s.trace_number.clone()
    };
    let (effective_date, settlement_date) = if card {
        (
            s.captured_at
                .and_then(micros)
                .map(|t| local_date(t).to_string()),
            s.settled_at
                .and_then(micros)
                .map(|t| local_date(t).to_string()),
        )
    } else {
        (s.effective_date.clone(), s.effective_date.clone())
    };
    DailyFileRow {
        record_type: ENTRY.into(),
        business_date: day.to_string(),
        posted_at: micros(s.created_at).map(rfc3339),
        rail: Some(rail_of(&s.kind).into()),
        kind: Some(s.kind),
        ledger_transaction_id: Some(s.transaction_id),
        customer_id: s.customer_id,
        account_id: s.account_id,
        collection_id: s.collection_id,
        external_id: s.external_id,
        refund_id,
        reversal_id,
        dispute_id,
        trace_number,
        sec_code: s.sec_code,
        nacha_file_id: s.ach_file_id,
        nacha_file_name: s.ach_file_name,
        return_code: s.return_code,
        processor_reference: s.processor_ref,
        batch_id: s.batch_id,
        effective_date,
        settlement_date,
        currency: s.currency,
        amount: s.gross_amount,
        fee: s.fee_change,
        net: s.pending_change + s.available_change,
        pending_change: s.pending_change,
        available_change: s.available_change,
        row_count: None,
        ledger_movement: None,
        ledger_fees: None,
        ties_out: None,
    }
}

/// What the ledger says moved for a file's accounts that day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LedgerFigures {
    /// Destination pending + available, credits − debits.
    pub movement: i64,
    /// Fee revenue, credits − debits.
    pub fees: i64,
}

/// The control-total row closing a file of `entries`.
pub fn control_row(
    day: NaiveDate,
    customer_id: Option<String>,
    account_id: Option<String>,
    currency: &str,
    entries: &[&DailyFileRow],
    ledger: LedgerFigures,
) -> DailyFileRow {
    let sum = |f: fn(&DailyFileRow) -> i64| entries.iter().map(|r| f(r)).sum::<i64>();
    let (net, fee) = (sum(|r| r.net), sum(|r| r.fee));
    DailyFileRow {
        record_type: CONTROL_TOTAL.into(),
        business_date: day.to_string(),
        ledger_transaction_id: None,
        posted_at: None,
        kind: None,
        rail: None,
        customer_id,
        account_id,
        collection_id: None,
        external_id: None,
        refund_id: None,
        reversal_id: None,
        dispute_id: None,
        trace_number: None,
        sec_code: None,
        nacha_file_id: None,
        nacha_file_name: None,
        return_code: None,
        processor_reference: None,
        batch_id: None,
        effective_date: None,
        settlement_date: None,
        currency: currency.into(),
        amount: sum(|r| r.amount),
        fee,
        net,
        pending_change: sum(|r| r.pending_change),
        available_change: sum(|r| r.available_change),
        row_count: Some(entries.len() as i64),
        ledger_movement: Some(ledger.movement),
        ledger_fees: Some(ledger.fees),
        ties_out: Some(net == ledger.movement && fee == ledger.fees),
    }
}

/// The JSON lines form: one object per row, `\n` after each.
pub fn to_jsonl<'a>(rows: impl IntoIterator<Item = &'a DailyFileRow>) -> String {
    let mut out = String::new();
    for r in rows {
        // A struct of strings, integers and booleans always serialises.
        out.push_str(&serde_json::to_string(r).unwrap_or_default());
        out.push('\n');
    }
    out
}

/// An error rendering a stored file.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("stored daily file line {line} is not a row: {source}")]
    Json {
        line: usize,
        source: serde_json::Error,
    },
    #[error("CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("CSV: {0}")]
    Io(#[from] std::io::Error),
}

/// The rows of a stored JSON lines file.
pub fn parse_jsonl(content: &str) -> Result<Vec<DailyFileRow>, RenderError> {
    content
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|source| RenderError::Json {
                line: i + 1,
                source,
            })
        })
        .collect()
}

/// The CSV form of a stored JSON lines file: a header record with the
/// column names, then one record per row (RFC 4180: CRLF line ends, fields
/// quoted when they hold a comma, a quote or a line break; empty = null).
pub fn jsonl_to_csv(content: &str) -> Result<Vec<u8>, RenderError> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for row in parse_jsonl(content)? {
        w.serialize(row)?;
    }
    w.flush()?;
    w.into_inner().map_err(|e| RenderError::Io(e.into_error()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(kind: &str, reference: &str) -> DailyRowSource {
        DailyRowSource {
            transaction_id: "ltx_1".into(),
            kind: kind.into(),
            reference: reference.into(),
            collection_id: Some("col_1".into()),
            account_id: Some("acc_1".into()),
            customer_id: Some("cus_1".into()),
            currency: "USD".into(),
            gross_amount: 1000,
            pending_change: 975,
            available_change: 0,
            fee_change: 25,
            created_at: 1_700_000_000_000_000,
            external_id: Some("inv, \"7\"".into()),
            trace_number: Some("091000010000001".into()),
            sec_code: Some("PPD".into()),
            effective_date: Some("2026-12-07".into()),
            return_code: None,
            ach_file_id: Some("fil_1".into()),
            ach_file_name: Some("a.ach".into()),
            processor_ref: None,
            batch_id: None,
            captured_at: None,
            settled_at: None,
            credit_entry_id: None,
            credit_entry_kind: None,
        }
    }

    #[test]
    fn csv_quotes_per_rfc_4180_and_carries_the_same_rows_as_the_json_lines() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
        let entry = entry_row(day, source("ach_submitted", "col_1"));
        let control = control_row(
            day,
            None,
            Some("acc_1".into()),
            "USD",
            &[&entry],
            LedgerFigures {
                movement: 975,
                fees: 25,
            },
        );
        assert_eq!(control.ties_out, Some(true));
        let jsonl = to_jsonl([&entry, &control]);
        let csv_bytes = jsonl_to_csv(&jsonl).unwrap();
        let text = String::from_utf8(csv_bytes.clone()).unwrap();
        assert!(text.contains("\"inv, \"\"7\"\"\""), "{text}");
        assert!(text.ends_with("\r\n"));
        let mut r = csv::Reader::from_reader(csv_bytes.as_slice());
        let rows: Vec<DailyFileRow> = r.deserialize().collect::<Result<_, _>>().unwrap();
        assert_eq!(rows, vec![entry, control]);
    }

    #[test]
    fn a_refund_row_names_the_refund_and_a_dispute_row_the_dispute() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
        let r = entry_row(day, source("card_refunded", "rfd_9"));
        assert_eq!(
            (r.refund_id.as_deref(), r.rail.as_deref()),
            (Some("rfd_9"), Some("card"))
        );
        let d = entry_row(day, source("card_disputed", "dp_1"));
        assert_eq!(d.dispute_id.as_deref(), Some("dp_1"));
    }

    #[test]
    fn ach_credit_rows_name_their_refund_or_reversal() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
        let r = entry_row(day, source("ach_refund", "rfd_1"));
        assert_eq!(
            (r.refund_id.as_deref(), r.reversal_id.as_deref()),
            (Some("rfd_1"), None)
        );
        let back = entry_row(day, source("ach_reversal_returned", "rvs_1"));
        assert_eq!(
            (back.refund_id.as_deref(), back.reversal_id.as_deref()),
            (None, Some("rvs_1"))
        );
        let mut undo = source("ach_reversed", "col_1");
        undo.credit_entry_id = Some("rvs_2".into());
        undo.credit_entry_kind = Some("reversal".into());
        assert_eq!(entry_row(day, undo).reversal_id.as_deref(), Some("rvs_2"));
        // A cancel after posting is an `ach_reversed` with no reversal.
        assert_eq!(
            entry_row(day, source("ach_reversed", "col_1")).reversal_id,
            None
        );
        let offset = entry_row(day, source("ach_credit_offset", "091000019999999"));
        assert_eq!(offset.trace_number.as_deref(), Some("091000019999999"));
    }
}
