//! `inflow ach inspect|validate` on real NACHA files.

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/ach-testdata/moov")
        .join(rel)
}

fn inflow(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_inflow"))
        .args(args)
        .output()
        .expect("run inflow");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn inspect_summarises_returns_with_masked_account_numbers() {
    let file = fixture("test/testdata/return-WEB.ach");
    let (code, out, _) = inflow(&["ach", "inspect", file.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(
        out.contains("R01") && out.contains("Insufficient funds"),
        "{out}"
    );
    assert!(out.contains("****"), "{out}");
    let (_, unmasked, _) = inflow(&["ach", "inspect", "--unmask", file.to_str().unwrap()]);
    assert_ne!(out, unmasked, "--unmask shows the full numbers");
    let (code, json, _) = inflow(&["ach", "inspect", "--json", file.to_str().unwrap()]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).expect("inspect --json prints JSON");
    assert_eq!(v["batches"].as_array().unwrap().len(), 2);
    assert_eq!(v["masked"], true);
}

#[test]
fn validate_exits_zero_for_a_valid_file_and_one_listing_every_error_otherwise() {
    let good = fixture("examples/testdata/ppd-debit.ach");
    let (code, _, _) = inflow(&["ach", "validate", good.to_str().unwrap()]);
    assert_eq!(code, 0);
    let bad = fixture("test/testdata/ppd-debit-invalid-entryDetail-checkDigit.ach");
    let (code, out, _) = inflow(&["ach", "validate", bad.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        out.contains("line 3: entry detail: RDFI check digit 5 does not match computed 4"),
        "{out}"
    );
    let (code, json, _) = inflow(&["ach", "validate", "--json", bad.to_str().unwrap()]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(!v["errors"].as_array().unwrap().is_empty());
}

#[test]
fn a_named_rule_can_be_relaxed_for_a_bank_file_that_breaks_it() {
    let file = fixture("test/testdata/return-PPD-custom-reason-code.ach");
    let (code, _, _) = inflow(&["ach", "validate", file.to_str().unwrap()]);
    assert_eq!(code, 1);
    let (code, out, _) = inflow(&[
        "ach",
        "validate",
        "--relax",
        "custom-return-codes",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn a_missing_file_is_a_clear_error() {
    let (code, _, err) = inflow(&["ach", "validate", "/nonexistent/file.ach"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read /nonexistent/file.ach"), "{err}");
}

fn strict_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../nacha/tests/data/strict")
        .join(name)
}

#[test]
fn trace_numbers_outside_the_odfi_fail_unless_custom_trace_numbers_is_relaxed() {
    let file = strict_fixture("trace-not-odfi.ach");
    let (code, out, _) = inflow(&["ach", "validate", file.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("line 3, column 80: entry detail: trace number 091000010000001 does not start with the batch's ODFI identification 12104288"),
        "{out}"
    );
    let (code, out, _) = inflow(&[
        "ach",
        "validate",
        "--relax",
        "custom-trace-numbers",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn strict_validation_refuses_a_utf8_record_the_default_mode_only_flags() {
    let file = strict_fixture("utf8-name-95-bytes.ach");
    let (code, out, _) = inflow(&["ach", "validate", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = inflow(&["ach", "validate", "--strict", file.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("line 3, column 95: entry detail: record must be 94 bytes, found 95"),
        "{out}"
    );
}
