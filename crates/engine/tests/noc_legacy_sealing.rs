//! NOC corrected data that a version before migration 0012 stored in clear
//! is sealed by the start-up step (`inbound::legacy`), on SQLite and
//! PostgreSQL: the collection row, its events, the inbound entry log and the
//! file summary are rewritten; on SQLite no copy is left in the database
//! file or its write-ahead log. The rows are written here exactly as the
//! old code wrote them (plaintext, sealed columns NULL).

use chrono::{DateTime, NaiveDate, Utc};
use inflow_core::bank::{AccountType, HolderType, RoutingNumber};
use inflow_core::collection::*;
use inflow_core::crypto::{MasterKey, Vault};
use inflow_core::ids::{AccountId, CollectionId, CustomerId, EventId, ReturnId};
use inflow_core::model::*;
use inflow_core::money::{Currency, Money};
use inflow_core::noc::{noc_seal_context, return_seal_context};
use inflow_engine::inbound::legacy::{
    count_plaintext_corrected_data, seal_plaintext_corrected_data, LegacySealReport,
};
use inflow_store::repo::events::Event;
use inflow_store::repo::returns::{AchReturn, InboundFile};
use inflow_store::testing::{on_both_backends, TestBackend, TestDb};
use serde_json::json;

on_both_backends!(plaintext_noc_data_left_by_an_older_version_is_sealed_once);

/// The C01 corrected account number the old rows hold in clear.
const NEW_ACCOUNT: &str = "7777100001";
const ROUTING: &str = "231380104";

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap()
}

fn customer(now: DateTime<Utc>) -> Customer {
    Customer {
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
        card_daily_limit: DEFAULT_CARD_DAILY_LIMIT,
        can_manage_api_keys: false,
        odfi_id: None,
        ach_limits: Default::default(),
        metadata: Metadata::new(),
        created_at: now,
        updated_at: now,
    }
}

fn account(customer: &CustomerId, now: DateTime<Utc>) -> Account {
    Account {
        id: AccountId::generate(now),
        customer_id: customer.clone(),
        name: "Operating".into(),
        currency: Currency::Usd,
        status: AccountStatus::Active,
        external_id: None,
        metadata: Metadata::new(),
        created_at: now,
        updated_at: now,
        odfi_id: None,
    }
}

/// A processing collection on which an old version recorded a C01 in clear.
fn collection_with_plaintext_noc(
    vault: &Vault,
    customer: &CustomerId,
    account: &AccountId,
    now: DateTime<Utc>,
) -> AchCollection {
    let id = CollectionId::generate(now);
    let date = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    AchCollection {
        account_number_sealed: vault.seal(b"9999100001", id.as_str()),
        id,
        customer_id: customer.clone(),
        entry_type: AchEntryType::Debit,
        status: CollectionStatus::Processing,
        status_reason: None,
        status_history: vec![StatusChange {
            status: CollectionStatus::Processing,
            reason: None,
            at: now,
        }],
        amount: Money::usd(12_345).unwrap(),
        destination_account_id: account.clone(),
        payment_method_id: None,
        counterparty_id: None,
        routing_number: RoutingNumber::parse("routingNumber", ROUTING).unwrap(),
        account_last4: "0001".into(),
        account_fingerprint: vault.fingerprint(&[ROUTING, "9999100001"]),
        account_type: AccountType::Checking,
        holder_name: "JANE DOE".into(),
        holder_type: HolderType::Individual,
        sec_code: SecCode::Ppd,
        processing_mode: ProcessingMode::Standard,
        payment_type: None,
        effective_date: date,
        release_date: date,
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
        trace_number: Some("121042880000021".into()),
        file_id: None,
        return_code: None,
        return_trace: None,
        noc_code: Some("C01".into()),
        noc_corrected_data: Some(NEW_ACCOUNT.into()),
        noc_correction: None,
        created_at: now,
        updated_at: now,
        submitted_at: Some(now),
        completed_at: None,
        returned_at: None,
        hold: None,
        schedule: None,
        fees: Default::default(),
    }
}

