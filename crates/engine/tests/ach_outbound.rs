//! The outbound half of the ACH rail on SQLite and PostgreSQL: release,
//! cutoffs and their files, settlement, leases and the scheduler tick.
//!
//! Dates are in November 2026: Mon 23, Tue 24, Wed 25, Thu 26 (Thanksgiving,
//! closed), Fri 27, Sat 28, Sun 29, Mon 30, Tue Dec 1. US/Eastern is UTC−5.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use inflow_core::bank::{AccountType, HolderType, RoutingNumber};
use inflow_core::calendar::{BankingCalendar, Cutoff, CutoffKind, CutoffSchedule};
use inflow_core::collection::*;
use inflow_core::crypto::{MasterKey, Vault};
use inflow_core::ids::{AccountId, CollectionId, CustomerId};
use inflow_core::model::*;
use inflow_core::money::{Currency, Money};
use inflow_engine::config::AchConfig;
use inflow_engine::cutoff::{run_cutoff, FileSummary};
use inflow_engine::delivery::upload::deliver_due;
use inflow_engine::delivery::Delivery;
use inflow_engine::files::{file_bytes, write_file, write_pending_files, AchError};
use inflow_engine::leases::{release_lease, try_acquire_lease};
use inflow_engine::release::release_due;
use inflow_engine::scheduler::{last_tick, tick};
use inflow_engine::settlement::settle;
use inflow_store::repo::ach_files::{AchFile, STATUS_CREATED, STATUS_WRITTEN};
use inflow_store::testing::{on_both_backends, TestBackend, TestDb};
use inflow_store::Store;

on_both_backends!(
    a_debit_is_filed_at_the_standard_cutoff_in_a_strictly_valid_file,
    same_day_windows_take_only_same_day_entries,
    a_same_day_entry_that_missed_every_window_moves_to_the_next_banking_day,
    a_deferred_collection_is_not_filed_before_its_release_date,
    concurrent_cutoffs_never_file_a_collection_twice,
    rewriting_a_created_file_gives_identical_bytes,
    settlement_follows_banking_days,
    prenotes_complete_after_three_banking_days,
    trace_numbers_are_unique_and_ascend_within_each_batch,
    a_tick_over_several_days_runs_each_cutoff_once,
    leases_are_exclusive_until_they_expire,
    the_trace_counter_reserves_blocks_and_wraps,
    an_entry_that_cannot_be_written_fails_alone,
);

// ---------------------------------------------------------------- fixtures

/// The sandbox's ODFI: the simulated bank takes each file once written.
fn sandbox() -> Delivery {
    Delivery::sandbox(PathBuf::new())
}

fn d(m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, day).unwrap()
}

/// US/Eastern wall clock (EST, UTC−5, in late November 2026).
fn et(m: u32, day: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, m, day, h, min, 0).unwrap() + chrono::Duration::hours(5)
}

