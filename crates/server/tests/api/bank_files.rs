//! Files shaped for an ODFI, on both backends, each checked by `achlens`
//! and by `inflow ach validate`: a balanced file (every batch ends with an
//! offsetting credit to the operator's settlement account, posted in the
//! ledger as `ach_offset`); debits and credits in separate files (a file of
//! debits and a companion file of the offset credits); the ODFI's header
//! values (names, reference code, company identification), file name
//! pattern and File ID Modifiers, and its maximum entries per file.

use crate::support;

use inflow_server::odfi::{OdfiSettings, SettlementAccountSettings, TransportSettings};
use inflow_store::repo::ledger::{kind, LedgerAccount};
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::ach::*;
use support::ledger::ledger_is_sound;
use support::*;

on_both_backends!(
    a_balanced_file_offsets_every_batch_to_the_settlement_account,
    debits_and_credits_go_in_separate_files,
    a_tel_batch_is_offset_in_a_ccd_batch_of_its_own,
    header_values_name_pattern_modifiers_and_entry_ceiling_follow_the_odfi,
);

const SETTLEMENT: &str = "55500011";

/// A directory removed at the end of the test.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> Self {
        let p = std::env::temp_dir().join(format!(
            "inflow-bank-files-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An ODFI that takes files through two local folders under `dir`.
fn odfi(dir: &std::path::Path) -> OdfiSettings {
    OdfiSettings {
        id: "firstbank".into(),
        routing_number: "121042882".into(),
        immediate_destination_name: "FIRST BANK".into(),
        immediate_origin: "1234567890".into(),
        immediate_origin_name: "INFLOW TEST".into(),
        transport: Some(TransportSettings::Local {
            outbound_dir: dir.join("to-bank"),
            inbound_dir: dir.join("from-bank"),
        }),
        ..Default::default()
    }
}

fn settlement(account_type: &str) -> Option<SettlementAccountSettings> {
    Some(SettlementAccountSettings {
        routing_number: "021000021".into(),
        account_number: SETTLEMENT.into(),
        account_type: account_type.into(),
        name: Some("Inflow Settlement".into()),
    })
}

/// Two customers, each its own entry description (so two batches): Acme
/// with debits of 42.00 and 10.00, Globex with 7.50.
async fn three_debits(app: &TestApp) -> Vec<(Creds, String)> {
    let mut out = Vec::new();
    for (name, amounts) in [("Acme", &["4200", "1000"][..]), ("Globex", &["750"][..])] {
        let (_, creds) = app.customer_with_key(name, json!({})).await;
        let dest = destination(app, &creds).await;
        let pm = make_pm(app, &creds, "9999000001").await;
        for a in amounts {
            let extra = json!({"companyEntryDescription": name.to_uppercase()});
            let c = collect(app, &creds, &dest, &pm, a, extra).await;
            out.push((creds.clone(), c["id"].as_str().unwrap().to_owned()));
        }
    }
    out
}

/// Move the sandbox clock past the next banking day's standard cutoff;
/// returns that day.
async fn past_next_cutoff(app: &TestApp) -> chrono::NaiveDate {
    let today = inflow_core::calendar::local_date(sandbox_now(app).await);
    let day = app.state().ach.calendar.next_banking_day(today);
    advance_to_eastern(app, day, 20, 30).await;
    day
}

/// The outbound files, oldest first.
async fn outbound_files(app: &TestApp) -> Vec<Value> {
    let list = app
        .get(&admin(), "/v1/ach/files?direction=outbound&limit=100")
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    let mut files = list.json()["data"].as_array().unwrap().clone();
    files.sort_by(|a, b| a["fileName"].as_str().cmp(&b["fileName"].as_str()));
    files
}

/// The file's bytes (as the bank got them: the local transport's copy must
/// be the same), written to disk and accepted by achlens and
/// `inflow ach validate`; returns its lines.
async fn checked_content(app: &TestApp, dir: &std::path::Path, f: &Value) -> Vec<String> {
    let id = f["id"].as_str().unwrap();
    let r = app
        .get(&admin(), &format!("/v1/ach/files/{id}/content"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let bytes = r.text.into_bytes();
    assert_eq!(f["delivery"]["status"], "uploaded", "{f}");
    let sent = std::fs::read(dir.join("to-bank").join(f["fileName"].as_str().unwrap())).unwrap();
    assert_eq!(sent, bytes, "the bank got the exact bytes");
    let path = app.data_dir.join(format!("{id}.ach"));
    std::fs::write(&path, &bytes).unwrap();
    let out = std::process::Command::new("achlens")
        .arg("validate")
        .arg(&path)
        .output()
        .expect("achlens is on PATH (scripts/achlens-check.sh)");
    assert!(
        out.status.success(),
        "achlens rejected {}:\n{}{}",
        path.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_inflow"))
        .args(["ach", "validate"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "inflow ach validate rejected {}:\n{}{}",
        path.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(bytes)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// A batch as read from the file's lines.
#[derive(Debug)]
struct Batch {
    service_class: String,
    company_id: String,
    sec: String,
    /// (transaction code, DFI account, amount, trace).
    entries: Vec<(String, String, i64, String)>,
    control_debit: i64,
    control_credit: i64,
}

fn batches(lines: &[String]) -> Vec<Batch> {
    let mut out: Vec<Batch> = Vec::new();
    for l in lines {
        match &l[..1] {
            "5" => out.push(Batch {
                service_class: l[1..4].to_owned(),
                company_id: l[40..50].trim().to_owned(),
                sec: l[50..53].to_owned(),
                entries: Vec::new(),
                control_debit: 0,
                control_credit: 0,
            }),
            "6" => out.last_mut().unwrap().entries.push((
                l[1..3].to_owned(),
                l[12..29].trim().to_owned(),
                l[29..39].parse().unwrap(),
                l[79..94].to_owned(),
            )),
            "8" => {
                let b = out.last_mut().unwrap();
                b.control_debit = l[20..32].parse().unwrap();
                b.control_credit = l[32..44].parse().unwrap();
            }
            _ => {}
        }
    }
    out
}

fn is_offset(e: &(String, String, i64, String)) -> bool {
    e.1 == SETTLEMENT
}

async fn ledger_balance(app: &TestApp, k: &'static str) -> i64 {
    let mut tx = app.db.store.read().await.unwrap();
    tx.ledger_account_balance(&LedgerAccount::operator(
        k,
        inflow_core::money::Currency::Usd,
    ))
    .await
    .unwrap()
}

async fn a_balanced_file_offsets_every_batch_to_the_settlement_account(b: Backend) {
    let dir = TempDir::new();
    let mut o = odfi(dir.path());
    o.balanced = true;
    o.settlement_account = settlement("savings");
    let app = spawn_app_with(b, |c| c.odfi = vec![o]).await;
    let debits = three_debits(&app).await;
    let day = past_next_cutoff(&app).await;

    let files = outbound_files(&app).await;
    assert_eq!(files.len(), 1, "{files:?}");
    let f = &files[0];
    assert_eq!(f["totalDebit"], 5950, "{f}");
    assert_eq!(f["totalCredit"], 5950, "{f}");
    assert_eq!(f["entryCount"], 5, "3 debits and 2 offsets: {f}");
    let lines = checked_content(&app, dir.path(), f).await;
    let bs = batches(&lines);
    assert_eq!(bs.len(), 2, "{bs:?}");
    let mut offsets = Vec::new();
    for b in &bs {
        assert_eq!(b.service_class, "200", "mixed: {b:?}");
        assert_eq!(b.control_debit, b.control_credit, "balanced: {b:?}");
        let last = b.entries.last().unwrap();
        assert!(is_offset(last), "the offset ends the batch: {b:?}");
        assert_eq!(last.0, "32", "savings credit: {b:?}");
        assert_eq!(last.2, b.control_debit);
        assert!(b.entries.iter().filter(|e| is_offset(e)).count() == 1);
        let traces: Vec<&String> = b.entries.iter().map(|e| &e.3).collect();
        assert!(
            traces.windows(2).all(|w| w[0] < w[1]),
            "ascending traces: {b:?}"
        );
        offsets.push(last.2);
    }
    offsets.sort();
    assert_eq!(offsets, vec![750, 5200]);
    // File control: debits equal credits.
    let control = lines.iter().find(|l| l.starts_with('9')).unwrap();
    assert_eq!(control[31..43], control[43..55], "{control}");

    // The ledger: the offsets moved the debits from ACH clearing to the
    // settlement account.
    assert_eq!(ledger_balance(&app, kind::ACH_SETTLEMENT).await, -5950);
    assert_eq!(ledger_balance(&app, kind::ACH_CLEARING).await, 0);
    ledger_is_sound(&app).await;
    // The day's report still ties out: the settlement account counts with
    // clearing.
    let rep = app
        .get(&admin(), &format!("/v1/reports/settlement?date={day}"))
        .await;
    assert_eq!(rep.status, StatusCode::OK, "{}", rep.text);
    let rep = rep.json();
    assert_eq!(rep["tiesOut"]["submittedMatchesNachaFiles"], true, "{rep}");
    assert_eq!(rep["tiesOut"]["accountsMatchClearing"], true, "{rep}");
    for (creds, id) in &debits {
        assert_eq!(collection(&app, creds, id).await["status"], "submitted");
    }
}

async fn debits_and_credits_go_in_separate_files(b: Backend) {
    let dir = TempDir::new();
    let mut o = odfi(dir.path());
    o.balanced = true;
    o.separate_debits_and_credits = true;
    o.settlement_account = settlement("checking");
    o.file_name_pattern = Some("FB-{date}-{modifier}-{kind}.ach".into());
    let app = spawn_app_with(b, |c| c.odfi = vec![o]).await;
    three_debits(&app).await;
    past_next_cutoff(&app).await;

    let files = outbound_files(&app).await;
    assert_eq!(files.len(), 2, "{files:?}");
    let (credit_file, debit_file) = (&files[1], &files[0]);
    assert!(
        debit_file["fileName"]
            .as_str()
            .unwrap()
            .ends_with("-A-debits.ach"),
        "{debit_file}"
    );
    assert!(
        credit_file["fileName"]
            .as_str()
            .unwrap()
            .ends_with("-B-credits.ach"),
        "{credit_file}"
    );
    let debit_lines = checked_content(&app, dir.path(), debit_file).await;
    let credit_lines = checked_content(&app, dir.path(), credit_file).await;
    let debits = batches(&debit_lines);
    let credits = batches(&credit_lines);
    assert_eq!(debits.len(), 2);
    for b in &debits {
        assert_eq!(b.service_class, "225", "{b:?}");
        assert_eq!(b.control_credit, 0);
        assert!(
            b.entries.iter().all(|e| e.0 == "27" && !is_offset(e)),
            "{b:?}"
        );
    }
    assert_eq!(credits.len(), 2);
    for (c, d) in credits.iter().zip(&debits) {
        assert_eq!(c.service_class, "220", "{c:?}");
        assert_eq!(c.control_debit, 0);
        assert_eq!(c.entries.len(), 1);
        assert!(is_offset(&c.entries[0]) && c.entries[0].0 == "22", "{c:?}");
        assert_eq!(c.control_credit, d.control_debit, "offsets its debit batch");
    }
    assert_eq!(debit_file["totalDebit"], 5950);
    assert_eq!(debit_file["totalCredit"], 0);
    assert_eq!(credit_file["totalCredit"], 5950);
    assert_eq!(credit_file["totalDebit"], 0);
    assert_eq!(ledger_balance(&app, kind::ACH_SETTLEMENT).await, -5950);
    ledger_is_sound(&app).await;
}

async fn header_values_name_pattern_modifiers_and_entry_ceiling_follow_the_odfi(b: Backend) {
    let dir = TempDir::new();
    let mut o = odfi(dir.path());
    o.immediate_destination_name = "Bank of Tests".into();
    o.immediate_origin_name = "Originator Co".into();
    o.reference_code = Some("REF42".into());
    o.company_id = Some("9876543210".into());
    o.file_name_pattern = Some("ach_{yymmdd}_{modifier}.txt".into());
    o.file_id_modifiers = Some("0123456789".into());
    o.max_entries_per_file = Some(2);
    let app = spawn_app_with(b, |c| c.odfi = vec![o]).await;
    three_debits(&app).await;
    past_next_cutoff(&app).await;

    let files = outbound_files(&app).await;
    assert_eq!(files.len(), 2, "3 entries, at most 2 per file: {files:?}");
    let mut entries = 0;
    for (i, f) in files.iter().enumerate() {
        let name = f["fileName"].as_str().unwrap();
        assert!(
            name.starts_with("ach_") && name.ends_with(&format!("_{i}.txt")),
            "{name}"
        );
        assert_eq!(f["fileIdModifier"], i.to_string(), "{f}");
        let lines = checked_content(&app, dir.path(), f).await;
        let header = &lines[0];
        assert_eq!(&header[33..34], i.to_string(), "{header}");
        assert_eq!(header[40..63].trim_end(), "BANK OF TESTS", "{header}");
        assert_eq!(header[63..86].trim_end(), "ORIGINATOR CO", "{header}");
        assert_eq!(header[86..94].trim_end(), "REF42", "{header}");
        for b in batches(&lines) {
            assert_eq!(b.company_id, "9876543210", "{b:?}");
            entries += b.entries.len();
        }
    }
    assert_eq!(entries, 3);
}

async fn a_tel_batch_is_offset_in_a_ccd_batch_of_its_own(b: Backend) {
    let dir = TempDir::new();
    let mut o = odfi(dir.path());
    o.balanced = true;
    o.settlement_account = settlement("checking");
    let app = spawn_app_with(b, |c| c.odfi = vec![o]).await;
    let (_, creds) = app.customer_with_key("Phone Co", json!({})).await;
    let dest = destination(&app, &creds).await;
    let pm = make_pm(&app, &creds, "9999000001").await;
    let phone = json!({"authorization": {"type": "phone", "obtainedAt": "2026-02-01T00:00:00Z"}});
    for amount in ["1200", "300"] {
        let c = collect(&app, &creds, &dest, &pm, amount, phone.clone()).await;
        assert_eq!(c["secCode"], "TEL", "{c}");
    }
    past_next_cutoff(&app).await;

    let files = outbound_files(&app).await;
    assert_eq!(files.len(), 1, "{files:?}");
    let lines = checked_content(&app, dir.path(), &files[0]).await;
    let bs = batches(&lines);
    assert_eq!(bs.len(), 2, "{bs:?}");
    // NACHA allows only debits in TEL batches.
    assert_eq!(
        (bs[0].service_class.as_str(), bs[0].sec.as_str()),
        ("225", "TEL")
    );
    assert!(bs[0].entries.iter().all(|e| e.0 == "27"), "{bs:?}");
    assert_eq!(
        (bs[1].service_class.as_str(), bs[1].sec.as_str()),
        ("220", "CCD")
    );
    assert_eq!(bs[1].entries.len(), 1);
    assert!(
        is_offset(&bs[1].entries[0]) && bs[1].entries[0].0 == "22",
        "{bs:?}"
    );
    assert_eq!(bs[1].control_credit, 1500);
    assert_eq!(bs[0].control_debit, 1500);
    assert!(
        bs[0].entries.last().unwrap().3 < bs[1].entries[0].3,
        "traces ascend"
    );
    assert_eq!(files[0]["totalCredit"], 1500);
    assert_eq!(ledger_balance(&app, kind::ACH_SETTLEMENT).await, -1500);
    ledger_is_sound(&app).await;
}
