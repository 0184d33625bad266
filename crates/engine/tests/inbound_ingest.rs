//! Return and NOC ingestion, and the sandbox bank that produces them, on
//! SQLite and PostgreSQL. Collections are made directly in the store (status
//! and trace number as the outbound engine would leave them); the bank's
//! answers come from `sandbox_bank::answer` on a file built like Inflow's.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use inflow_core::bank::{AccountNumber, AccountType, HolderType, RoutingNumber};
use inflow_core::calendar::{BankingCalendar, CutoffSchedule};
use inflow_core::collection::*;
use inflow_core::crypto::{MasterKey, Vault};
use inflow_core::ids::{AccountId, CollectionId, CustomerId, PaymentMethodId};
use inflow_core::model::*;
use inflow_core::money::{Currency, Money};
use inflow_engine::config::AchConfig;
use inflow_engine::inbound::{ingest_inbound, ingest_inbound_dir, DirOutcome, IngestError};
use inflow_engine::sandbox_bank::{self, SandboxAnswer};
use inflow_store::testing::{on_both_backends, TestBackend, TestDb};
use inflow_store::Store;
use std::path::PathBuf;
use std::process::Command;

on_both_backends!(
    returns_move_collections_to_returned_record_unknown_traces_and_block_payment_methods,
    a_late_return_after_completion_returns_the_collection,
    nocs_correct_the_saved_payment_method,
    a_file_with_errors_is_rejected_and_changes_nothing,
    the_sandbox_bank_delivers_once_and_the_watched_folder_ingests,
);

const EED: (i32, u32, u32) = (2026, 3, 2); // a Monday
const RDFI: &str = "231380104";
const ODFI: &str = "121042882";

fn eed() -> NaiveDate {
    NaiveDate::from_ymd_opt(EED.0, EED.1, EED.2).unwrap()
}

fn at(date: NaiveDate, hour: u32) -> DateTime<Utc> {
    Utc.from_utc_datetime(&date.and_hms_opt(hour, 0, 0).unwrap())
}

fn vault() -> Vault {
    Vault::new(&MasterKey::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap())
}

fn config(dir: &std::path::Path) -> AchConfig {
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
        "inflow-inbound-{}",
        inflow_core::ids::new_id_body(Utc::now())
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A customer with a destination account.
struct Fixture {
    db: TestDb,
    vault: Vault,
    cfg: AchConfig,
    customer: CustomerId,
    account: AccountId,
    _dir: PathBuf,
}

/// One collection with a saved payment method, and the entry that carried it.
#[derive(Clone)]
struct Filed {
    collection: CollectionId,
    pm: PaymentMethodId,
    account_number: String,
}

fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap()
}

impl Fixture {
    async fn new(backend: TestBackend) -> Self {
        let db = TestDb::new(backend).await;
        let dir = temp_dir();
        let now = micros(Utc::now());
        let customer = Customer {
            id: CustomerId::generate(now),
            name: "Acme".into(),
            kind: CustomerKind::Business,
            email: None,
            status: CustomerStatus::Active,
            allow_one_time_source: false,
            require_signed_requests: false,
            ach_company_name: Some("ACME".into()),
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
            currency: Currency::Usd,
            status: AccountStatus::Active,
            external_id: None,
            metadata: Metadata::new(),
            created_at: now,
            updated_at: now,
            odfi_id: None,
        };
        let mut tx = db.store.begin().await.unwrap();
        tx.insert_customer(&customer).await.unwrap();
        tx.insert_account(&account).await.unwrap();
        tx.commit().await.unwrap();
        Fixture {
            cfg: config(&dir),
            db,
            vault: vault(),
            customer: customer.id,
            account: account.id,
            _dir: dir,
        }
    }

    fn store(&self) -> &Store {
        &self.db.store
    }