fn routing(s: &str) -> RoutingNumber {
    RoutingNumber::parse("routingNumber", s).unwrap()
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "inflow-engine-{tag}-{}",
        inflow_core::ids::new_id_body(Utc::now())
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

struct World {
    db: TestDb,
    vault: Vault,
    cfg: AchConfig,
    customer: CustomerId,
    account: AccountId,
    dir: PathBuf,
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn config(outbound: &Path) -> AchConfig {
    AchConfig {
        immediate_destination: routing("231380104"),
        immediate_destination_name: "Federal Reserve Bank".into(),
        immediate_origin: "1234567890".into(),
        immediate_origin_name: "Inflow Operator".into(),
        odfi_routing: routing("121042882"),
        outbound_dir: outbound.to_path_buf(),
        inbound_dir: outbound.join("../inbound"),
        good_funds_banking_days: 2,
        prenote_wait_banking_days: 3,
        calendar: BankingCalendar::federal_reserve(),
        cutoffs: CutoffSchedule::default(),
        effective_date_horizon_days: 365,
        sandbox_bank: false,
        max_entries_per_file: inflow_engine::config::DEFAULT_MAX_ENTRIES_PER_FILE,
        debit_limits: Default::default(),
        file_rules: Default::default(),
        odfis: Vec::new(),
    }
}

async fn world(backend: TestBackend) -> World {
    let db = TestDb::new(backend).await;
    let vault = Vault::new(&MasterKey::generate());
    let dir = temp_dir("ach");
    let cfg = config(&dir.join("outbound"));
    let now = et(11, 1, 9, 0);
    let customer = Customer {
        id: CustomerId::generate(now),
        name: "Acme Utilities".into(),
        kind: CustomerKind::Business,
        email: None,
        status: CustomerStatus::Active,
        allow_one_time_source: true,
        require_signed_requests: false,
        ach_company_name: Some("ACME UTILITIES".into()),
        ach_company_id: Some("1234567890".into()),
        allowed_company_names: Vec::new(),
        ach_policy: Default::default(),
        card_daily_limit: inflow_core::model::DEFAULT_CARD_DAILY_LIMIT,
        ach_limits: Default::default(),
        can_manage_api_keys: false,
        odfi_id: None,
        metadata: Metadata::new(),
        created_at: now,
        updated_at: now,
    };
    let account = Account {
        id: AccountId::generate(now),
        customer_id: customer.id.clone(),
        name: "Operating".into(),
        currency: Currency::parse("currency", "USD").unwrap(),
        status: AccountStatus::Active,
        external_id: None,
        metadata: Metadata::new(),
        created_at: now,
        updated_at: now,
        odfi_id: None,
    };
    let (c2, a2) = (customer.clone(), account.clone());
    db.store
        .write(move |tx| {
            Box::pin(async move {
                tx.insert_customer(&c2).await?;
                tx.insert_account(&a2).await
            })
        })
        .await
        .unwrap();
    World {
        db,
        vault,
        cfg,
        customer: customer.id,
        account: account.id,
        dir,
    }
}

/// A collection as the API would make it; tweak fields before [`World::insert`].
fn collection(
    w: &World,
    status: CollectionStatus,
    effective: NaiveDate,
    release: NaiveDate,
) -> AchCollection {
    let now = et(11, 20, 12, 0);
    let id = CollectionId::generate(Utc::now());
    AchCollection {
        account_number_sealed: w.vault.seal(b"000123456789", id.as_str()),
        id,
        customer_id: w.customer.clone(),
        entry_type: AchEntryType::Debit,
        status,
        status_reason: None,
        status_history: vec![StatusChange {
            status,
            reason: None,
            at: now,
        }],
        amount: Money::usd(12_345).unwrap(),
        destination_account_id: w.account.clone(),
        payment_method_id: None,
        counterparty_id: None,
        routing_number: routing("021000021"),
        account_last4: "6789".into(),
        account_fingerprint: "fp".into(),
        account_type: AccountType::Checking,
        holder_name: "Jane Doe".into(),
        holder_type: HolderType::Individual,
        sec_code: SecCode::Ppd,
        processing_mode: ProcessingMode::Standard,
        payment_type: None,
        effective_date: effective,
        release_date: release,
        authorization: Authorization {
            kind: AuthorizationType::Written,
            obtained_at: now,
            ip_address: None,
            evidence_ref: None,
        },
        company_name: "ACME UTILITIES".into(),
        company_id: "1234567890".into(),
        company_entry_description: "UTILITY".into(),
        addenda: None,
        reference: None,
        purpose: None,
        external_id: None,
        metadata: Metadata::new(),
        trace_number: None,
        file_id: None,
        return_code: None,
        return_trace: None,
        noc_code: None,
        noc_corrected_data: None,
        noc_correction: None,
        created_at: now,
        updated_at: now,
        submitted_at: None,
        completed_at: None,
        returned_at: None,
        hold: None,
        schedule: None,
        fees: Default::default(),
    }
}

/// A pending standard debit released on `release`, effective the next banking day.
fn standard(w: &World, release: NaiveDate) -> AchCollection {
    let eff = w.cfg.calendar.next_banking_day(release);
    collection(w, CollectionStatus::Pending, eff, release)
}

/// A pending same-day debit effective (and released) on `day`.
fn same_day(w: &World, day: NaiveDate) -> AchCollection {
    let mut c = collection(w, CollectionStatus::Pending, day, day);
    c.processing_mode = ProcessingMode::SameDay;
    c
}

impl World {
    fn store(&self) -> &Store {
        &self.db.store
    }

    async fn insert(&self, c: AchCollection) -> CollectionId {
        let id = c.id.clone();
        self.store()
            .write(move |tx| Box::pin(async move { tx.insert_ach_collection(&c).await }))
            .await
            .unwrap();
        id
    }

    async fn get(&self, id: &CollectionId) -> AchCollection {
        let mut tx = self.store().read().await.unwrap();
        let c = tx.get_ach_collection(None, id).await.unwrap();
        tx.rollback().await.unwrap();
        c
    }

    async fn file(&self, id: &str) -> AchFile {
        let mut tx = self.store().read().await.unwrap();
        let f = tx.get_ach_file(id).await.unwrap();
        tx.rollback().await.unwrap();
        f
    }

    async fn all_files(&self) -> Vec<AchFile> {
        let mut tx = self.store().read().await.unwrap();
        let p = tx
            .list_ach_files(Some("outbound"), &inflow_store::ListQuery::first(200))
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        p.data
    }

    async fn event_types(&self, id: &CollectionId) -> Vec<String> {
        let mut tx = self.store().read().await.unwrap();
        let e = tx.events_for_object(id.as_str()).await.unwrap();
        tx.rollback().await.unwrap();
        e.into_iter().map(|e| e.event_type).collect()
    }

    /// The delivery job with the sandbox's simulated bank.
    async fn deliver(&self, at: DateTime<Utc>) {
        deliver_due(self.store(), &self.vault, &sandbox(), at)
            .await
            .unwrap();
    }

    fn cutoff(&self, date: NaiveDate, kind: CutoffKind) -> Cutoff {
        *self
            .cfg
            .cutoffs
            .cutoffs_on(&self.cfg.calendar, date)
            .iter()
            .find(|c| c.kind == kind)
            .expect("a cutoff of that kind on that day")
    }

    /// Run a cutoff that makes at most one file, hand it to the sandbox's
    /// simulated bank (its collections `batched → submitted`), and return it.
    async fn run(&self, date: NaiveDate, kind: CutoffKind) -> Option<FileSummary> {
        let c = self.cutoff(date, kind);
        let mut s = run_cutoff(self.store(), &self.vault, &self.cfg, &c, c.at)
            .await
            .unwrap();
        self.deliver(c.at).await;
        assert!(s.files.len() <= 1, "{:?}", s.files);
        s.files.pop()
    }
}

const STANDARD: CutoffKind = CutoffKind::Standard;
const WINDOW1: CutoffKind = CutoffKind::SameDay { window: 0 };
const WINDOW2: CutoffKind = CutoffKind::SameDay { window: 1 };

fn parse_file(path: &Path) -> nacha::NachaFile {
    let bytes = std::fs::read(path).expect("file on disk");
    let file = nacha::read(&bytes).expect("reads");
    let findings = file.validate(&nacha::ValidateOptions::strict());
    assert!(findings.is_empty(), "strict findings: {findings:?}");
    file
}

fn achlens_validate(path: &Path) {
    let found = Command::new("achlens")
        .arg("--help")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        found,
        "\n\n*** achlens is not on PATH. Run scripts/achlens-check.sh (pip install achlens==0.1.7). ***\n\n"
    );
    let out = Command::new("achlens")
        .arg("validate")
        .arg(path)
        .output()
        .expect("run achlens");
    assert!(
        out.status.success(),
        "achlens rejected {}:\n{}{}",
        path.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// (transaction code, amount, individual id, name, trace, payment type/discretionary, addenda) of every entry.
fn entries(file: &nacha::NachaFile) -> Vec<Vec<(String, String)>> {
    file.batches
        .iter()
        .map(|b| {
            b.entries
                .iter()
                .map(|e| {
                    let r = e.detail.bytes();
                    let s = String::from_utf8_lossy(&r[..]).into_owned();
                    (
                        s,
                        e.addenda
                            .first()
                            .map(|a| String::from_utf8_lossy(&a.bytes()[..]).into_owned())
                            .unwrap_or_default(),
                    )
                })
                .collect()
        })
        .collect()
}

fn trace_of(detail: &str) -> &str {
    &detail[79..94]
}

// ------------------------------------------------------------------ tests

async fn a_debit_is_filed_at_the_standard_cutoff_in_a_strictly_valid_file(b: TestBackend) {
    let w = world(b).await;
    let debit = w.insert(standard(&w, d(11, 23))).await;
    let mut p = standard(&w, d(11, 23));
    p.entry_type = AchEntryType::Prenote;
    p.account_type = AccountType::Savings;
    p.holder_name = "Zoë O'Brien-Smith, Jr. & Co".into();
    p.reference = Some("inv-2026-0042".into());
    let prenote = w.insert(p).await;
    let mut web = standard(&w, d(11, 23));
    web.sec_code = SecCode::Web;
    web.payment_type = Some(PaymentType::Recurring);
    web.addenda = Some("Invoice 42 for November".into());
    web.company_entry_description = "MEMBERSHIP".into();
    let web = w.insert(web).await;
    let mut tel = standard(&w, d(11, 23));
    tel.sec_code = SecCode::Tel;
    tel.addenda = Some("never written for TEL".into());
    let tel = w.insert(tel).await;

    // The same-day windows take none of them.
    assert!(w.run(d(11, 23), WINDOW1).await.is_none());
    let s = w.run(d(11, 23), STANDARD).await.expect("a file");
    assert_eq!(s.file_name, "INFLOW-20261123-A.ach");
    assert_eq!(s.entry_count, 4);
    assert_eq!(s.total_debit, 3 * 12_345);
    assert_eq!(s.batch_count, 3, "PPD, TEL, WEB/MEMBERSHIP");

    for id in [&debit, &prenote, &web, &tel] {
        let c = w.get(id).await;
        assert_eq!(c.status, CollectionStatus::Submitted);
        assert_eq!(c.file_id.as_deref(), Some(s.file_id.as_str()));
        let trace = c.trace_number.clone().expect("trace assigned");
        assert!(
            trace.starts_with("12104288") && trace.len() == 15,
            "{trace}"
        );
        assert!(c.submitted_at.is_some());
        assert_eq!(
            c.status_history.last().map(|h| h.status),
            Some(CollectionStatus::Submitted)
        );
        assert!(w
            .event_types(id)
            .await
            .contains(&"collection.submitted".to_string()));
    }

    let row = w.file(&s.file_id).await;
    assert_eq!(row.status, STATUS_WRITTEN);
    assert_eq!(row.direction, "outbound");
    assert_eq!(row.file_id_modifier.as_deref(), Some("A"));
    assert_eq!(row.creation_date, d(11, 23));
    let path = w.cfg.outbound_dir.join(&row.file_name);
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(
        row.sha256.as_deref(),
        Some(inflow_engine::files::sha256_hex(&bytes).as_str())
    );
    let parsed = parse_file(&path);
    achlens_validate(&path);

    // Header: creation 261123 at 20:00 ET, modifier A.
    let header = String::from_utf8_lossy(&parsed.header.as_ref().unwrap().bytes()[..]).into_owned();
    assert_eq!(&header[23..33], "2611232000");
    assert_eq!(&header[33..34], "A");
    // Batches: service class 225, EED Tue 261124.
    for b in &parsed.batches {
        let h = String::from_utf8_lossy(&b.header.bytes()[..]).into_owned();
        assert_eq!(&h[1..4], "225");
        assert_eq!(&h[69..75], "261124");
    }
    let all: Vec<(String, String)> = entries(&parsed).into_iter().flatten().collect();
    let by_trace = |t: &str| all.iter().find(|(e, _)| trace_of(e) == t).cloned().unwrap();
    let dc = w.get(&debit).await;
    let (e, a) = by_trace(dc.trace_number.as_deref().unwrap());
    assert_eq!(&e[1..3], "27");
    assert_eq!(&e[29..39], "0000012345");
    assert_eq!(e[12..29].trim_end(), "000123456789");
    assert_eq!(e[54..76].trim_end(), "JANE DOE");
    let id15 = &dc.id.as_str()[dc.id.as_str().len() - 15..];
    assert_eq!(e[39..54].trim_end(), id15.to_ascii_uppercase());
    assert_eq!(&e[78..79], "0");
    assert!(a.is_empty());

    let pc = w.get(&prenote).await;
    let (e, _) = by_trace(pc.trace_number.as_deref().unwrap());
    assert_eq!(&e[1..3], "38", "savings prenote");
    assert_eq!(&e[29..39], "0000000000");
    assert_eq!(e[39..54].trim_end(), "INV-2026-0042");
    assert_eq!(e[54..76].trim_end(), "ZOE O'BRIEN-SMITH, JR.");

    let wc = w.get(&web).await;
    let (e, a) = by_trace(wc.trace_number.as_deref().unwrap());
    assert_eq!(&e[76..78], "R ");
    assert_eq!(&e[78..79], "1");
    assert!(a.starts_with("705INVOICE 42 FOR NOVEMBER"), "{a}");

    let tc = w.get(&tel).await;
    let (e, a) = by_trace(tc.trace_number.as_deref().unwrap());
    assert_eq!(&e[76..78], "S ", "TEL defaults to a single entry");
    assert_eq!(&e[78..79], "0", "no addenda for TEL");
    assert!(a.is_empty());

    // Nothing is left for a second run of the same cutoff.
    assert!(w.run(d(11, 23), STANDARD).await.is_none());
}

async fn same_day_windows_take_only_same_day_entries(b: TestBackend) {
    let w = world(b).await;
    let sd = w.insert(same_day(&w, d(11, 23))).await;
    let later = w.insert(same_day(&w, d(11, 24))).await;
    let std_id = w.insert(standard(&w, d(11, 23))).await;

    let s1 = w.run(d(11, 23), WINDOW1).await.expect("same-day file");
    assert_eq!(s1.collection_ids, vec![sd.to_string()]);
    assert_eq!(s1.file_name, "INFLOW-20261123-A.ach");
    let path = w.cfg.outbound_dir.join(&s1.file_name);
    let parsed = parse_file(&path);
    achlens_validate(&path);
    let h = String::from_utf8_lossy(&parsed.batches[0].header.bytes()[..]).into_owned();
    assert_eq!(&h[69..75], "261123", "same-day: effective today");

    assert!(w.run(d(11, 23), WINDOW2).await.is_none());
    let s2 = w.run(d(11, 23), STANDARD).await.expect("standard file");
    assert_eq!(s2.collection_ids, vec![std_id.to_string()]);
    assert_eq!(s2.file_name, "INFLOW-20261123-B.ach");
    assert_eq!(w.get(&later).await.status, CollectionStatus::Pending);

    let s3 = w.run(d(11, 24), WINDOW1).await.expect("next day's window");
    assert_eq!(s3.collection_ids, vec![later.to_string()]);
    assert_eq!(s3.file_name, "INFLOW-20261124-A.ach");
}

async fn a_same_day_entry_that_missed_every_window_moves_to_the_next_banking_day(b: TestBackend) {
    let w = world(b).await;
    let id = w.insert(same_day(&w, d(11, 25))).await;
    let s = w
        .run(d(11, 25), STANDARD)
        .await
        .expect("filed at the standard cutoff");
    let c = w.get(&id).await;
    assert_eq!(c.status, CollectionStatus::Submitted);
    assert_eq!(c.effective_date, d(11, 27), "Thanksgiving skipped");
    let moved = c
        .status_history
        .iter()
        .find(|h| h.reason.as_deref().is_some_and(|r| r.contains("moved")))
        .expect("history records the move");
    assert_eq!(moved.status, CollectionStatus::Pending);
    assert!(moved.reason.as_deref().unwrap().contains("2026-11-27"));
    let parsed = parse_file(&w.cfg.outbound_dir.join(&s.file_name));
    let h = String::from_utf8_lossy(&parsed.batches[0].header.bytes()[..]).into_owned();
    assert_eq!(&h[69..75], "261127");
}

async fn a_deferred_collection_is_not_filed_before_its_release_date(b: TestBackend) {
    let w = world(b).await;
    let id = w
        .insert(collection(
            &w,
            CollectionStatus::Scheduled,
            d(11, 27),
            d(11, 25),
        ))
        .await;
    // Release before the date does nothing; cutoffs skip scheduled entries.
    assert_eq!(
        release_due(w.store(), &w.cfg, et(11, 24, 23, 0))
            .await
            .unwrap(),
        0
    );
    let r = tick(
        w.store(),
        &w.vault,
        &w.cfg,
        &sandbox(),
        et(11, 23, 0, 0),
        et(11, 24, 23, 0),
    )
    .await
    .unwrap();
    assert_eq!(r.cutoffs.len(), 8, "4 cutoffs on each of Mon and Tue");
    assert_eq!(r.files().count(), 0);
    assert_eq!(w.get(&id).await.status, CollectionStatus::Scheduled);

    let r = tick(
        w.store(),
        &w.vault,
        &w.cfg,
        &sandbox(),
        et(11, 24, 23, 0),
        et(11, 25, 21, 0),
    )
    .await
    .unwrap();
    let files: Vec<_> = r.files().collect();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].file_name, "INFLOW-20261125-A.ach");
    assert_eq!(
        r.cutoffs[0].released, 1,
        "released at the first cutoff of its day"
    );
    let c = w.get(&id).await;
    assert_eq!(c.status, CollectionStatus::Submitted);
    let statuses: Vec<_> = c.status_history.iter().map(|h| h.status).collect();
    assert_eq!(
        statuses,
        vec![
            CollectionStatus::Scheduled,
            CollectionStatus::Pending,
            CollectionStatus::Batched,
            CollectionStatus::Submitted
        ]
    );
    let events = w.event_types(&id).await;
    assert_eq!(
        events,
        vec![
            "collection.pending",
            "collection.batched",
            "collection.submitted"
        ]
    );
}

async fn concurrent_cutoffs_never_file_a_collection_twice(b: TestBackend) {
    let w = world(b).await;
    let mut ids = Vec::new();
    for _ in 0..30 {
        ids.push(w.insert(standard(&w, d(11, 23))).await);
    }
    // A second node: its own connection pool to the same database.
    let other = Store::connect(&w.db.url).await.unwrap();
    let cutoff = w.cutoff(d(11, 23), STANDARD);
    let (a, b2) = tokio::join!(
        run_cutoff(w.store(), &w.vault, &w.cfg, &cutoff, cutoff.at),
        run_cutoff(&other, &w.vault, &w.cfg, &cutoff, cutoff.at),
    );
    let filed: Vec<FileSummary> = [a.unwrap(), b2.unwrap()]
        .into_iter()
        .flat_map(|s| s.files)
        .collect();
    let total: usize = filed.iter().map(|f| f.collection_ids.len()).sum();
    assert_eq!(total, 30, "every collection filed exactly once");
    let mut seen: Vec<String> = filed
        .iter()
        .flat_map(|f| f.collection_ids.clone())
        .collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 30);
    for id in &ids {
        let c = w.get(id).await;
        // Built, not yet handed to the delivery job.
        assert_eq!(c.status, CollectionStatus::Batched);
        assert!(filed.iter().any(|f| Some(&f.file_id) == c.file_id.as_ref()));
    }

    // Without the lease (it expired, say), the conditional update still
    // refuses a second filing: a collection already submitted is not pending.
    for id in ids.iter().take(3) {
        let mut c = w.get(id).await;
        c.file_id = Some("fil_other".into());
        let ok = w
            .store()
            .write(move |tx| {
                Box::pin(async move {
                    tx.update_ach_collection_if(&c, CollectionStatus::Pending)
                        .await
                })
            })
            .await
            .unwrap();
        assert!(!ok);
    }
    other.close().await;
}

