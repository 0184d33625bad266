//! The store's behaviour, proven identically on SQLite and PostgreSQL.

use chrono::{Duration, Utc};
use inflow_core::bank::{AccountNumber, AccountType, HolderType, RoutingNumber};
use inflow_core::crypto::{MasterKey, Vault};
use inflow_core::ids::{AccountId, CustomerId, PaymentMethodId};
use inflow_core::model::*;
use inflow_core::money::Currency;
use inflow_store::repo::payment_methods::PaymentMethodFilter;
use inflow_store::testing::{on_both_backends, TestBackend, TestDb};
use inflow_store::{ListQuery, StoreError};

#[path = "store_suite/schema_catalogue.rs"]
mod schema_catalogue;
#[path = "store_suite/schema_parity.rs"]
mod schema_parity;

on_both_backends!(
    customers_round_trip_every_field,
    objects_of_one_customer_are_invisible_to_another,
    pagination_walks_newest_first_without_gaps_or_repeats,
    external_ids_are_unique_per_customer_only,
    idempotency_records_are_found_until_they_expire,
    a_second_record_for_the_same_key_is_refused,
    the_idempotency_lock_admits_one_transaction_at_a_time,
    an_idempotency_record_commits_or_vanishes_with_its_effect,
    expired_idempotency_keys_are_purged,
    a_signature_is_remembered_once_and_forgotten_after_it_expires,
    rolled_back_transactions_leave_nothing_behind,
);

fn customer(name: &str) -> Customer {
    let now = Utc::now();
    let mut metadata = Metadata::new();
    metadata.insert("tier".into(), "gold".into());
    Customer {
        id: CustomerId::generate(now),
        name: name.into(),
        kind: CustomerKind::Business,
        email: Some("ops@example.com".into()),
        status: CustomerStatus::Active,
        allow_one_time_source: true,
        require_signed_requests: false,
        ach_company_name: Some("ACME".into()),
        ach_company_id: Some("1234567890".into()),
        allowed_company_names: Vec::new(),
        ach_policy: Default::default(),
        card_daily_limit: inflow_core::model::DEFAULT_CARD_DAILY_LIMIT,
        ach_limits: Default::default(),
        can_manage_api_keys: true,
        odfi_id: None,
        metadata,
        created_at: DateTimeMicros::trunc(now),
        updated_at: DateTimeMicros::trunc(now),
    }
}

/// Timestamps are stored with microsecond precision.
struct DateTimeMicros;
impl DateTimeMicros {
    fn trunc(t: chrono::DateTime<Utc>) -> chrono::DateTime<Utc> {
        chrono::DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap()
    }
}

fn bank_pm(customer: &CustomerId, vault: &Vault, external_id: Option<&str>) -> BankPaymentMethod {
    let now = DateTimeMicros::trunc(Utc::now());
    let id = PaymentMethodId::generate(now);
    let number = AccountNumber::parse("accountNumber", "000123456789").unwrap();
    let routing = RoutingNumber::parse("routingNumber", "121042882").unwrap();
    BankPaymentMethod {
        account_number_sealed: vault.seal(number.expose().as_bytes(), id.as_str()),
        fingerprint: vault.fingerprint(&[&routing.as_string(), number.expose()]),
        id,
        customer_id: customer.clone(),
        counterparty_id: None,
        status: PaymentMethodStatus::Active,
        status_reason: None,
        external_id: external_id.map(str::to_owned),
        routing_number: routing,
        account_last4: number.last4(),
        account_type: AccountType::Checking,
        holder_name: "Jane Doe".into(),
        holder_type: HolderType::Individual,
        validation: Default::default(),
        metadata: Metadata::new(),
        created_at: now,
        updated_at: now,
    }
}

async fn customers_round_trip_every_field(backend: TestBackend) {
    let db = TestDb::new(backend).await;
    let c = customer("Acme");
    let mut tx = db.store.begin().await.unwrap();
    tx.insert_customer(&c).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = db.store.read().await.unwrap();
    assert_eq!(tx.get_customer(&c.id).await.unwrap(), c);
    let missing = CustomerId::generate(Utc::now());
    assert!(matches!(
        tx.get_customer(&missing).await,
        Err(StoreError::NotFound)
    ));
}