    /// A payment method for `account_number` and a collection in `status`
    /// whose entry carried trace `ODFI8 + seq`.
    async fn collection(&self, account_number: &str, seq: u32, status: CollectionStatus) -> Filed {
        let now = micros(at(eed(), 12) - chrono::Duration::days(2));
        let routing = RoutingNumber::parse("routingNumber", RDFI).unwrap();
        let number = AccountNumber::parse("accountNumber", account_number).unwrap();
        let pm_id = PaymentMethodId::generate(now);
        let pm = BankPaymentMethod {
            account_number_sealed: self.vault.seal(number.expose().as_bytes(), pm_id.as_str()),
            fingerprint: self
                .vault
                .fingerprint(&[&routing.as_string(), number.expose()]),
            id: pm_id.clone(),
            customer_id: self.customer.clone(),
            counterparty_id: None,
            status: PaymentMethodStatus::Active,
            status_reason: None,
            external_id: None,
            routing_number: routing.clone(),
            account_last4: number.last4(),
            account_type: AccountType::Checking,
            holder_name: "JANE DOE".into(),
            holder_type: HolderType::Individual,
            validation: Default::default(),
            metadata: Metadata::new(),
            created_at: now,
            updated_at: now,
        };
        let trace = TraceNumberOf::trace(seq);
        let id = CollectionId::generate(now);
        let mut history = vec![StatusChange {
            status: CollectionStatus::Submitted,
            reason: None,
            at: now,
        }];
        if status != CollectionStatus::Submitted {
            history.push(StatusChange {
                status,
                reason: None,
                at: now,
            });
        }
        let c = AchCollection {
            id: id.clone(),
            customer_id: self.customer.clone(),
            entry_type: AchEntryType::Debit,
            status,
            status_reason: None,
            status_history: history,
            amount: Money::usd(12_345).unwrap(),
            destination_account_id: self.account.clone(),
            payment_method_id: Some(pm_id.clone()),
            counterparty_id: None,
            routing_number: routing,
            account_number_sealed: self.vault.seal(number.expose().as_bytes(), id.as_str()),
            account_last4: number.last4(),
            account_fingerprint: pm.fingerprint.clone(),
            account_type: AccountType::Checking,
            holder_name: "JANE DOE".into(),
            holder_type: HolderType::Individual,
            sec_code: SecCode::Ppd,
            processing_mode: ProcessingMode::Standard,
            payment_type: None,
            effective_date: eed(),
            release_date: eed(),
            authorization: Authorization {
                kind: AuthorizationType::Written,
                obtained_at: now,
                ip_address: None,
                evidence_ref: None,
            },
            company_name: "ACME".into(),
            company_id: "1234567890".into(),
            company_entry_description: "PAYMENT".into(),
            addenda: None,
            reference: None,
            purpose: None,
            external_id: None,
            metadata: Metadata::new(),
            trace_number: Some(format!("{trace:015}")),
            file_id: None,
            return_code: None,
            return_trace: None,
            noc_code: None,
            noc_corrected_data: None,
            noc_correction: None,
            created_at: now,
            updated_at: now,
            submitted_at: Some(now),
            completed_at: (status == CollectionStatus::Completed).then_some(now),
            returned_at: None,
            hold: None,
            schedule: None,
            fees: Default::default(),
        };
        let mut tx = self.store().begin().await.unwrap();
        tx.insert_bank_payment_method(&pm).await.unwrap();
        tx.insert_ach_collection(&c).await.unwrap();
        tx.commit().await.unwrap();
        Filed {
            collection: id,
            pm: pm_id,
            account_number: account_number.into(),
        }
    }

    async fn get(&self, f: &Filed) -> (AchCollection, BankPaymentMethod) {
        let mut tx = self.store().read().await.unwrap();
        let c = tx.get_ach_collection(None, &f.collection).await.unwrap();
        let p = tx
            .get_bank_payment_method(&self.customer, &f.pm)
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        (c, p)
    }

    async fn events(&self, object: &str) -> Vec<inflow_store::repo::events::Event> {
        let mut tx = self.store().read().await.unwrap();
        let e = tx.events_for_object(object).await.unwrap();
        tx.rollback().await.unwrap();
        e
    }
}