async fn rewriting_a_created_file_gives_identical_bytes(b: TestBackend) {
    let mut w = world(b).await;
    for _ in 0..3 {
        w.insert(standard(&w, d(11, 23))).await;
    }
    let mut web = standard(&w, d(11, 23));
    web.sec_code = SecCode::Web;
    web.addenda = Some("order 77".into());
    w.insert(web).await;

    // The disk "fails" after the commit: outbound_dir is a regular file.
    let good_dir = w.cfg.outbound_dir.clone();
    let blocker = w.dir.join("not-a-dir");
    std::fs::write(&blocker, b"x").unwrap();
    w.cfg.outbound_dir = blocker.join("outbound");
    let cutoff = w.cutoff(d(11, 23), STANDARD);
    let err = run_cutoff(w.store(), &w.vault, &w.cfg, &cutoff, cutoff.at)
        .await
        .unwrap_err();
    // The error says the cutoff committed, and why the bytes are missing.
    match &err {
        AchError::FilesNotWritten { summary, source } => {
            assert_eq!(summary.files.len(), 1, "{err}");
            assert!(matches!(**source, AchError::Io { .. }), "{err}");
        }
        other => panic!("expected FilesNotWritten, got {other}"),
    }
    let files = w.all_files().await;
    assert_eq!(files.len(), 1);
    assert_eq!(
        files[0].status, STATUS_CREATED,
        "committed, not yet written"
    );
    let file_id = files[0].id.clone();

    // Start-up finishes it.
    w.cfg.outbound_dir = good_dir;
    let written = write_pending_files(w.store(), &w.vault, &w.cfg)
        .await
        .unwrap();
    assert_eq!(written.len(), 1);
    let first = std::fs::read(&written[0].path).unwrap();
    let row = w.file(&file_id).await;
    assert_eq!(row.status, STATUS_WRITTEN);
    assert!(row.written_at.is_some());
    achlens_validate(&written[0].path);

    // Rebuilt from rows, and written again after the file vanished: identical.
    assert_eq!(
        file_bytes(w.store(), &w.vault, &file_id).await.unwrap(),
        first
    );
    std::fs::remove_file(&written[0].path).unwrap();
    let again = write_file(w.store(), &w.vault, &w.cfg, &file_id)
        .await
        .unwrap();
    assert!(again.newly_written);
    assert_eq!(std::fs::read(&again.path).unwrap(), first);
    assert_eq!(w.file(&file_id).await.sha256, row.sha256);
    // Written and on disk: nothing to do.
    let third = write_file(w.store(), &w.vault, &w.cfg, &file_id)
        .await
        .unwrap();
    assert!(!third.newly_written);
    assert!(write_pending_files(w.store(), &w.vault, &w.cfg)
        .await
        .unwrap()
        .is_empty());
    // No temporary files left behind.
    let names: Vec<_> = std::fs::read_dir(&w.cfg.outbound_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["INFLOW-20261123-A.ach".to_string()]);
}

