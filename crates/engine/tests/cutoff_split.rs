//! One customer cannot stop filing for everyone, on SQLite and PostgreSQL:
//! a cutoff splits batches and files so that no control field overflows and
//! no file passes `max_entries_per_file`, and an entry that cannot be filed
//! (each kind we can construct, some by corrupting its row) fails alone
//! while the ordinary entries around it are filed.
//!
//! Cutoffs are on Mon 2026-11-23 (standard cutoff 20:00 US/Eastern).

use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use inflow_core::bank::{AccountType, HolderType, RoutingNumber};
use inflow_core::calendar::{BankingCalendar, Cutoff, CutoffSchedule};
use inflow_core::collection::*;
use inflow_core::crypto::{MasterKey, Vault};
use inflow_core::ids::{AccountId, CollectionId, CustomerId};
use inflow_core::model::*;
use inflow_core::money::{Currency, Money};
use inflow_engine::config::AchConfig;
use inflow_engine::cutoff::{run_cutoff, CutoffSummary};
use inflow_engine::files::file_bytes;
use inflow_store::repo::ach_files::{AchFile, OUTBOUND, STATUS_WRITTEN};
use inflow_store::testing::{on_both_backends, TestBackend, TestDb};
use inflow_store::Store;

on_both_backends!(
    debits_over_one_control_total_are_split_into_batches_and_files,
    max_entries_per_file_splits_a_cutoff_into_several_files,
    when_file_id_modifiers_run_out_the_largest_entries_wait,
    an_amount_beyond_the_entry_field_fails_alone,
    an_unreadable_row_fails_alone,
    an_account_number_that_cannot_be_opened_fails_alone,
    an_account_number_wider_than_its_field_fails_alone,
    a_company_name_with_nothing_printable_fails_alone,
    a_zero_amount_debit_fails_alone,
    a_poisoned_entry_in_one_of_several_files_fails_alone,
);

// ---------------------------------------------------------------- fixtures

const MAX: i64 = 9_999_999_999;

fn d(m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, day).unwrap()
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 17, 0, 0).unwrap()
}