struct TraceNumberOf;
impl TraceNumberOf {
    fn trace(seq: u32) -> u64 {
        12104288 * 10_000_000 + u64::from(seq)
    }
}

/// An outbound PPD debit file like the ones Inflow writes, one entry per `(account, seq)`.
fn outbound(entries: &[(&str, u32)]) -> Vec<u8> {
    use nacha::*;
    let odfi = RoutingNumber::parse(ODFI).unwrap();
    let mut b = FileBuilder::new(FileHeaderSpec::new(
        RoutingNumber::parse("231380104").unwrap(),
        "1234567890",
        "FEDERAL RESERVE BANK",
        "INFLOW",
        Date::new(EED.0 as u16, EED.1 as u8, EED.2 as u8 - 1),
        'A',
    ))
    .batch(BatchSpec::new(
        ServiceClass::DebitsOnly,
        SecCode::Ppd,
        "ACME",
        "1234567890",
        "PAYMENT",
        Date::new(EED.0 as u16, EED.1 as u8, EED.2 as u8),
        odfi,
    ));
    for (account, seq) in entries {
        b = b.entry(
            EntrySpec::new(
                TransactionCode::CHECKING_DEBIT,
                RoutingNumber::parse(RDFI).unwrap(),
                account,
                12_345,
                "Jane Doe",
            )
            .trace(TraceNumber::new(&odfi, *seq).unwrap()),
        );
    }
    b.build().unwrap().to_checked_bytes().unwrap()
}

fn only(answers: Vec<SandboxAnswer>) -> SandboxAnswer {
    assert_eq!(answers.len(), 1, "expected one answer file");
    answers.into_iter().next().unwrap()
}

async fn returns_move_collections_to_returned_record_unknown_traces_and_block_payment_methods(
    backend: TestBackend,
) {
    let fx = Fixture::new(backend).await;
    let r01 = fx
        .collection("9999000101", 1, CollectionStatus::Submitted)
        .await;
    let r02 = fx
        .collection("9999000102", 2, CollectionStatus::Processing)
        .await;
    // seq 3: a return for an entry Inflow knows nothing about.
    let file = outbound(&[
        (&r01.account_number, 1),
        (&r02.account_number, 2),
        ("9999000103", 3),
    ]);
    let answer = only(sandbox_bank::answer(&file, &fx.cfg).unwrap());
    assert_eq!(
        answer.deliver_on,
        NaiveDate::from_ymd_opt(2026, 3, 3).unwrap()
    );
    let bytes = answer.file.to_bytes();
    let now = at(answer.deliver_on, 14);

    let report = ingest_inbound(fx.store(), &fx.vault, &fx.cfg, &bytes, "returns.ach", now)
        .await
        .unwrap();
    assert!(!report.duplicate);
    assert_eq!(
        (
            report.returns_matched,
            report.returns_unmatched,
            report.collections_changed
        ),
        (2, 1, 2)
    );
    assert_eq!(report.payment_methods_updated, 1, "only R02 blocks");

    let (c1, p1) = fx.get(&r01).await;
    assert_eq!(c1.status, CollectionStatus::Returned);
    assert_eq!(c1.return_code.as_deref(), Some("R01"));
    assert_eq!(c1.status_reason.as_deref(), Some("R01: Insufficient funds"));
    assert!(c1
        .return_trace
        .as_deref()
        .is_some_and(|t| t.len() == 15 && t.starts_with("23138010")));
    assert_eq!(c1.returned_at, Some(micros(now)));
    assert_eq!(p1.status, PaymentMethodStatus::Active);
    let ev = fx.events(c1.id.as_str()).await;
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].event_type, "collection.returned");
    assert_eq!(ev[0].data["object"]["status"], "returned");
    assert_eq!(ev[0].data["object"]["achReturnCode"], "R01");

    let (c2, p2) = fx.get(&r02).await;
    assert_eq!(c2.status, CollectionStatus::Returned);
    assert_eq!(c2.return_code.as_deref(), Some("R02"));
    assert_eq!(p2.status, PaymentMethodStatus::Blocked);
    assert!(p2.status_reason.as_deref().unwrap().contains("R02"));
    let pm_events = fx.events(p2.id.as_str()).await;
    assert_eq!(pm_events.len(), 1);
    assert_eq!(pm_events[0].event_type, "payment_method.updated");
    let object = &pm_events[0].data["object"];
    assert_eq!(object["status"], "blocked");
    assert_eq!(object["usBankAccount"]["last4"], "0102");
    assert!(
        !pm_events[0].data.to_string().contains("9999000102"),
        "the event must not carry the account number"
    );

    // The unknown trace is recorded, unmatched.
    let mut tx = fx.store().read().await.unwrap();
    let rows = tx.ach_returns_of_file(&report.file_id).await.unwrap();
    let unmatched = tx.unmatched_ach_returns(10).await.unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r.id.as_str().starts_with("ret_")));
    assert_eq!(unmatched.len(), 1);
    assert_eq!(unmatched[0].code, "R03");
    assert_eq!(
        unmatched[0].original_trace,
        format!("{:015}", TraceNumberOf::trace(3))
    );
    assert_eq!(unmatched[0].amount, 12_345);

    // The same file again changes nothing.
    let again = ingest_inbound(
        fx.store(),
        &fx.vault,
        &fx.cfg,
        &bytes,
        "returns-again.ach",
        now,
    )
    .await
    .unwrap();
    assert!(again.duplicate);
    assert_eq!(again.file_id, report.file_id);
    assert_eq!(
        again.collections_changed + again.returns_matched + again.returns_unmatched,
        0
    );
    assert_eq!(fx.events(c1.id.as_str()).await.len(), 1);
    assert_eq!(fx.events(p2.id.as_str()).await.len(), 1);
    assert_eq!(fx.get(&r01).await.0, c1);

    // The same returns in another file (different bytes) are not applied twice.
    let mut other = bytes.clone();
    let pos = 29; // file creation time, a field nothing depends on
    other[pos] = if other[pos] == b'0' { b'1' } else { b'0' };
    let third = ingest_inbound(fx.store(), &fx.vault, &fx.cfg, &other, "resent.ach", now)
        .await
        .unwrap();
    assert!(!third.duplicate);
    assert_eq!(third.already_recorded, 3);
    assert_eq!(third.collections_changed, 0);
    assert_eq!(fx.events(c1.id.as_str()).await.len(), 1);
}