async fn settlement_follows_banking_days(b: TestBackend) {
    let w = world(b).await;
    // Filed Tue 24, effective Wed 25; good funds 2 banking days → Mon 30
    // (Thanksgiving and the weekend are not banking days).
    let id = w.insert(standard(&w, d(11, 24))).await;
    w.run(d(11, 24), STANDARD).await.expect("filed");
    assert_eq!(w.get(&id).await.effective_date, d(11, 25));

    let r = settle(w.store(), &w.vault, &w.cfg, et(11, 24, 23, 59))
        .await
        .unwrap();
    assert_eq!((r.processing, r.completed), (0, 0));
    assert_eq!(w.get(&id).await.status, CollectionStatus::Submitted);

    let r = settle(w.store(), &w.vault, &w.cfg, et(11, 25, 0, 1))
        .await
        .unwrap();
    assert_eq!((r.processing, r.completed), (1, 0));
    assert_eq!(w.get(&id).await.status, CollectionStatus::Processing);

    for (day, h) in [(26, 12), (27, 23), (28, 12), (29, 23)] {
        let r = settle(w.store(), &w.vault, &w.cfg, et(11, day, h, 0))
            .await
            .unwrap();
        assert_eq!((r.processing, r.completed), (0, 0), "Nov {day}");
    }
    assert_eq!(w.get(&id).await.status, CollectionStatus::Processing);

    let r = settle(w.store(), &w.vault, &w.cfg, et(11, 30, 0, 1))
        .await
        .unwrap();
    assert_eq!((r.processing, r.completed), (0, 1));
    let c = w.get(&id).await;
    assert_eq!(c.status, CollectionStatus::Completed);
    assert!(c.completed_at.is_some());
    assert_eq!(
        w.event_types(&id).await,
        vec![
            "collection.batched",
            "collection.submitted",
            "collection.processing",
            "collection.completed"
        ]
    );

    // Both steps in one call when days pass at once.
    let id2 = w.insert(standard(&w, d(11, 30))).await;
    w.run(d(11, 30), STANDARD).await.expect("filed");
    let r = settle(w.store(), &w.vault, &w.cfg, et(12, 3, 12, 0))
        .await
        .unwrap();
    assert_eq!((r.processing, r.completed), (1, 1));
    assert_eq!(w.get(&id2).await.status, CollectionStatus::Completed);
}

