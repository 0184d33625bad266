//! Helpers for refund and reversal tests: an ODFI taking files through a
//! local folder, completed debits, the outbound files checked by `achlens`
//! and `inflow ach validate`, and return files for filed credits.

use inflow_server::odfi::{OdfiSettings, SettlementAccountSettings, TransportSettings};
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::ach::*;
use super::{admin, Creds, TestApp, ADMIN_KEY};

/// The account number of the payers in these tests.
pub const PAYER: &str = "000123456789";
/// The operator's settlement account (balanced ODFIs).
pub const SETTLEMENT: &str = "55500011";

/// A directory removed at the end of the test.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let p =
            std::env::temp_dir().join(format!("inflow-credits-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An ODFI that takes files through two local folders under `dir`;
/// `balanced`: every batch offset to the settlement account.
pub fn odfi(dir: &std::path::Path, balanced: bool) -> OdfiSettings {
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
        balanced,
        settlement_account: balanced.then(|| SettlementAccountSettings {
            routing_number: "021000021".into(),
            account_number: SETTLEMENT.into(),
            account_type: "checking".into(),
            name: Some("Inflow Settlement".into()),
        }),
        ..Default::default()
    }
}

/// Move the sandbox clock past the next banking day's standard cutoff;
/// returns that day.
pub async fn past_next_cutoff(app: &TestApp) -> chrono::NaiveDate {
    let today = inflow_core::calendar::local_date(sandbox_now(app).await);
    let day = app.state().ach.calendar.next_banking_day(today);
    advance_to_eastern(app, day, 20, 30).await;
    day
}

/// A customer's debit of `amount`, filed and then completed (good funds).
pub struct Debit {
    pub creds: Creds,
    pub customer: String,
    pub dest: String,
    pub id: String,
}

/// A debit filed at the next cutoff, not yet completed.
pub async fn filed_debit(app: &TestApp, amount: &str, extra: Value) -> Debit {
    let (customer, creds) = app.customer_with_key("Acme", json!({})).await;
    let dest = destination(app, &creds).await;
    let pm = make_pm(app, &creds, PAYER).await;
    let c = collect(app, &creds, &dest, &pm, amount, extra).await;
    let id = c["id"].as_str().unwrap().to_owned();
    past_next_cutoff(app).await;
    let c = collection(app, &creds, &id).await;
    assert_eq!(c["status"], "submitted", "{c}");
    Debit {
        creds,
        customer,
        dest,
        id,
    }
}

/// Let days pass until `id` is completed.
pub async fn until_completed(app: &TestApp, creds: &Creds, id: &str) {
    for _ in 0..10 {
        if collection(app, creds, id).await["status"] == "completed" {
            return;
        }
        advance_days(app, 1).await;
    }
    panic!("{id} never completed: {}", collection(app, creds, id).await);
}

/// The outbound files, by file name.
pub async fn outbound_files(app: &TestApp) -> Vec<Value> {
    let list = app
        .get(&admin(), "/v1/ach/files?direction=outbound&limit=100")
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    let mut files = list.json()["data"].as_array().unwrap().clone();
    files.sort_by(|a, b| a["fileName"].as_str().cmp(&b["fileName"].as_str()));
    files
}

/// The outbound file with id `id`.
pub async fn file(app: &TestApp, id: &str) -> Value {
    let r = app.get(&admin(), &format!("/v1/ach/files/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json()
}

/// The file's bytes, accepted by achlens and `inflow ach validate`.
pub async fn checked_content(app: &TestApp, id: &str) -> Vec<u8> {
    let r = app
        .get(&admin(), &format!("/v1/ach/files/{id}/content"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let bytes = r.text.into_bytes();
    let path = app.data_dir.join(format!("{id}.ach"));
    std::fs::write(&path, &bytes).unwrap();
    let out = std::process::Command::new("achlens")
        .arg("validate")
        .arg(&path)
        .output()
        .expect("achlens is on PATH (scripts/achlens-check.sh)");
    assert!(
        out.status.success(),
        "achlens rejected {}:\n{}{}\n{}",
        path.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&bytes)
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
    bytes
}

/// A batch as read from a file's lines.
#[derive(Debug)]
pub struct Batch {
    pub service_class: String,
    pub company_id: String,
    pub sec: String,
    pub description: String,
    /// (transaction code, DFI account, amount, trace).
    pub entries: Vec<(String, String, i64, String)>,
    pub control_debit: i64,
    pub control_credit: i64,
}

pub fn batches(bytes: &[u8]) -> Vec<Batch> {
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let mut out: Vec<Batch> = Vec::new();
    for l in text.lines() {
        match &l[..1] {
            "5" => out.push(Batch {
                service_class: l[1..4].to_owned(),
                company_id: l[40..50].trim().to_owned(),
                sec: l[50..53].to_owned(),
                description: l[53..63].trim().to_owned(),
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

/// The sandbox bank's R01 return of every entry of `outbound` (the payer's
/// account number swapped for the magic `9999000101` first).
pub fn return_file_for(app: &TestApp, outbound: &[u8]) -> Vec<u8> {
    let from = format!("{PAYER:<17}");
    let to = format!("{:<17}", "9999000101");
    let text = String::from_utf8(outbound.to_vec())
        .unwrap()
        .replace(&from, &to);
    let answers = inflow_engine::sandbox_bank::answer(text.as_bytes(), &app.state().ach).unwrap();
    assert_eq!(answers.len(), 1);
    answers[0].file.to_bytes()
}

/// Upload a return file as the operator; the ingestion report.
pub async fn upload_returns(app: &TestApp, bytes: Vec<u8>) -> Value {
    let r = app
        .client
        .post(format!("{}/v1/ach/inbound", app.base))
        .header("authorization", format!("Bearer {ADMIN_KEY}"))
        .header("content-type", "text/plain")
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json().await.unwrap()
}

/// The event types of object `id`, oldest first.
pub async fn event_types(app: &TestApp, id: &str) -> Vec<String> {
    let mut tx = app.db.store.read().await.unwrap();
    tx.events_for_object(id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event_type)
        .collect()
}