fn routing(s: &str) -> RoutingNumber {
    RoutingNumber::parse("routingNumber", s).unwrap()
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

async fn world(backend: TestBackend) -> World {
    let db = TestDb::new(backend).await;
    let dir = std::env::temp_dir().join(format!(
        "inflow-split-{}",
        inflow_core::ids::new_id_body(Utc::now())
    ));
    let cfg = AchConfig {
        immediate_destination: routing("231380104"),
        immediate_destination_name: "Federal Reserve Bank".into(),
        immediate_origin: "1234567890".into(),
        immediate_origin_name: "Inflow Operator".into(),
        odfi_routing: routing("121042882"),
        outbound_dir: dir.join("outbound"),
        inbound_dir: dir.join("inbound"),
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
    };
    let customer = Customer {
        id: CustomerId::generate(now()),
        name: "Acme Utilities".into(),
        kind: CustomerKind::Business,
        email: None,
        status: CustomerStatus::Active,
        allow_one_time_source: true,
        require_signed_requests: false,
        ach_company_name: Some("ACME UTILITIES".into()),
        ach_company_id: Some("1234567890".into()),
        ach_policy: Default::default(),
        card_daily_limit: DEFAULT_CARD_DAILY_LIMIT,
        can_manage_api_keys: false,
        odfi_id: None,
        allowed_company_names: Vec::new(),
        ach_limits: Default::default(),
        metadata: Metadata::new(),
        created_at: now(),
        updated_at: now(),
    };
    let account = Account {
        id: AccountId::generate(now()),
        customer_id: customer.id.clone(),
        name: "Operating".into(),
        currency: Currency::parse("currency", "USD").unwrap(),
        status: AccountStatus::Active,
        external_id: None,
        metadata: Metadata::new(),
        created_at: now(),
        updated_at: now(),
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
        vault: Vault::new(&MasterKey::generate()),
        cfg,
        customer: customer.id,
        account: account.id,
        dir,
    }
}

impl World {
    fn store(&self) -> &Store {
        &self.db.store
    }

    /// A pending PPD debit of `amount` from `company`, effective Tue 24 Nov.
    fn debit(&self, company: &str, amount: i64) -> AchCollection {
        let id = CollectionId::generate(Utc::now());
        AchCollection {
            account_number_sealed: self.vault.seal(b"000123456789", id.as_str()),
            id,
            customer_id: self.customer.clone(),
            entry_type: AchEntryType::Debit,
            status: CollectionStatus::Pending,
            status_reason: None,
            status_history: vec![StatusChange {
                status: CollectionStatus::Pending,
                reason: None,
                at: now(),
            }],
            amount: Money::usd(amount).unwrap(),
            destination_account_id: self.account.clone(),
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
            effective_date: d(11, 24),
            release_date: d(11, 23),
            authorization: Authorization {
                kind: AuthorizationType::Written,
                obtained_at: now(),
                ip_address: None,
                evidence_ref: None,
            },
            company_name: company.into(),
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
            created_at: now(),
            updated_at: now(),
            submitted_at: None,
            completed_at: None,
            returned_at: None,
            hold: None,
            schedule: None,
            fees: Default::default(),
        }
    }

    async fn insert(&self, cs: Vec<AchCollection>) -> Vec<CollectionId> {
        let ids = cs.iter().map(|c| c.id.clone()).collect();
        self.store()
            .write(move |tx| {
                Box::pin(async move {
                    for c in &cs {
                        tx.insert_ach_collection(c).await?;
                    }
                    Ok::<(), inflow_store::StoreError>(())
                })
            })
            .await
            .unwrap();
        ids
    }

    /// `n` ordinary debits of 100.00 from another company.
    async fn ordinary(&self, n: usize) -> Vec<CollectionId> {
        self.insert((0..n).map(|_| self.debit("OTHER CO", 10_000)).collect())
            .await
    }

    /// Run one SQL statement against the database (tampering with rows).
    async fn tamper(&self, sql: String) {
        let sql: &'static str = Box::leak(sql.into_boxed_str());
        self.store()
            .write(move |tx| Box::pin(async move { tx.execute_raw(sql).await }))
            .await
            .unwrap();
    }

    async fn status(&self, id: &CollectionId) -> (CollectionStatus, Option<String>) {
        let mut tx = self.store().read().await.unwrap();
        let c = tx.get_ach_collection(None, id).await.unwrap();
        tx.rollback().await.unwrap();
        (c.status, c.status_reason)
    }

    async fn event_types(&self, id: &CollectionId) -> Vec<String> {
        let mut tx = self.store().read().await.unwrap();
        let e = tx.events_for_object(id.as_str()).await.unwrap();
        tx.rollback().await.unwrap();
        e.into_iter().map(|e| e.event_type).collect()
    }

    fn standard_cutoff(&self, date: NaiveDate) -> Cutoff {
        self.cfg
            .cutoffs
            .cutoffs_on(&self.cfg.calendar, date)
            .into_iter()
            .find(|c| c.is_standard())
            .unwrap()
    }

    async fn run(&self, date: NaiveDate) -> CutoffSummary {
        let c = self.standard_cutoff(date);
        run_cutoff(self.store(), &self.vault, &self.cfg, &c, c.at)
            .await
            .expect("the cutoff never fails as a whole")
    }

    /// Every file of `s`: written, strictly valid, its controls within their
    /// fields, its row's totals those of its bytes, and its bytes rebuilt
    /// identically from the rows. Returns the parsed files.
    async fn check_files(&self, s: &CutoffSummary) -> Vec<nacha::NachaFile> {
        let mut parsed = Vec::new();
        for f in &s.files {
            let mut tx = self.store().read().await.unwrap();
            let row = tx.get_ach_file(&f.file_id).await.unwrap();
            tx.rollback().await.unwrap();
            assert_eq!(row.status, STATUS_WRITTEN);
            let path = self.cfg.outbound_dir.join(&row.file_name);
            let bytes = std::fs::read(&path).unwrap();
            let file = nacha::read(&bytes).unwrap();
            let findings = file.validate(&nacha::ValidateOptions::strict());
            assert!(findings.is_empty(), "{}: {findings:?}", row.file_name);
            let control = file.control.as_ref().unwrap().bytes();
            let total: i64 = String::from_utf8_lossy(&control[31..43]).parse().unwrap();
            assert_eq!(total, row.total_debit);
            assert_eq!(file.batches.len() as i64, row.batch_count);
            let entries: usize = file.batches.iter().map(|b| b.entries.len()).sum();
            assert_eq!(entries as i64, row.entry_count);
            assert_eq!(
                file_bytes(self.store(), &self.vault, &f.file_id)
                    .await
                    .unwrap(),
                bytes,
                "the rows rebuild the same bytes"
            );
            parsed.push(file);
        }
        parsed
    }
}

fn filed_ids(s: &CutoffSummary) -> Vec<String> {
    let mut ids: Vec<String> = s
        .files
        .iter()
        .flat_map(|f| f.collection_ids.clone())
        .collect();
    ids.sort();
    ids
}

fn sorted(ids: &[CollectionId]) -> Vec<String> {
    let mut v: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
    v.sort();
    v
}

/// The ordinary entries are filed and `bad` failed alone, with a reason
/// containing `why` and a `collection.failed` event.
async fn assert_fails_alone(
    w: &World,
    s: &CutoffSummary,
    ordinary: &[CollectionId],
    bad: &CollectionId,
    why: &str,
) {
    assert_eq!(
        filed_ids(s),
        sorted(ordinary),
        "the ordinary entries are filed"
    );
    w.check_files(s).await;
    let (status, reason) = w.status(bad).await;
    assert_eq!(status, CollectionStatus::Failed);
    let reason = reason.unwrap_or_default();
    assert!(reason.contains(why), "{reason}");
    assert_eq!(w.event_types(bad).await, vec!["collection.failed"]);
    assert_eq!(s.failed.len(), 1);
    assert_eq!(s.failed[0].collection_id, bad.to_string());
}

// ------------------------------------------------------------------ tests

async fn debits_over_one_control_total_are_split_into_batches_and_files(b: TestBackend) {
    let w = world(b).await;
    // 101 × $99,999,999.99 overflow the 12-digit batch and file totals.
    let big = w
        .insert((0..101).map(|_| w.debit("ACME UTILITIES", MAX)).collect())
        .await;
    let ordinary = w.ordinary(3).await;
    let s = w.run(d(11, 23)).await;
    assert!(s.failed.is_empty() && s.deferred.is_empty(), "{s:?}");
    let mut all = big.clone();
    all.extend(ordinary);
    assert_eq!(filed_ids(&s), sorted(&all), "every entry is filed");
    assert_eq!(s.files.len(), 2);
    let names: Vec<&str> = s.files.iter().map(|f| f.file_name.as_str()).collect();
    assert_eq!(names, ["INFLOW-20261123-A.ach", "INFLOW-20261123-B.ach"]);
    for file in w.check_files(&s).await {
        for batch in &file.batches {
            let control = batch.control.as_ref().unwrap().bytes();
            let total: u64 = String::from_utf8_lossy(&control[20..32]).parse().unwrap();
            let sum: u64 = batch
                .entries
                .iter()
                .map(|e| {
                    String::from_utf8_lossy(&e.detail.bytes()[29..39])
                        .parse::<u64>()
                        .unwrap()
                })
                .sum();
            assert_eq!(total, sum, "the batch control holds its whole total");
        }
    }
    // Trace numbers are unique across the cutoff's files.
    let mut traces: Vec<&String> = s.files.iter().flat_map(|f| &f.trace_numbers).collect();
    traces.sort();
    traces.dedup();
    assert_eq!(traces.len(), 104);
}

async fn max_entries_per_file_splits_a_cutoff_into_several_files(b: TestBackend) {
    let mut w = world(b).await;
    w.cfg.max_entries_per_file = 3;
    let mut ids = w
        .insert((0..5).map(|_| w.debit("ACME UTILITIES", 500)).collect())
        .await;
    ids.extend(w.ordinary(3).await);
    let s = w.run(d(11, 23)).await;
    assert_eq!(filed_ids(&s), sorted(&ids));
    let counts: Vec<i64> = s.files.iter().map(|f| f.entry_count).collect();
    assert_eq!(counts, [3, 3, 2]);
    let files = w.check_files(&s).await;
    assert_eq!(
        files.iter().map(|f| f.batches.len()).collect::<Vec<_>>(),
        [1, 2, 1],
        "ACME ×3 | ACME ×2, OTHER ×1 | OTHER ×2"
    );
    let modifiers: Vec<String> = s
        .files
        .iter()
        .map(|f| f.file_name[16..17].to_owned())
        .collect();
    assert_eq!(modifiers, ["A", "B", "C"]);
}

async fn when_file_id_modifiers_run_out_the_largest_entries_wait(b: TestBackend) {
    let w = world(b).await;
    // 34 of the 36 modifiers of Nov 23 are taken already.
    w.store()
        .write(|tx| {
            Box::pin(async move {
                for m in inflow_engine::cutoff::FILE_ID_MODIFIERS.chars().take(34) {
                    let f = AchFile {
                        id: AchFile::new_id(now()),
                        direction: OUTBOUND.into(),
                        status: STATUS_WRITTEN.into(),
                        file_name: format!("OLD-{m}.ach"),
                        creation_date: d(11, 23),
                        file_id_modifier: Some(m.to_string()),
                        cutoff_at: None,
                        batch_count: 0,
                        entry_count: 0,
                        total_debit: 0,
                        total_credit: 0,
                        sha256: Some("0".repeat(64)),
                        summary: None,
                        created_at: now(),
                        written_at: None,
                    };
                    tx.insert_ach_file(&f).await?;
                }
                Ok::<(), inflow_store::StoreError>(())
            })
        })
        .await
        .unwrap();
    // 250 huge debits need three files; only two modifiers are left.
    let big = w
        .insert((0..250).map(|_| w.debit("ACME UTILITIES", MAX)).collect())
        .await;
    let ordinary = w.ordinary(2).await;
    let s = w.run(d(11, 23)).await;
    assert_eq!(s.files.len(), 2);
    let filed = filed_ids(&s);
    for id in &ordinary {
        assert!(filed.contains(&id.to_string()), "small entries go first");
    }
    // 99 huge debits and the two small ones fit the second file's total.
    assert_eq!(filed.len() + s.deferred.len(), 252);
    assert_eq!(s.deferred.len(), 51);
    w.check_files(&s).await;
    for id in &s.deferred {
        let id = CollectionId::from_trusted(id.clone());
        assert!(big.contains(&id));
        assert_eq!(w.status(&id).await.0, CollectionStatus::Pending);
    }
    // The next banking day has all its modifiers: the rest is filed then.
    let next = w.run(d(11, 24)).await;
    let mut rest = s.deferred.clone();
    rest.sort();
    assert_eq!(filed_ids(&next), rest);
}

async fn an_amount_beyond_the_entry_field_fails_alone(b: TestBackend) {
    let w = world(b).await;
    let ordinary = w.ordinary(3).await;
    let bad = w
        .insert(vec![w.debit("ACME UTILITIES", 500)])
        .await
        .remove(0);
    w.tamper(format!(
        "UPDATE collections SET amount = 10000000000 WHERE id = '{bad}'"
    ))
    .await;
    let s = w.run(d(11, 23)).await;
    assert_eq!(filed_ids(&s), sorted(&ordinary));
    w.check_files(&s).await;
    // The row cannot be read back (its amount is no Money), so its status
    // is checked in SQL.
    let mut tx = w.store().read().await.unwrap();
    let events = tx.events_for_object(bad.as_str()).await.unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, "collection.failed");
    assert_eq!(events[0].data["object"]["status"], "failed");
    assert_eq!(s.failed.len(), 1);
    assert!(
        s.failed[0].reason.contains("cannot be read"),
        "{}",
        s.failed[0].reason
    );
    // Failed, it is no longer due: the next cutoff has nothing to do.
    w.ordinary(1).await;
    let again = w.run(d(11, 24)).await;
    assert!(again.failed.is_empty());
}