async fn prenotes_complete_after_three_banking_days(b: TestBackend) {
    let w = world(b).await;
    let mut p = standard(&w, d(11, 24));
    p.entry_type = AchEntryType::Prenote;
    let prenote = w.insert(p).await;
    let debit = w.insert(standard(&w, d(11, 24))).await;
    w.run(d(11, 24), STANDARD).await.expect("filed");

    // Effective Wed 25; +2 banking days = Mon 30 (debit); +3 = Tue Dec 1 (prenote).
    settle(w.store(), &w.vault, &w.cfg, et(11, 30, 9, 0))
        .await
        .unwrap();
    assert_eq!(w.get(&debit).await.status, CollectionStatus::Completed);
    assert_eq!(w.get(&prenote).await.status, CollectionStatus::Processing);
    settle(w.store(), &w.vault, &w.cfg, et(11, 30, 23, 59))
        .await
        .unwrap();
    assert_eq!(w.get(&prenote).await.status, CollectionStatus::Processing);
    settle(w.store(), &w.vault, &w.cfg, et(12, 1, 0, 1))
        .await
        .unwrap();
    let c = w.get(&prenote).await;
    assert_eq!(c.status, CollectionStatus::Completed);
    assert!(c.status_reason.as_deref().unwrap().contains("prenote"));
}