async fn a_late_return_after_completion_returns_the_collection(backend: TestBackend) {
    let fx = Fixture::new(backend).await;
    let late = fx
        .collection("9999000210", 7, CollectionStatus::Completed)
        .await;
    let file = outbound(&[(&late.account_number, 7)]);
    let answer = only(sandbox_bank::answer(&file, &fx.cfg).unwrap());
    // good funds (2) + 2 banking days after Monday settlement: Friday.
    assert_eq!(
        answer.deliver_on,
        NaiveDate::from_ymd_opt(2026, 3, 6).unwrap()
    );
    let report = ingest_inbound(
        fx.store(),
        &fx.vault,
        &fx.cfg,
        &answer.file.to_bytes(),
        "late.ach",
        at(answer.deliver_on, 15),
    )
    .await
    .unwrap();
    assert_eq!(report.returns_matched, 1);
    let (c, p) = fx.get(&late).await;
    assert_eq!(c.status, CollectionStatus::Returned);
    assert!(c.completed_at.is_some());
    assert_eq!(
        c.status_reason.as_deref().map(|r| r.starts_with("R10: ")),
        Some(true)
    );
    let statuses: Vec<_> = c.status_history.iter().map(|h| h.status).collect();
    assert_eq!(
        statuses,
        vec![
            CollectionStatus::Submitted,
            CollectionStatus::Completed,
            CollectionStatus::Returned
        ]
    );
    assert_eq!(p.status, PaymentMethodStatus::Blocked, "R10 blocks");
}