async fn an_unreadable_row_fails_alone(b: TestBackend) {
    let w = world(b).await;
    let ordinary = w.ordinary(2).await;
    let bad = w
        .insert(vec![w.debit("ACME UTILITIES", 500)])
        .await
        .remove(0);
    w.tamper(format!(
        "UPDATE collections SET routing_number = '123' WHERE id = '{bad}'"
    ))
    .await;
    let s = w.run(d(11, 23)).await;
    assert_eq!(filed_ids(&s), sorted(&ordinary));
    w.check_files(&s).await;
    assert_eq!(s.failed.len(), 1);
    assert_eq!(s.failed[0].collection_id, bad.to_string());
    assert_eq!(w.event_types(&bad).await, vec!["collection.failed"]);
}

async fn an_account_number_that_cannot_be_opened_fails_alone(b: TestBackend) {
    let w = world(b).await;
    let ordinary = w.ordinary(3).await;
    let mut c = w.debit("ACME UTILITIES", 500);
    c.account_number_sealed = b"not a sealed box".to_vec();
    let bad = w.insert(vec![c]).await.remove(0);
    let s = w.run(d(11, 23)).await;
    assert_fails_alone(&w, &s, &ordinary, &bad, "decrypted").await;
}

async fn an_account_number_wider_than_its_field_fails_alone(b: TestBackend) {
    let w = world(b).await;
    let ordinary = w.ordinary(3).await;
    let mut c = w.debit("OTHER CO", 500);
    c.account_number_sealed = w.vault.seal(b"123456789012345678", c.id.as_str());
    let bad = w.insert(vec![c]).await.remove(0);
    let s = w.run(d(11, 23)).await;
    assert_fails_alone(&w, &s, &ordinary, &bad, "DFI account number").await;
}