async fn trace_numbers_are_unique_and_ascend_within_each_batch(b: TestBackend) {
    let w = world(b).await;
    let mut all_traces = Vec::new();
    for day in [d(11, 23), d(11, 24)] {
        for i in 0..12 {
            let mut c = standard(&w, day);
            c.company_name = ["ACME UTILITIES", "BETA WATER", "GAMMA GAS"][i % 3].into();
            c.sec_code = [SecCode::Ppd, SecCode::Ccd][i % 2];
            w.insert(c).await;
        }
        let s = w.run(day, STANDARD).await.expect("filed");
        assert_eq!(s.batch_count, 6);
        let parsed = parse_file(&w.cfg.outbound_dir.join(&s.file_name));
        assert_eq!(parsed.batches.len(), 6);
        let mut previous_batch_last: Option<u64> = None;
        for batch in entries(&parsed) {
            let traces: Vec<u64> = batch
                .iter()
                .map(|(e, _)| trace_of(e).parse().unwrap())
                .collect();
            assert!(
                traces.windows(2).all(|p| p[0] < p[1]),
                "ascending: {traces:?}"
            );
            assert!(traces.iter().all(|t| t / 10_000_000 == 12_104_288));
            if let Some(prev) = previous_batch_last {
                assert!(traces[0] > prev, "batches follow each other");
            }
            previous_batch_last = traces.last().copied();
            all_traces.extend(traces);
        }
    }
    let n = all_traces.len();
    assert_eq!(n, 24);
    all_traces.sort();
    all_traces.dedup();
    assert_eq!(all_traces.len(), n, "unique across files");
    assert_eq!(all_traces[0] % 10_000_000, 1, "the sequence starts at 1");
}