async fn objects_of_one_customer_are_invisible_to_another(backend: TestBackend) {
    let db = TestDb::new(backend).await;
    let vault = Vault::new(&MasterKey::generate());
    let (a, b) = (customer("A"), customer("B"));
    let mut tx = db.store.begin().await.unwrap();
    tx.insert_customer(&a).await.unwrap();
    tx.insert_customer(&b).await.unwrap();
    let pm = bank_pm(&a.id, &vault, None);
    tx.insert_bank_payment_method(&pm).await.unwrap();
    let now = DateTimeMicros::trunc(Utc::now());
    let acc = Account {
        id: AccountId::generate(now),
        customer_id: a.id.clone(),
        name: "Main".into(),
        currency: Currency::Usd,
        status: AccountStatus::Active,
        external_id: None,
        metadata: Metadata::new(),
        created_at: now,
        updated_at: now,
        odfi_id: None,
    };
    tx.insert_account(&acc).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = db.store.read().await.unwrap();
    assert_eq!(tx.get_bank_payment_method(&a.id, &pm.id).await.unwrap(), pm);
    assert!(matches!(
        tx.get_bank_payment_method(&b.id, &pm.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        tx.get_account(&b.id, &acc.id).await,
        Err(StoreError::NotFound)
    ));
    let q = ListQuery::first(10);
    assert!(tx
        .list_bank_payment_methods(&b.id, &PaymentMethodFilter::default(), &q)
        .await
        .unwrap()
        .data
        .is_empty());
    assert_eq!(tx.list_accounts(&a.id, &q).await.unwrap().data, vec![acc]);
}

async fn pagination_walks_newest_first_without_gaps_or_repeats(backend: TestBackend) {
    let db = TestDb::new(backend).await;
    let mut made = Vec::new();
    let mut tx = db.store.begin().await.unwrap();
    for i in 0..7 {
        let c = customer(&format!("C{i}"));
        tx.insert_customer(&c).await.unwrap();
        made.push(c.id);
    }
    tx.commit().await.unwrap();
    made.reverse();

    let mut seen = Vec::new();
    let mut q = ListQuery::first(3);
    loop {
        let mut tx = db.store.read().await.unwrap();
        let page = tx.list_customers(&q).await.unwrap();
        seen.extend(page.data.iter().map(|c| c.id.clone()));
        if !page.has_more {
            break;
        }
        q.starting_after = page.data.last().unwrap().id.to_string();
    }
    assert_eq!(seen, made);
}

async fn external_ids_are_unique_per_customer_only(backend: TestBackend) {
    let db = TestDb::new(backend).await;
    let vault = Vault::new(&MasterKey::generate());
    let (a, b) = (customer("A"), customer("B"));
    let mut tx = db.store.begin().await.unwrap();
    tx.insert_customer(&a).await.unwrap();
    tx.insert_customer(&b).await.unwrap();
    tx.insert_bank_payment_method(&bank_pm(&a.id, &vault, Some("ext-1")))
        .await
        .unwrap();
    tx.insert_bank_payment_method(&bank_pm(&b.id, &vault, Some("ext-1")))
        .await
        .unwrap();
    tx.insert_bank_payment_method(&bank_pm(&a.id, &vault, None))
        .await
        .unwrap();
    tx.insert_bank_payment_method(&bank_pm(&a.id, &vault, None))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = db.store.begin().await.unwrap();
    let err = tx
        .insert_bank_payment_method(&bank_pm(&a.id, &vault, Some("ext-1")))
        .await
        .unwrap_err();
    assert!(err.is_conflict(), "{err:?}");
}

async fn idempotency_records_are_found_until_they_expire(backend: TestBackend) {
    let db = TestDb::new(backend).await;
    let t0 = Utc::now();
    let mut tx = db.store.begin().await.unwrap();
    assert!(tx
        .find_idempotency_record("cus_x", "k1", t0)
        .await
        .unwrap()
        .is_none());
    tx.insert_idempotency_record(
        "cus_x",
        "k1",
        b"h1",
        201,
        "{\"id\":1}",
        t0,
        t0 + Duration::hours(24),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let mut tx = db.store.read().await.unwrap();
    let rec = tx
        .find_idempotency_record("cus_x", "k1", t0 + Duration::hours(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            rec.request_hash.as_slice(),
            rec.response_status,
            rec.response_body.as_str()
        ),
        (&b"h1"[..], 201, "{\"id\":1}")
    );
    // Keys are scoped.
    assert!(tx
        .find_idempotency_record("cus_y", "k1", t0)
        .await
        .unwrap()
        .is_none());
    // Expired records are invisible and the key can be used afresh.
    assert!(tx
        .find_idempotency_record("cus_x", "k1", t0 + Duration::hours(25))
        .await
        .unwrap()
        .is_none());
    drop(tx);
    let mut tx = db.store.begin().await.unwrap();
    let later = t0 + Duration::hours(25);
    tx.insert_idempotency_record(
        "cus_x",
        "k1",
        b"h2",
        200,
        "{}",
        later,
        later + Duration::hours(24),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

async fn a_second_record_for_the_same_key_is_refused(backend: TestBackend) {
    let db = TestDb::new(backend).await;
    let t0 = Utc::now();
    let mut tx = db.store.begin().await.unwrap();
    tx.insert_idempotency_record("s", "k", b"h", 200, "{}", t0, t0 + Duration::hours(1))
        .await
        .unwrap();
    let err = tx
        .insert_idempotency_record("s", "k", b"h", 200, "{}", t0, t0 + Duration::hours(1))
        .await
        .unwrap_err();
    assert!(err.is_conflict(), "{err:?}");
}

async fn the_idempotency_lock_admits_one_transaction_at_a_time(backend: TestBackend) {
    let db = TestDb::new(backend).await;
    let mut first = db.store.begin().await.unwrap();
    assert!(first.try_lock_idempotency_key("s", "k").await.unwrap());
    if backend == TestBackend::Postgres {
        // SQLite cannot even open a second write transaction meanwhile (BEGIN IMMEDIATE).
        let mut second = db.store.begin().await.unwrap();
        assert!(
            !second.try_lock_idempotency_key("s", "k").await.unwrap(),
            "the key is busy"
        );
        assert!(
            second.try_lock_idempotency_key("s", "other").await.unwrap(),
            "other keys are free"
        );
        drop(second);
    }
    first.commit().await.unwrap();
    let mut third = db.store.begin().await.unwrap();
    assert!(
        third.try_lock_idempotency_key("s", "k").await.unwrap(),
        "released at commit"
    );
}

async fn an_idempotency_record_commits_or_vanishes_with_its_effect(backend: TestBackend) {
    let db = TestDb::new(backend).await;
    let t0 = Utc::now();
    let c = customer("Effect");
    let mut tx = db.store.begin().await.unwrap();
    tx.insert_customer(&c).await.unwrap();
    tx.insert_idempotency_record("s", "k", b"h", 201, "{}", t0, t0 + Duration::hours(1))
        .await
        .unwrap();
    drop(tx);
    let mut tx = db.store.read().await.unwrap();
    assert!(tx
        .find_idempotency_record("s", "k", t0)
        .await
        .unwrap()
        .is_none());
    assert!(matches!(
        tx.get_customer(&c.id).await,
        Err(StoreError::NotFound)
    ));
}

async fn expired_idempotency_keys_are_purged(backend: TestBackend) {
    let db = TestDb::new(backend).await;
    let t0 = Utc::now();
    let mut tx = db.store.begin().await.unwrap();
    tx.insert_idempotency_record("s", "a", b"h", 200, "{}", t0, t0 + Duration::hours(1))
        .await
        .unwrap();
    tx.insert_idempotency_record("s", "b", b"h", 200, "{}", t0, t0 + Duration::hours(3))
        .await
        .unwrap();
    assert_eq!(
        tx.purge_expired_idempotency_keys(t0 + Duration::hours(2))
            .await
            .unwrap(),
        1
    );
    assert!(tx
        .find_idempotency_record("s", "b", t0 + Duration::hours(2))
        .await
        .unwrap()
        .is_some());
}

async fn a_signature_is_remembered_once_and_forgotten_after_it_expires(backend: TestBackend) {
    let db = TestDb::new(backend).await;
    let t0 = Utc::now();
    let store = &db.store;
    assert!(store.remember_signature(b"sig-a", t0).await.unwrap());
    assert!(!store.remember_signature(b"sig-a", t0).await.unwrap());
    assert!(store
        .remember_signature(b"sig-b", t0 + Duration::minutes(10))
        .await
        .unwrap());
    assert_eq!(
        store
            .purge_seen_signatures(t0 + Duration::minutes(5))
            .await
            .unwrap(),
        1
    );
    assert!(!store
        .remember_signature(b"sig-b", t0 + Duration::minutes(10))
        .await
        .unwrap());
    // Concurrent inserts of one digest: exactly one wins.
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.remember_signature(b"sig-c", t0).await.unwrap() })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        won += usize::from(t.await.unwrap());
    }
    assert_eq!(won, 1);
}

async fn rolled_back_transactions_leave_nothing_behind(backend: TestBackend) {
    let db = TestDb::new(backend).await;
    let c = customer("Ghost");
    let mut tx = db.store.begin().await.unwrap();
    tx.insert_customer(&c).await.unwrap();
    drop(tx);
    let mut tx = db.store.read().await.unwrap();
    assert!(matches!(
        tx.get_customer(&c.id).await,
        Err(StoreError::NotFound)
    ));
}

/// During a rolling upgrade, nodes of the previous release lock card charges
/// in the job-lease key space (seed 7002); this release uses its own (7004)
/// and, for one release, the old one as well — so both exclude each other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn card_charges_hold_the_previous_release_lock_key_too() {
    use sqlx::Connection;
    let db = TestDb::new(TestBackend::Postgres).await;
    let customer = CustomerId::generate(Utc::now());
    let key = format!("{customer}\u{1f}fp_1");
    let mut other = sqlx::PgConnection::connect(&db.url).await.expect("connect");
    let try_lock = |seed: i64| {
        sqlx::query_scalar::<_, bool>("SELECT pg_try_advisory_xact_lock(hashtextextended($1, $2))")
            .bind(key.clone())
            .bind(seed)
    };
    let mut tx = db.store.begin().await.expect("begin");
    tx.lock_card(&customer, "fp_1").await.expect("lock");
    for seed in [7002, 7004] {
        let got = try_lock(seed).fetch_one(&mut other).await.expect("try");
        assert!(!got, "a charge in flight must hold the key of seed {seed}");
    }
    tx.rollback().await.expect("rollback");
    for seed in [7002, 7004] {
        let got = try_lock(seed).fetch_one(&mut other).await.expect("try");
        assert!(got, "the key of seed {seed} is free once the charge ends");
    }
}