async fn a_company_name_with_nothing_printable_fails_alone(b: TestBackend) {
    let w = world(b).await;
    let ordinary = w.ordinary(3).await;
    let bad = w.insert(vec![w.debit("日本語", 500)]).await.remove(0);
    let s = w.run(d(11, 23)).await;
    assert_fails_alone(&w, &s, &ordinary, &bad, "company name").await;
}

async fn a_zero_amount_debit_fails_alone(b: TestBackend) {
    let w = world(b).await;
    let ordinary = w.ordinary(3).await;
    let bad = w.insert(vec![w.debit("OTHER CO", 500)]).await.remove(0);
    w.tamper(format!(
        "UPDATE collections SET amount = 0 WHERE id = '{bad}'"
    ))
    .await;
    let s = w.run(d(11, 23)).await;
    assert_fails_alone(&w, &s, &ordinary, &bad, "non-zero amount").await;
}

async fn a_poisoned_entry_in_one_of_several_files_fails_alone(b: TestBackend) {
    let mut w = world(b).await;
    w.cfg.max_entries_per_file = 2;
    let mut ordinary = w.ordinary(3).await;
    let mut c = w.debit("OTHER CO", 500);
    c.account_number_sealed = b"garbage".to_vec();
    let bad = w.insert(vec![c]).await.remove(0);
    ordinary.extend(w.ordinary(2).await);
    let s = w.run(d(11, 23)).await;
    assert_eq!(s.files.len(), 3, "5 ordinary entries, 2 per file");
    assert_fails_alone(&w, &s, &ordinary, &bad, "decrypted").await;
}