async fn nocs_correct_the_saved_payment_method(backend: TestBackend) {
    let fx = Fixture::new(backend).await;
    let mut filed = Vec::new();
    for n in 1..=7u32 {
        filed.push(
            fx.collection(
                &format!("99991000{n:02}"),
                20 + n,
                CollectionStatus::Processing,
            )
            .await,
        );
    }
    let entries: Vec<(&str, u32)> = filed
        .iter()
        .enumerate()
        .map(|(i, f)| (f.account_number.as_str(), 21 + i as u32))
        .collect();
    let answer = only(sandbox_bank::answer(&outbound(&entries), &fx.cfg).unwrap());
    let before: Vec<_> = {
        let mut v = Vec::new();
        for f in &filed {
            v.push(fx.get(f).await.1);
        }
        v
    };
    let report = ingest_inbound(
        fx.store(),
        &fx.vault,
        &fx.cfg,
        &answer.file.to_bytes(),
        "nocs.ach",
        at(answer.deliver_on, 14),
    )
    .await
    .unwrap();
    assert_eq!((report.nocs_matched, report.nocs_unmatched), (7, 0));
    assert_eq!(
        report.payment_methods_updated, 6,
        "all but C04: {report:#?}"
    );

    let open = |p: &BankPaymentMethod| {
        String::from_utf8(
            fx.vault
                .open(&p.account_number_sealed, p.id.as_str())
                .unwrap(),
        )
        .unwrap()
    };
    for (i, f) in filed.iter().enumerate() {
        let code = format!("C{:02}", i + 1);
        let (c, p) = fx.get(f).await;
        let old = &before[i];
        assert_eq!(c.noc_code.as_deref(), Some(code.as_str()));
        assert!(c.noc_corrected_data.is_some());
        assert_eq!(
            c.status,
            CollectionStatus::Processing,
            "a NOC moves no money"
        );
        let new_account = format!("7777{}", &f.account_number[4..]);
        let (account, routing, kind) = match code.as_str() {
            "C01" => (new_account.clone(), RDFI, AccountType::Checking),
            "C02" => (f.account_number.clone(), "021000021", AccountType::Checking),
            "C03" => (new_account.clone(), "021000021", AccountType::Checking),
            "C04" => (f.account_number.clone(), RDFI, AccountType::Checking),
            "C05" => (f.account_number.clone(), RDFI, AccountType::Savings),
            "C06" => (new_account.clone(), RDFI, AccountType::Savings),
            _ => (new_account.clone(), "021000021", AccountType::Savings),
        };
        assert_eq!(open(&p), account, "{code}");
        assert_eq!(p.routing_number.as_string(), routing, "{code}");
        assert_eq!(p.account_type, kind, "{code}");
        assert_eq!(p.account_last4, account[account.len() - 4..], "{code}");
        assert_eq!(
            p.fingerprint,
            fx.vault.fingerprint(&[routing, &account]),
            "{code}"
        );
        let events = fx.events(p.id.as_str()).await;
        if code == "C04" {
            assert_eq!(&p, old, "C04 is recorded only");
            assert!(events.is_empty());
        } else {
            assert_ne!(&p, old);
            assert_eq!(events.len(), 1, "{code}");
            assert_eq!(events[0].event_type, "payment_method.updated");
            assert!(!events[0].data.to_string().contains(&account));
        }
        let ce = fx.events(c.id.as_str()).await;
        assert_eq!(ce.len(), 1);
        assert_eq!(ce[0].event_type, "collection.updated");
        assert_eq!(ce[0].data["object"]["noc"]["code"], code);
        assert_noc_sealed(&fx, &c, &p, &code, &new_account, &ce[0].data).await;
    }
}

