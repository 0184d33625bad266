//! The shared inbound folder watched by several nodes, on SQLite and
//! PostgreSQL: two "nodes" (two store handles on one database, each with
//! its own connection pool) run the inbound pass at the same time over a
//! folder of return files; each file is ingested exactly once, no pass
//! fails, and every file ends in `processed/`. A claim held by a live
//! node is respected; an expired one is taken over.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use inflow_core::bank::RoutingNumber;
use inflow_core::calendar::{BankingCalendar, CutoffSchedule};
use inflow_core::crypto::{MasterKey, Vault};
use inflow_engine::config::AchConfig;
use inflow_engine::inbound::{content_sha256, ingest_inbound_dir, DirOutcome, DirResult};
use inflow_engine::sandbox_bank;
use inflow_store::testing::{on_both_backends, TestBackend, TestDb};
use inflow_store::Store;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::Barrier;

on_both_backends!(
    two_nodes_ingest_each_shared_file_exactly_once,
    a_live_claim_is_skipped_and_an_expired_one_taken_over,
);

const ODFI: &str = "121042882";
const FILES: u32 = 8;

fn vault() -> Vault {
    Vault::new(&MasterKey::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap())
}

fn config(dir: &Path) -> AchConfig {
    AchConfig {
        immediate_destination: RoutingNumber::parse("x", "231380104").unwrap(),
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
        odfis: Vec::new(),
    }
}

fn temp_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "inflow-claims-{}",
        inflow_core::ids::new_id_body(Utc::now())
    ));
    std::fs::create_dir_all(d.join("inbound")).unwrap();
    d
}

/// Entries per return file: enough that ingesting one takes a while, so
/// the two nodes' passes overlap.
const ENTRIES: u32 = 200;

/// The bank's return file for an outbound debit file of [`ENTRIES`]
/// entries with traces `seq * 1000 + j` (R01s for entries Inflow does not
/// know: recorded as unmatched).
fn return_file(cfg: &AchConfig, seq: u32) -> Vec<u8> {
    use nacha::*;
    let odfi = RoutingNumber::parse(ODFI).unwrap();
    let mut outbound = FileBuilder::new(FileHeaderSpec::new(
        RoutingNumber::parse("231380104").unwrap(),
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
        odfi,
    ));
    for j in 0..ENTRIES {
        outbound = outbound.entry(
            EntrySpec::new(
                TransactionCode::CHECKING_DEBIT,
                RoutingNumber::parse("231380104").unwrap(),
                "9999000101",
                12_345,
                "Jane Doe",
            )
            .trace(TraceNumber::new(&odfi, seq * 1000 + j).unwrap()),
        );
    }
    let outbound = outbound.build().unwrap().to_checked_bytes().unwrap();
    let answers = sandbox_bank::answer(&outbound, cfg).unwrap();
    assert_eq!(answers.len(), 1);
    answers[0].file.to_bytes()
}

fn now() -> DateTime<Utc> {
    Utc.from_utc_datetime(
        &NaiveDate::from_ymd_opt(2026, 3, 3)
            .unwrap()
            .and_hms_opt(15, 0, 0)
            .unwrap(),
    )
}

/// Drop `count` return files into the inbound folder; their SHA-256s by name.
fn drop_files(cfg: &AchConfig, count: u32) -> Vec<(String, String)> {
    (1..=count)
        .map(|seq| {
            let bytes = return_file(cfg, seq);
            let name = format!("returns-{seq:02}.ach");
            std::fs::write(cfg.inbound_dir.join(&name), &bytes).unwrap();
            (name, content_sha256(&bytes))
        })
        .collect()
}

fn names_in(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| e.file_name().into_string().unwrap())
        .collect()
}

/// Two passes on one node, one after the other, the first starting with
/// the other node's.
async fn node(store: Store, cfg: AchConfig, start: Arc<Barrier>) -> Vec<DirResult> {
    let vault = vault();
    let mut all = Vec::new();
    start.wait().await;
    for _ in 0..2 {
        let results = ingest_inbound_dir(&store, &vault, &cfg, now())
            .await
            .expect("an inbound pass must not fail");
        all.extend(results);
    }
    all
}