async fn a_tick_over_several_days_runs_each_cutoff_once(b: TestBackend) {
    let w = world(b).await;
    let a = w.insert(standard(&w, d(11, 23))).await;
    let s = w.insert(same_day(&w, d(11, 24))).await;
    let later = w
        .insert(collection(
            &w,
            CollectionStatus::Scheduled,
            d(11, 30),
            d(11, 27),
        ))
        .await;

    let from = et(11, 23, 0, 0);
    let to = et(12, 2, 12, 0);
    let bank = sandbox();
    let (r1, r2) = tokio::join!(
        tick(w.store(), &w.vault, &w.cfg, &bank, from, to),
        tick(w.store(), &w.vault, &w.cfg, &bank, from, to),
    );
    let (r1, r2) = (r1.unwrap(), r2.unwrap());
    // Mon 23, Tue 24, Wed 25, Fri 27, Mon 30, Tue 1, Wed 2 (10:00 window only).
    let cutoffs = r1.cutoffs.len() + r2.cutoffs.len();
    assert_eq!(
        cutoffs,
        6 * 4 + 1,
        "each cutoff ran once between the two ticks"
    );
    let files: Vec<String> = r1
        .files()
        .chain(r2.files())
        .map(|f| f.file_name.clone())
        .collect();
    assert_eq!(
        files
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        files.len()
    );
    assert_eq!(
        files.iter().collect::<std::collections::BTreeSet<_>>(),
        [
            "INFLOW-20261123-A.ach",
            "INFLOW-20261124-A.ach",
            "INFLOW-20261127-A.ach"
        ]
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .iter()
        .collect()
    );
    assert_eq!(w.all_files().await.len(), 3);
    for f in w.all_files().await {
        assert_eq!(f.status, STATUS_WRITTEN);
        achlens_validate(&w.cfg.outbound_dir.join(&f.file_name));
    }
    assert_eq!(last_tick(w.store()).await.unwrap(), Some(to));

    // Everything settled as of Wed Dec 2.
    assert_eq!(w.get(&a).await.status, CollectionStatus::Completed);
    assert_eq!(w.get(&s).await.status, CollectionStatus::Completed);
    let l = w.get(&later).await;
    assert_eq!(
        l.status,
        CollectionStatus::Completed,
        "eff Mon 30 + 2 = Wed 2"
    );

    // The same interval again, or an older one, runs nothing.
    let again = tick(w.store(), &w.vault, &w.cfg, &sandbox(), from, to)
        .await
        .unwrap();
    assert!(again.cutoffs.is_empty());
    let older = tick(
        w.store(),
        &w.vault,
        &w.cfg,
        &sandbox(),
        et(11, 20, 0, 0),
        et(11, 30, 0, 0),
    )
    .await
    .unwrap();
    assert!(older.cutoffs.is_empty());
    assert_eq!(w.all_files().await.len(), 3);
    // Moving on runs the next cutoffs only.
    let next = tick(
        w.store(),
        &w.vault,
        &w.cfg,
        &sandbox(),
        to,
        et(12, 2, 23, 0),
    )
    .await
    .unwrap();
    assert_eq!(next.cutoffs.len(), 3, "14:00, 16:15 and 20:00 of Dec 2");
}