/// The NOC's corrected data is kept sealed; the row, the entry log and the
/// event show the new account number only masked, with the fingerprint of
/// the corrected payment method.
async fn assert_noc_sealed(
    fx: &Fixture,
    c: &AchCollection,
    p: &BankPaymentMethod,
    code: &str,
    new_account: &str,
    event: &serde_json::Value,
) {
    let masked = c.noc_corrected_data.as_deref().unwrap();
    let n = c.noc_correction.as_ref().expect("a sealed correction");
    let raw = fx
        .vault
        .open(
            &n.sealed,
            &inflow_core::noc::noc_seal_context(c.id.as_str()),
        )
        .unwrap();
    let raw = String::from_utf8(raw).unwrap();
    let mut tx = fx.store().read().await.unwrap();
    let entries = tx.ach_returns_of_collection(&c.id).await.unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(entries.len(), 1, "{code}");
    let entry = &entries[0];
    assert_eq!(entry.corrected_data.as_deref(), Some(masked), "{code}");
    let context = inflow_core::noc::return_seal_context(entry.id.as_str());
    let opened = fx
        .vault
        .open(entry.corrected_data_sealed.as_deref().unwrap(), &context)
        .unwrap();
    assert_eq!(opened, raw.as_bytes(), "{code}");
    if matches!(code, "C01" | "C03" | "C06" | "C07") {
        assert!(raw.contains(new_account), "{code}: sealed {raw:?}");
        let account = n.account.as_ref().unwrap();
        assert!(
            masked.contains(&format!("****{}", account.last4)),
            "{code}: {masked}"
        );
        assert_eq!(account.fingerprint, p.fingerprint, "{code}");
        assert_eq!(
            event["object"]["noc"]["correction"]["accountNumber"]["fingerprint"],
            p.fingerprint
        );
    } else {
        assert_eq!(masked, raw, "{code} carries no account number");
        assert!(n.account.is_none());
    }
    let stored = serde_json::to_string(n).unwrap();
    for text in [masked, stored.as_str(), &event.to_string()] {
        assert!(!text.contains(new_account), "{code}: {text}");
    }
}

