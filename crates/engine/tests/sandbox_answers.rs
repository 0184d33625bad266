//! The sandbox bank's answer files look like a real bank's: trace numbers
//! unique in the whole file (not restarting at 0000001 in each batch), each
//! return/NOC entry addressed to the original ODFI (its receiving DFI
//! identification) and traced under the returning bank's routing prefix,
//! with the original trace and the returning bank in the addenda.
//! `sandbox_bank::answer` is pure (no storage), so no database is involved.
//!
//! Seen to fail before the fix: the second batch's return restarted at
//! trace 2313801000000001 (a duplicate) and the return entries carried the
//! returning bank's routing number (231380104) where the original ODFI's
//! (121042882) belongs.

use inflow_core::bank::RoutingNumber;
use inflow_core::calendar::{BankingCalendar, CutoffSchedule};
use inflow_engine::config::AchConfig;
use inflow_engine::sandbox_bank;
use nacha::{
    BatchSpec, Date, EntrySpec, FileBuilder, FileHeaderSpec, SecCode, ServiceClass, TransactionCode,
};

const ODFI: &str = "121042882";
const RDFI: &str = "231380104";

fn config() -> AchConfig {
    let dir = std::env::temp_dir().join("inflow-sandbox-answers-unused");
    AchConfig {
        immediate_destination: RoutingNumber::parse("x", RDFI).unwrap(),
        immediate_destination_name: "FEDERAL RESERVE BANK".into(),
        immediate_origin: "1234567890".into(),
        immediate_origin_name: "INFLOW".into(),
        odfi_routing: RoutingNumber::parse("x", ODFI).unwrap(),
        outbound_dir: dir.join("outbound"),
        inbound_dir: dir.join("inbound"),
        good_funds_banking_days: 2,
        prenote_wait_banking_days: 3,
        calendar: BankingCalendar::federal_reserve(),
        cutoffs: CutoffSchedule::default(),
        effective_date_horizon_days: 365,
        sandbox_bank: true,
        max_entries_per_file: inflow_engine::config::DEFAULT_MAX_ENTRIES_PER_FILE,
        debit_limits: Default::default(),
        file_rules: Default::default(),
    }
}

/// An outbound file of two PPD debit batches (two company names), each
/// holding entries to the magic accounts `accounts[i]`.
fn outbound(accounts: [&[&str]; 2]) -> Vec<u8> {
    let rt = |s| nacha::RoutingNumber::parse(s).unwrap();
    let mut b = FileBuilder::new(FileHeaderSpec::new(
        rt(RDFI),
        "1234567890",
        "FEDERAL RESERVE BANK",
        "INFLOW",
        Date::new(2026, 3, 1),
        'A',
    ))
    .batch(BatchSpec::new(
        ServiceClass::DebitsOnly,
        SecCode::Ppd,
        "ACME",
        "1234567890",
        "PAYMENT",
        Date::new(2026, 3, 2),
        rt(ODFI),
    ));
    for (i, batch) in accounts.iter().enumerate() {
        if i > 0 {
            b = b.batch(BatchSpec::new(
                ServiceClass::DebitsOnly,
                SecCode::Ppd,
                "ACME BILLING",
                "1234567890",
                "PAYMENT",
                Date::new(2026, 3, 2),
                rt(ODFI),
            ));
        }
        for a in *batch {
            b = b.entry(EntrySpec::new(
                TransactionCode::CHECKING_DEBIT,
                rt(RDFI),
                a,
                12_345,
                "Jane Doe",
            ));
        }
    }
    b.build().unwrap().to_checked_bytes().unwrap()
}

#[test]
fn multi_batch_answer_files_have_unique_traces_under_the_returning_banks_prefix() {
    let out = outbound([
        &["9999000101", "9999100001"],
        &["9999000103", "9999000104", "9999100005"],
    ]);
    let original = nacha::read(&out).unwrap();
    let original_traces: Vec<String> = original
        .entries()
        .map(|(_, e)| format!("{:015}", e.detail.trace_number().unwrap()))
        .collect();
    let answers = sandbox_bank::answer(&out, &config()).unwrap();
    assert_eq!(answers.len(), 2, "one returns file, one NOC file");
    for a in &answers {
        let bytes = a.file.to_bytes();
        let findings = nacha::validate(&bytes, &nacha::ValidateOptions::strict());
        assert!(findings.is_empty(), "{findings:?}");
        assert_eq!(
            a.file.batches.len(),
            2,
            "{}: one batch per original batch",
            a.key
        );
        let mut traces = Vec::new();
        for batch in &a.file.batches {
            let odfi = &batch.header.bytes()[79..87];
            assert_eq!(
                odfi,
                &RDFI.as_bytes()[..8],
                "the returning bank originates the answer"
            );
            for e in &batch.entries {
                let d = e.detail.bytes();
                assert_eq!(&d[3..12], ODFI.as_bytes(), "addressed to the original ODFI");
                assert_eq!(
                    &d[79..87],
                    &RDFI.as_bytes()[..8],
                    "traced under the returning bank"
                );
                traces.push(String::from_utf8_lossy(&d[79..94]).into_owned());
                let add = e.addenda[0].bytes();
                let original_trace = String::from_utf8_lossy(&add[6..21]).into_owned();
                assert!(
                    original_traces.contains(&original_trace),
                    "{original_trace}"
                );
                assert_eq!(
                    &add[27..35],
                    &RDFI.as_bytes()[..8],
                    "original RDFI in the addenda"
                );
            }
        }
        let unique: std::collections::BTreeSet<_> = traces.iter().collect();
        assert_eq!(
            unique.len(),
            traces.len(),
            "{}: duplicate traces {traces:?}",
            a.key
        );
    }
}