/// What an old version wrote for one C01: the collection, its
/// `collection.updated` event, the inbound file (its summary quoting the
/// data in a warning) and the entry.
async fn write_old_rows(db: &TestDb, vault: &Vault) -> (CollectionId, ReturnId, String) {
    let now = now();
    let customer = customer(now);
    let account = account(&customer.id, now);
    let c = collection_with_plaintext_noc(vault, &customer.id, &account.id, now);
    let old_view = json!({"object": {"id": c.id.as_str(), "object": "collection", "noc": {
        "code": "C01", "description": "Incorrect DFI account number", "correctedData": NEW_ACCOUNT}}});
    let file = InboundFile {
        id: format!("fil_{}", inflow_core::ids::new_id_body(now)),
        status: "processed".into(),
        file_name: "noc.ach".into(),
        creation_date: c.effective_date,
        batch_count: 1,
        entry_count: 1,
        total_debit: 0,
        total_credit: 0,
        sha256: "00".repeat(32),
        summary: Some(
            json!({"warnings": [format!("line 3: NOC C01 corrected data {NEW_ACCOUNT:?} could not be parsed; payment method pm_1 not corrected")]})
                .to_string(),
        ),
        created_at: now,
    };
    let entry = AchReturn {
        id: ReturnId::generate(now),
        inbound_file_id: file.id.clone(),
        kind: "noc".into(),
        code: "C01".into(),
        original_trace: "121042880000021".into(),
        entry_trace: "231380100000001".into(),
        amount: 0,
        corrected_data: Some(NEW_ACCOUNT.into()),
        corrected_data_sealed: None,
        collection_id: Some(c.id.clone()),
        matched: true,
        created_at: now,
    };
    let mut tx = db.store.begin().await.unwrap();
    tx.insert_customer(&customer).await.unwrap();
    tx.insert_account(&account).await.unwrap();
    tx.insert_ach_collection(&c).await.unwrap();
    for (kind, data) in [
        (
            "collection.created",
            json!({"object": {"id": c.id.as_str(), "noc": null}}),
        ),
        ("collection.updated", old_view),
    ] {
        tx.insert_event(&Event {
            id: EventId::generate(now),
            customer_id: Some(customer.id.clone()),
            event_type: kind.into(),
            object_id: c.id.to_string(),
            data,
            created_at: now,
        })
        .await
        .unwrap();
    }
    assert!(tx.insert_inbound_file(&file).await.unwrap());
    assert!(tx.insert_ach_return(&entry).await.unwrap());
    tx.commit().await.unwrap();
    (c.id, entry.id, file.id)
}

/// The bytes of an SQLite database and its `-wal`/`-shm` files.
fn sqlite_bytes(url: &str) -> Vec<u8> {
    let path = url.trim_start_matches("sqlite://");
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|s| std::fs::read(format!("{path}{s}")).ok())
        .flatten()
        .collect()
}

fn holds(bytes: &[u8], needle: &str) -> bool {
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

async fn plaintext_noc_data_left_by_an_older_version_is_sealed_once(backend: TestBackend) {
    let db = TestDb::new(backend).await;
    let vault = Vault::new(&MasterKey::generate());
    let (collection, entry, file) = write_old_rows(&db, &vault).await;
    if backend == TestBackend::Sqlite {
        assert!(
            holds(&sqlite_bytes(&db.url), NEW_ACCOUNT),
            "the old rows are in the database files"
        );
    }
    assert_eq!(count_plaintext_corrected_data(&db.store).await.unwrap(), 2);

    let report = seal_plaintext_corrected_data(&db.store, &vault)
        .await
        .unwrap();
    assert_eq!(
        report,
        LegacySealReport {
            collections: 1,
            events: 1,
            returns: 1,
            file_summaries: 1
        }
    );

    let mut tx = db.store.read().await.unwrap();
    let c = tx.get_ach_collection(None, &collection).await.unwrap();
    let entries = tx.ach_returns_of_collection(&collection).await.unwrap();
    let events = tx.events_for_object(collection.as_str()).await.unwrap();
    let summary = tx.inbound_file_summary(&file).await.unwrap().unwrap();
    tx.rollback().await.unwrap();

    assert_eq!(c.noc_corrected_data.as_deref(), Some("****0001"));
    let n = c.noc_correction.as_ref().unwrap();
    assert_eq!(
        vault
            .open(&n.sealed, &noc_seal_context(c.id.as_str()))
            .unwrap(),
        NEW_ACCOUNT.as_bytes()
    );
    let masked = n.account.as_ref().unwrap();
    assert_eq!(masked.last4, "0001");
    assert_eq!(
        masked.fingerprint,
        vault.fingerprint(&[ROUTING, NEW_ACCOUNT])
    );

    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].id, entry);
    assert_eq!(entries[0].corrected_data.as_deref(), Some("****0001"));
    let sealed = entries[0].corrected_data_sealed.as_deref().unwrap();
    let opened = vault.open(sealed, &return_seal_context(entry.as_str()));
    assert_eq!(opened.unwrap(), NEW_ACCOUNT.as_bytes());

    let updated = &events[1].data["object"]["noc"];
    assert_eq!(updated["correctedData"], "****0001", "{updated}");
    assert_eq!(updated["correction"]["accountNumber"]["masked"], "****0001");
    assert_eq!(events[0].data["object"]["noc"], serde_json::Value::Null);
    for text in events
        .iter()
        .map(|e| e.data.to_string())
        .chain([summary.clone()])
    {
        assert!(!text.contains(NEW_ACCOUNT), "{text}");
    }
    assert!(summary.contains("****0001"), "{summary}");
    if backend == TestBackend::Sqlite {
        assert!(
            !holds(&sqlite_bytes(&db.url), NEW_ACCOUNT),
            "an old copy is left in the SQLite files"
        );
    }

    // Idempotent: the next start finds nothing to do.
    assert_eq!(count_plaintext_corrected_data(&db.store).await.unwrap(), 0);
    let again = seal_plaintext_corrected_data(&db.store, &vault)
        .await
        .unwrap();
    assert_eq!(again, LegacySealReport::default());
}