async fn a_file_with_errors_is_rejected_and_changes_nothing(backend: TestBackend) {
    let fx = Fixture::new(backend).await;
    let f = fx
        .collection("9999000101", 1, CollectionStatus::Submitted)
        .await;
    let answer = only(sandbox_bank::answer(&outbound(&[(&f.account_number, 1)]), &fx.cfg).unwrap());
    let text = String::from_utf8(answer.file.to_bytes()).unwrap();
    // Break the batch control's entry hash (line 5: header, batch header, entry, addenda, control).
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    assert!(lines[4].starts_with('8'));
    lines[4].replace_range(10..20, "0000000001");
    let broken = lines.join("\n") + "\n";
    let before = fx.get(&f).await;
    let err = ingest_inbound(
        fx.store(),
        &fx.vault,
        &fx.cfg,
        broken.as_bytes(),
        "bad.ach",
        Utc::now(),
    )
    .await
    .unwrap_err();
    match &err {
        IngestError::Invalid(errors) => {
            assert!(
                errors
                    .iter()
                    .any(|e| e.starts_with("line 5: ") && e.contains("hash")),
                "{errors:?}"
            )
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    let garbage = ingest_inbound(
        fx.store(),
        &fx.vault,
        &fx.cfg,
        b"hello\n",
        "x.ach",
        Utc::now(),
    )
    .await
    .unwrap_err();
    assert!(garbage.is_rejection());
    let mut tx = fx.store().read().await.unwrap();
    let sha = inflow_engine::inbound::content_sha256(broken.as_bytes());
    assert_eq!(tx.inbound_file_by_sha256(&sha).await.unwrap(), None);
    assert!(tx.unmatched_ach_returns(10).await.unwrap().is_empty());
    assert!(tx
        .ach_returns_of_collection(&f.collection)
        .await
        .unwrap()
        .is_empty());
    tx.rollback().await.unwrap();
    assert_eq!(fx.get(&f).await, before);
    assert!(fx.events(f.collection.as_str()).await.is_empty());
}

async fn the_sandbox_bank_delivers_once_and_the_watched_folder_ingests(backend: TestBackend) {
    let fx = Fixture::new(backend).await;
    let r01 = fx
        .collection("9999000101", 1, CollectionStatus::Submitted)
        .await;
    let late = fx
        .collection("9999000210", 2, CollectionStatus::Processing)
        .await;
    let c01 = fx
        .collection("9999100001", 3, CollectionStatus::Submitted)
        .await;
    let stays = fx
        .collection(
            sandbox_bank::STAYS_PROCESSING_ACCOUNT,
            4,
            CollectionStatus::Processing,
        )
        .await;
    std::fs::create_dir_all(&fx.cfg.outbound_dir).unwrap();
    let file = outbound(&[
        (&r01.account_number, 1),
        (&late.account_number, 2),
        (&c01.account_number, 3),
        (&stays.account_number, 4),
    ]);
    std::fs::write(fx.cfg.outbound_dir.join("20260301-A.ach"), &file).unwrap();
    std::fs::write(fx.cfg.outbound_dir.join("notes.txt"), "not a NACHA file").unwrap();

    // Settlement day: nothing yet.
    let written = sandbox_bank::deliver_due(fx.store(), &fx.cfg, at(eed(), 20))
        .await
        .unwrap();
    assert!(written.is_empty());
    // Next banking day (15:00 UTC = 10:00 ET): the R01 and the C01.
    let day1 = NaiveDate::from_ymd_opt(2026, 3, 3).unwrap();
    let written = sandbox_bank::deliver_due(fx.store(), &fx.cfg, at(day1, 15))
        .await
        .unwrap();
    assert_eq!(written.len(), 2, "{written:?}");
    assert!(
        sandbox_bank::deliver_due(fx.store(), &fx.cfg, at(day1, 16))
            .await
            .unwrap()
            .is_empty(),
        "once"
    );

    // Plus a broken file dropped by an operator.
    std::fs::write(fx.cfg.inbound_dir.join("zz-broken.ach"), "101 garbage\n").unwrap();
    let results = ingest_inbound_dir(fx.store(), &fx.vault, &fx.cfg, at(day1, 15))
        .await
        .unwrap();
    assert_eq!(results.len(), 3);
    for r in &results {
        match &r.outcome {
            DirOutcome::Processed { .. } => {
                assert!(r.path.starts_with(fx.cfg.inbound_dir.join("processed")))
            }
            DirOutcome::Rejected { errors } => {
                assert_eq!(r.file_name, "zz-broken.ach");
                assert!(!errors.is_empty());
                let note = fx
                    .cfg
                    .inbound_dir
                    .join("rejected")
                    .join("zz-broken.ach.error.txt");
                assert!(std::fs::read_to_string(note).unwrap().contains("line 1"));
            }
            DirOutcome::Retry { error } => panic!("retry: {error}"),
        }
    }
    assert_eq!(fx.get(&r01).await.0.status, CollectionStatus::Returned);
    assert_eq!(fx.get(&c01).await.0.noc_code.as_deref(), Some("C01"));
    assert_eq!(fx.get(&late).await.0.status, CollectionStatus::Processing);

    // The late R10 after good funds + 2 banking days.
    let day4 = NaiveDate::from_ymd_opt(2026, 3, 6).unwrap();
    let written = sandbox_bank::deliver_due(fx.store(), &fx.cfg, at(day4, 15))
        .await
        .unwrap();
    assert_eq!(written.len(), 1);
    ingest_inbound_dir(fx.store(), &fx.vault, &fx.cfg, at(day4, 15))
        .await
        .unwrap();
    assert_eq!(fx.get(&late).await.0.status, CollectionStatus::Returned);
    assert_eq!(fx.get(&stays).await.0.status, CollectionStatus::Processing);
    assert!(sandbox_bank::holds_in_processing(
        sandbox_bank::STAYS_PROCESSING_ACCOUNT
    ));
    // Months later: still nothing for the account that stays processing.
    let later = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
    assert!(
        sandbox_bank::deliver_due(fx.store(), &fx.cfg, at(later, 15))
            .await
            .unwrap()
            .is_empty()
    );
}

/// Every documented magic account gets its answer; every answer passes our
/// validator in strict mode and `achlens validate`, except for findings
/// achlens 0.1.7 makes on *every* return/NOC file (it knows neither the
/// return/NOC transaction codes 21/26/31/36, nor addenda 98/99 outside its
/// made-up `RET`/`NOC` SEC codes, nor the `COR` SEC code, and so counts a
/// returned debit's amount in neither total). Those findings are checked
/// to be exactly that, line by line; it reports the same on moov-io's
/// reference return and COR files.
#[test]
fn sandbox_answers_validate_strictly_and_with_achlens() {
    let dir = temp_dir();
    let cfg = config(&dir);
    let mut accounts: Vec<(String, &str)> = Vec::new();
    for code in ["01", "02", "03", "04", "07", "10", "16", "20", "29"] {
        accounts.push((format!("99990001{code}"), "return"));
    }
    accounts.push(("9999000210".into(), "late return"));
    for n in 1..=7 {
        accounts.push((format!("99991000{n:02}"), "noc"));
    }
    accounts.push((sandbox_bank::STAYS_PROCESSING_ACCOUNT.into(), "none"));
    let entries: Vec<(&str, u32)> = accounts
        .iter()
        .enumerate()
        .map(|(i, (a, _))| (a.as_str(), i as u32 + 1))
        .collect();
    let out = outbound(&entries);
    let answers = sandbox_bank::answer(&out, &cfg).unwrap();
    assert_eq!(
        answers,
        sandbox_bank::answer(&out, &cfg).unwrap(),
        "deterministic"
    );
    assert_eq!(
        answers.len(),
        3,
        "returns and NOCs next day, the late R10 later"
    );

    // Every magic account is answered once with its code; the last never.
    let mut answered = std::collections::BTreeMap::new();
    for a in &answers {
        let bytes = a.file.to_bytes();
        assert!(nacha::validate(&bytes, &nacha::ValidateOptions::strict()).is_empty());
        let file = nacha::read(&bytes).unwrap();
        for (_, e) in file.entries() {
            let add = &e.addenda[0];
            let code = add
                .return_info()
                .map(|r| r.code_text)
                .or_else(|| add.noc_info().map(|n| n.code_text))
                .unwrap();
            answered.insert(
                e.detail.dfi_account_number().trim().to_owned(),
                (code, a.deliver_on),
            );
        }
    }
    for (account, what) in &accounts {
        let got = answered.get(account);
        match *what {
            "none" => assert!(got.is_none()),
            "noc" => assert_eq!(got.unwrap().0, format!("C{}", &account[8..])),
            _ => assert_eq!(got.unwrap().0, format!("R{}", &account[8..])),
        }
    }

    let found = Command::new("achlens")
        .arg("--help")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        found,
        "\n\n*** achlens is not on PATH. Run scripts/achlens-check.sh (pip install achlens==0.1.7). ***\n\n"
    );
    for a in &answers {
        let path = dir.join(a.file_name());
        let bytes = a.file.to_bytes();
        std::fs::write(&path, &bytes).unwrap();
        let out = Command::new("achlens")
            .arg("validate")
            .arg(&path)
            .output()
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "achlens output: {e}: {}",
                String::from_utf8_lossy(&out.stdout)
            )
        });
        let lines: Vec<&str> = std::str::from_utf8(&bytes).unwrap().lines().collect();
        for f in json["findings"].as_array().unwrap() {
            if f["severity"] != "error" {
                continue;
            }
            let line = lines[f["line_number"].as_u64().unwrap() as usize - 1];
            let rule = f["rule_id"].as_str().unwrap();
            let explained = match rule {
                // Return/NOC transaction codes.
                "ED001" => {
                    line.starts_with('6') && matches!(&line[1..3], "21" | "26" | "31" | "36")
                }
                // Addenda 98/99 outside achlens's RET/NOC pseudo SEC codes.
                "AD001" => line.starts_with("798") || line.starts_with("799"),
                // COR batches.
                "BH004" => line.starts_with('5') && &line[50..53] == "COR",
                // Totals that count returned debits (26/36), which achlens ignores.
                "BC004" | "BC005" | "FC005" | "FC006" => f["expected"] == "0",
                _ => false,
            };
            assert!(
                explained,
                "{}: achlens finding not explained by its lack of return/NOC support: {f}",
                a.key
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