async fn two_nodes_ingest_each_shared_file_exactly_once(backend: TestBackend) {
    let db = TestDb::new(backend).await;
    let dir = temp_dir();
    let cfg = config(&dir);
    let files = drop_files(&cfg, FILES);
    let keys: Vec<String> = files.iter().map(|(n, _)| key_of(&cfg, n)).collect();
    let a = Store::connect(&db.url).await.unwrap();
    let b = Store::connect(&db.url).await.unwrap();

    let start = Arc::new(Barrier::new(2));
    let (ra, rb) = tokio::join!(
        tokio::spawn(node(a, cfg.clone(), start.clone())),
        tokio::spawn(node(b, cfg.clone(), start))
    );
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    let mut ingested = BTreeSet::new();
    for r in ra.iter().chain(&rb) {
        match &r.outcome {
            DirOutcome::Processed { report } => {
                assert!(
                    !report.duplicate,
                    "{} was ingested by both nodes",
                    r.file_name
                );
                assert!(
                    ingested.insert(r.file_name.clone()),
                    "{} ingested twice",
                    r.file_name
                );
            }
            other => panic!("{}: {other:?}", r.file_name),
        }
    }
    let expected: BTreeSet<String> = files.iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(ingested, expected, "every file ingested exactly once");
    assert_eq!(names_in(&cfg.inbound_dir.join("processed")), expected);
    assert!(names_in(&cfg.inbound_dir).is_empty(), "nothing left behind");

    let mut tx = db.store.read().await.unwrap();
    for (name, sha) in &files {
        assert!(
            tx.inbound_file_by_sha256(sha).await.unwrap().is_some(),
            "{name} recorded"
        );
    }
    let unmatched = tx.unmatched_ach_returns(10_000).await.unwrap();
    assert_eq!(
        unmatched.len(),
        (FILES * ENTRIES) as usize,
        "every return of every file, once"
    );
    // Every claim was given back.
    for key in &keys {
        let held = tx.inbound_file_claim_holder(key).await.unwrap();
        assert_eq!(held, None, "{key}");
    }
    tx.rollback().await.unwrap();
    let _ = std::fs::remove_dir_all(dir);
}

/// The claim key the engine uses for the file `name` in the folder.
fn key_of(cfg: &AchConfig, name: &str) -> String {
    let meta = std::fs::metadata(cfg.inbound_dir.join(name)).unwrap();
    let modified = meta
        .modified()
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{name}|{}|{modified}", meta.len())
}

async fn a_live_claim_is_skipped_and_an_expired_one_taken_over(backend: TestBackend) {
    let db = TestDb::new(backend).await;
    let dir = temp_dir();
    let cfg = config(&dir);
    let files = drop_files(&cfg, 2);
    let (live, expired) = (&files[0].0, &files[1].0);
    let wall = Utc::now();
    let mut tx = db.store.begin().await.unwrap();
    // Another host's node working on the first file; a node that stopped
    // renewing its claim on the second an hour ago.
    let until = wall + chrono::Duration::minutes(10);
    assert!(tx
        .try_claim_inbound_file(&key_of(&cfg, live), "elsewhere:1:a", until, wall)
        .await
        .unwrap());
    let lapsed = wall - chrono::Duration::hours(1);
    assert!(tx
        .try_claim_inbound_file(&key_of(&cfg, expired), "elsewhere:2:b", lapsed, lapsed)
        .await
        .unwrap());
    tx.commit().await.unwrap();

    let results = ingest_inbound_dir(&db.store, &vault(), &cfg, now())
        .await
        .unwrap();
    let names: Vec<&str> = results.iter().map(|r| r.file_name.as_str()).collect();
    assert_eq!(names, vec![expired.as_str()], "{results:?}");
    assert!(matches!(results[0].outcome, DirOutcome::Processed { .. }));
    assert!(
        cfg.inbound_dir.join(live).exists(),
        "the claimed file stays"
    );
    assert!(cfg.inbound_dir.join("processed").join(expired).exists());

    let mut tx = db.store.read().await.unwrap();
    assert!(tx
        .inbound_file_by_sha256(&files[0].1)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        tx.inbound_file_claim_holder(&key_of(&cfg, live))
            .await
            .unwrap()
            .as_deref(),
        Some("elsewhere:1:a")
    );
    tx.rollback().await.unwrap();
    let _ = std::fs::remove_dir_all(dir);
}