async fn leases_are_exclusive_until_they_expire(b: TestBackend) {
    let w = world(b).await;
    let s = w.store();
    let t0 = Utc::now();
    let ttl = Duration::from_secs(30);
    assert!(try_acquire_lease(s, "job", "a", ttl, t0).await.unwrap());
    assert!(!try_acquire_lease(s, "job", "b", ttl, t0).await.unwrap());
    assert!(
        try_acquire_lease(s, "job", "a", ttl, t0 + chrono::Duration::seconds(10))
            .await
            .unwrap(),
        "holder extends"
    );
    assert!(
        !try_acquire_lease(s, "job", "b", ttl, t0 + chrono::Duration::seconds(39))
            .await
            .unwrap()
    );
    assert!(
        try_acquire_lease(s, "job", "b", ttl, t0 + chrono::Duration::seconds(40))
            .await
            .unwrap(),
        "expired: taken over"
    );
    assert!(
        !release_lease(s, "job", "a").await.unwrap(),
        "a no longer holds it"
    );
    assert!(
        !try_acquire_lease(s, "job", "a", ttl, t0 + chrono::Duration::seconds(41))
            .await
            .unwrap()
    );
    assert!(release_lease(s, "job", "b").await.unwrap());
    assert!(
        try_acquire_lease(s, "job", "a", ttl, t0 + chrono::Duration::seconds(41))
            .await
            .unwrap()
    );
    assert!(
        try_acquire_lease(s, "other", "b", ttl, t0).await.unwrap(),
        "leases are per name"
    );

    // Many contenders at once: exactly one wins.
    let mut handles = Vec::new();
    for i in 0..8 {
        let s = s.clone();
        handles.push(tokio::spawn(async move {
            try_acquire_lease(&s, "race", &format!("h{i}"), ttl, t0)
                .await
                .unwrap()
        }));
    }
    let mut wins = 0;
    for h in handles {
        wins += usize::from(h.await.unwrap());
    }
    assert_eq!(wins, 1);
}

async fn the_trace_counter_reserves_blocks_and_wraps(b: TestBackend) {
    let w = world(b).await;
    let reserve = |n: i64, max: i64| {
        let s = w.store().clone();
        async move {
            s.write(move |tx| Box::pin(async move { tx.reserve_counter("t", n, max).await }))
                .await
                .unwrap()
        }
    };
    assert_eq!(reserve(3, 10).await, 1);
    assert_eq!(reserve(5, 10).await, 4);
    assert_eq!(reserve(2, 10).await, 9, "9..=10 fits exactly");
    assert_eq!(reserve(1, 10).await, 1, "wraps to 1");
    assert_eq!(reserve(8, 10).await, 2);
    assert_eq!(reserve(3, 10).await, 1, "a block never straddles the wrap");

    // Concurrent reservations never overlap.
    let mut handles = Vec::new();
    for _ in 0..10 {
        let s = w.store().clone();
        handles.push(tokio::spawn(async move {
            s.write(move |tx| Box::pin(async move { tx.reserve_counter("c", 5, 1_000_000).await }))
                .await
                .unwrap()
        }));
    }
    let mut firsts = Vec::new();
    for h in handles {
        firsts.push(h.await.unwrap());
    }
    firsts.sort();
    assert_eq!(firsts, (0..10).map(|i| 1 + 5 * i).collect::<Vec<_>>());
}

async fn an_entry_that_cannot_be_written_fails_alone(b: TestBackend) {
    let w = world(b).await;
    let good = w.insert(standard(&w, d(11, 23))).await;
    let mut bad = standard(&w, d(11, 23));
    bad.account_number_sealed = b"garbage".to_vec();
    let bad = w.insert(bad).await;
    let s = w
        .run(d(11, 23), STANDARD)
        .await
        .expect("the good one is filed");
    assert_eq!(s.collection_ids, vec![good.to_string()]);
    let c = w.get(&bad).await;
    assert_eq!(c.status, CollectionStatus::Failed);
    assert!(c.status_reason.as_deref().unwrap().contains("NACHA"));
    assert_eq!(w.event_types(&bad).await, vec!["collection.failed"]);
}
